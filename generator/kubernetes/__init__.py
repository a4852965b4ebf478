"""Backend: the Kubernetes objects (PrometheusRule, OpenTelemetryCollector, dashboard ConfigMaps) and the kustomize base and overlays."""
