"""The ORM models and the Alembic migrations describe the same schema: autogenerate, run
against a database the migrations built, finds nothing to add, drop or change."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from segport.metadata import Base, create_metadata_engine, include_name, upgrade

# Every module that declares tables on Base (importing them fills Base.metadata).
MODEL_MODULES = (
    "segport.profiles.models",
    "segport.segments.models",
    "segport.service.models",
    "segport.service.runs",
    "segport.service.schedule_model",
    "segport.service.alert_model",
    "segport.service.worker_model",
    "segport.service.web_session_model",
    "segport.service.state_copy_model",
)


def _differences(url: str) -> list[object]:
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(name)
    engine = create_metadata_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            # compare_type and server defaults are compared too (Alembic's defaults).
            # procrastinate's tables (PostgreSQL, migration 0014) are not the models'.
            context = MigrationContext.configure(conn, opts={"include_name": include_name})
            diff: list[object] = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    return diff


def test_models_match_the_migrations_on_sqlite(tmp_path: Path) -> None:
    assert _differences(f"sqlite:///{tmp_path / 'metadata.db'}") == []


@pytest.mark.postgres  # (pg_database marks it too; said here for the reader)
def test_models_match_the_migrations_on_postgresql(pg_database: str) -> None:
    assert _differences(pg_database) == []
