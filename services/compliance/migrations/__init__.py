"""Schema migrations of the compliance read model (alembic, configured in code).

``await migrate(database_url)`` brings the live tables to head. Alembic records the revision
in ``compliance_alembic_version``, so the services that share one database each keep their own
history. No ``alembic.ini`` is needed; to start a new revision file::

    python -c "from alembic import command; from jianfu.compliance.migrations import alembic_config; \\
               command.revision(alembic_config(), 'what changed')"

Replicas starting together are serialised by a transaction-level advisory lock on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from jianfu.compliance.database import is_postgres, lock_key, make_engine

VERSION_TABLE = "compliance_alembic_version"
HERE = Path(__file__).parent


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: sa.Connection) -> None:
    if is_postgres(connection):
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(VERSION_TABLE))))
    command.upgrade(alembic_config(connection), "head")


async def migrate(database_url: str) -> None:
    """Upgrade the compliance schema at ``database_url`` to the latest revision."""
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
    finally:
        await engine.dispose()
