"""Backend: OpenTelemetry Collector configuration per environment, the builder manifest, the redaction policy."""
