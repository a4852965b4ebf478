"""Backend: one runbook per alert, from Jinja2 templates a project can override."""
