"""Checks on the rendered output: the real tools before any write (verify), the policy gates, the metric contract, the dashboard lint, the review summary."""
