"""Migration 0015: procrastinate's schema is installed on PostgreSQL metadata (and only
there), and a downgrade drops every table, function and type it made."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Engine, inspect

from segport.metadata import create_metadata_engine, upgrade
from segport.metadata.db import _config, migrating

OBJECTS = """
SELECT 'table', tablename FROM pg_tables WHERE schemaname = current_schema()
UNION ALL SELECT 'function', proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = current_schema()
UNION ALL SELECT 'type', typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'c')
"""


def _procrastinate_objects(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(OBJECTS).all()
    return {(kind, name) for kind, name in rows if name.startswith("procrastinate")}


def _downgrade(engine: Engine, to: str) -> None:
    cfg = _config()
    with migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, to)


def test_the_job_queue_schema_comes_and_goes_on_postgresql(pg_database: str) -> None:
    engine = create_metadata_engine(pg_database)
    try:
        upgrade(engine)
        made = _procrastinate_objects(engine)
        assert {("table", "procrastinate_jobs"), ("table", "procrastinate_workers")} <= made
        assert ("function", "procrastinate_fetch_job_v2") in made
        assert ("type", "procrastinate_job_status") in made
        _downgrade(engine, "0014")
        assert _procrastinate_objects(engine) == set()
        assert "runs" in inspect(engine).get_table_names()  # segport's own are untouched
        upgrade(engine)
        assert _procrastinate_objects(engine) == made
    finally:
        engine.dispose()


def test_sqlite_metadata_has_no_job_queue(tmp_path: Path) -> None:
    engine = create_metadata_engine(f"sqlite:///{tmp_path / 'metadata.db'}")
    try:
        upgrade(engine)
        names = inspect(engine).get_table_names()
        assert "runs" in names and not [n for n in names if n.startswith("procrastinate")]
        _downgrade(engine, "0014")  # nothing to drop
    finally:
        engine.dispose()
