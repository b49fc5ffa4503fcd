"""The peer library's side of ``peer_append_new`` and ``peer_append_existing``: pyeventsourcing
(``eventsourcing``, PostgreSQL store, no snapshots) doing the store figures' work — save a new
aggregate's first event; load an aggregate of 200 events, decide, save one more. It is
synchronous, so it runs in a thread of its own."""

from __future__ import annotations

import statistics
import time
from importlib.metadata import version as installed

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

HISTORY = 200


class Escalation(Aggregate):
    """The peer's counterpart of the store figures' escalation aggregate: reminders issued."""

    @event("Opened")
    def __init__(self, summary: str) -> None:
        self.reminders = [summary]

    @event("ReminderIssued")
    def remind(self, violation_id: str, summary: str) -> None:
        self.reminders.append(f"{violation_id}: {summary}")


class Escalations(Application):
    pass


def application(database: str) -> Escalations:
    return Escalations(env={
        "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": database,
        "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432", "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "postgres", "CREATE_TABLE": "y"})


def version() -> str:
    return installed("eventsourcing")


def _median_rate(operations: int, run, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return operations / statistics.median(times)


def rates(database: str, appends: int, updates: int) -> tuple[float, float]:
    """(new aggregates per second, load-decide-save per second on an aggregate of 200 events)."""
    app = application(database)
    try:
        def new_aggregates():
            for n in range(appends):
                app.save(Escalation(summary=f"reminder {n}"))

        existing = Escalation(summary="reminder 0")
        for n in range(1, HISTORY):
            existing.remind(f"v-{n}", f"reminder {n}")
        app.save(existing)

        def load_decide_save():
            for n in range(updates):
                escalation = app.repository.get(existing.id)
                escalation.remind(f"v-{HISTORY + n}", f"reminder {HISTORY + n}")
                app.save(escalation)

        return _median_rate(appends, new_aggregates), _median_rate(updates, load_decide_save)
    finally:
        app.close()
