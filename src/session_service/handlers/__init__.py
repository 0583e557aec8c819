"""Thin Lambda entry points, one per WebSocket route plus the authorizer."""
