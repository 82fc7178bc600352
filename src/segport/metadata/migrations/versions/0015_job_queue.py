"""The job queue of workers on many machines (issue 12): procrastinate's schema, on
PostgreSQL only.

On a PostgreSQL metadata database, `segport worker` processes on any number of machines
share the runs through procrastinate (service/job_queue.py, docs/worker.md): its tables
(``procrastinate_jobs``, ``procrastinate_workers``, ``procrastinate_events``,
``procrastinate_periodic_defers``), types and functions live beside segport's. They are
procrastinate's own schema SQL for the pinned version (``SchemaManager.get_schema()``), so
the queue behaves exactly as procrastinate is tested; a later procrastinate release comes
with a migration of ours that applies its migration scripts. On SQLite this migration does
nothing: there the worker is one process and needs no queue.

The models do not declare these tables: ``segport.metadata.db.include_name`` keeps them out
of autogenerate's comparison.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PREFIX = "procrastinate_"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # The driver's own execute, without parameters: the script has several statements and
    # '%' signs that a parameterised execute would read as placeholders.
    bind.connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # What the schema made, found by name: its tables (their triggers go with them), then
    # its functions and types.
    for table in ("procrastinate_periodic_defers", "procrastinate_events", "procrastinate_jobs"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP TABLE IF EXISTS procrastinate_workers CASCADE")
    functions = bind.exec_driver_sql(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%%'"
    ).fetchall()
    for (signature,) in functions:
        op.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    types = bind.exec_driver_sql(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%%' "
        "AND t.typtype IN ('e', 'c')"
    ).fetchall()
    for (name,) in types:
        op.execute(f"DROP TYPE IF EXISTS {name} CASCADE")
