"""The service's logic: one module per flow, called by the thin handlers."""
