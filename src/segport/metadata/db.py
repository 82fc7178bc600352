"""Engine creation and Alembic migrations for the metadata database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Engine, MetaData, String, Table, Text, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

from segport.errors import Conflict

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL, Connection

MIGRATIONS = Path(__file__).with_name("migrations")

# The newest migration. Every command opens the workspace, so an up-to-date database is
# recognised with one query instead of importing Alembic and reading every migration
# file (a test keeps this equal to the head of migrations/versions).
HEAD_REVISION = "0017"

# Stable constraint names, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Facts about the workspace itself, key -> value (migration 0001); the services read and
# write it with plain SQL, and it is declared here so the metadata matches the migrations.
workspace_info = Table(
    "workspace_info",
    Base.metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


class MetadataError(Conflict):
    """The metadata database cannot be used as it is."""

    default_code = "metadata_unusable"


class WorkspaceTooNew(MetadataError):
    """The workspace was written by a newer segport than this one."""

    default_code = "workspace_too_new"


# Tables of the metadata database that no model declares: procrastinate's job queue
# (migration 0015, PostgreSQL only), whose schema is procrastinate's own SQL.
FOREIGN_TABLE_PREFIX = "procrastinate_"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name`` hook: leave procrastinate's tables (and their indexes)
    out of autogenerate's comparison with the models."""
    if type_ == "table" and name is not None and name.startswith(FOREIGN_TABLE_PREFIX):
        return False
    table = parent_names.get("table_name") if isinstance(parent_names, dict) else None
    return not (table or "").startswith(FOREIGN_TABLE_PREFIX)


def normalise_url(url: str) -> str:
    """Accept the URLs users type (``postgresql://``) and pick our drivers for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def create_metadata_engine(url: str | URL) -> Engine:
    """An engine for a ``sqlite:///path`` or ``postgresql://`` metadata database (a URL
    object for SQLite files: the workspace builds those from a path)."""
    from sqlalchemy.engine import make_url

    if isinstance(url, str):
        url = make_url(normalise_url(url))
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_engine(url, future=True, pool_pre_ping=True, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Refuse a database written by a newer segport; a known older one is fine to upgrade."""
    from alembic.script import ScriptDirectory

    current = current_revision(engine)
    if current is None:
        return
    script = ScriptDirectory.from_config(_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise WorkspaceTooNew(
            f"this workspace's metadata schema is at revision {current!r}, which this segport "
            f"does not know (newest known: {head_revision()!r}); it was written by a newer "
            "segport: upgrade segport to open it"
        )


def _stored_revision(engine: Engine) -> str | None:
    """The revision recorded in the database, read without Alembic (None: not recorded)."""
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except DBAPIError:  # no alembic_version table yet: a new database
        return None
    return str(row[0]) if row is not None else None


_UNKNOWN = "?"


def upgrade(engine: Engine, stored: str | None = _UNKNOWN) -> None:
    """Run every migration the database has not had yet (``stored``: its revision, when the
    caller has just read it)."""
    if (_stored_revision(engine) if stored == _UNKNOWN else stored) == HEAD_REVISION:
        return
    from alembic import command

    check_schema(engine)
    cfg = _config()
    with migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction to migrate in. On SQLite, foreign keys are off meanwhile and
    checked at the end: batch mode rebuilds a table (copy, drop, rename), and dropping a
    parent table with them on would delete its children's rows (ON DELETE CASCADE), such
    as every run of every export when ``exports`` is rebuilt."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:  # a PRAGMA outside any transaction, or SQLite ignores it
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"a migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
