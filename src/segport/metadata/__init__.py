"""The metadata database: segments, users, connections, exports, runs and their state.

SQLite in the workspace by default, PostgreSQL when the workspace is made with a
``postgresql://`` URL. The schema is owned by Alembic migrations in ``migrations/versions``;
each feature declares its tables on :class:`Base` in its own ``models`` module.
"""

from segport.metadata.db import (
    Base,
    MetadataError,
    WorkspaceTooNew,
    check_schema,
    create_metadata_engine,
    current_revision,
    head_revision,
    include_name,
    upgrade,
)

__all__ = [
    "Base",
    "MetadataError",
    "WorkspaceTooNew",
    "check_schema",
    "create_metadata_engine",
    "current_revision",
    "head_revision",
    "include_name",
    "upgrade",
]
