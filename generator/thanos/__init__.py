"""The Thanos target: an environment's SLO rules split between its Prometheus shards and a Thanos Ruler."""
