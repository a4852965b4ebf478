"""Backend: Alertmanager routing and inhibition per environment."""
