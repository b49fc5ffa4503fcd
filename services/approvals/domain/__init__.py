"""Decisions as pure aggregates: given the events so far and a request, the event to record."""
