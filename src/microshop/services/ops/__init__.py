"""The ops console at /ops and the keeper of the last traces (OTLP/HTTP receiver)."""
