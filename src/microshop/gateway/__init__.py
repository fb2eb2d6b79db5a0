"""The edge gateway: one routing table rendered into Envoy configuration."""
