"""Backend: Prometheus rule files, the generated promtool tests, and the window simulator that predicts them."""
