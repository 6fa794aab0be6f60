"""Connectors: one module per app, each declaring what differs from the shared HTTP layer."""
