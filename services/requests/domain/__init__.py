"""Intake rules: pure functions from a command and the facts it needs to the event to record."""
