"""Alembic environment: always handed a connection by ``migrate`` (online mode only)."""

from __future__ import annotations

from alembic import context
from jianfu.compliance.migrations import VERSION_TABLE
from jianfu.compliance.read_model import LIVE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through jianfu.compliance.migrations.migrate(database_url)")

context.configure(
    connection=connection,
    target_metadata=LIVE.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=lambda name, type_, _parent: type_ != "table" or name.startswith("compliance_"),
)
with context.begin_transaction():
    context.run_migrations()
