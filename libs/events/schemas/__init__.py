"""Versioned pydantic v2 schemas of every command and event, one module per policy area."""
