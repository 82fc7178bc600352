"""Every table an export state can hold, declared once: its name, what it holds, its shape.

The state (:mod:`segport.exports.state`) is one DuckDB file per export, with an in-memory
database attached as ``scratch`` for what one run computes and throws away, and DuckDB's
``temp`` schema for the intermediate steps of one statement group. Every module of the
engine refers to these tables by the names below, and a table of fixed shape is created
only from its declared columns (:func:`create`); tables whose columns follow the export's
mapping (the prepared contacts, ``cur``, the plans) are made by ``CREATE TABLE AS`` in the
module named by ``made_by``, and their declaration says what they hold.
docs/exports.md ("What the state holds") lists the same tables.

State files written by earlier releases stay readable: tables are created ``IF NOT
EXISTS``, and columns added since (``held.mask``) are declared in :data:`ADDED_COLUMNS`.
A state has no version number: what it lacks is added, and a prepared-contacts cache of
an older shape is made afresh (exports.stage.reset_prepared).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb

Where = Literal["file", "scratch", "temp"]


@dataclass(frozen=True)
class StateTable:
    name: str  # as SQL names it: bare in the file and temp, ``scratch.x`` in scratch
    where: Where
    holds: str
    columns: str | None = None  # the column list, when the shape is fixed
    made_by: str = "state"  # the module that creates and fills it

    @property
    def bare(self) -> str:
        """The name without its database (what duckdb_tables() calls it)."""
        return self.name.rpartition(".")[2]


_TABLES: list[StateTable] = []


def _declare(
    name: str, where: Where, holds: str, columns: str | None = None, made_by: str = "state"
) -> str:
    _TABLES.append(StateTable(name, where, holds, columns, made_by))
    return name


# -- in the file: kept between runs -------------------------------------------------------

META = _declare(
    "meta",
    "file",
    "JSON settings by key: the state's token, the saved plan, cache and target keys",
    "key VARCHAR PRIMARY KEY, value VARCHAR",
)
HELD = _declare(
    "held",
    "file",
    "per email, the contact Brevo holds from this export: its customer, the fingerprint "
    "it was sent with (NULL: not known) and ``mask`` (added later: below)",
    "email VARCHAR, customer_id VARCHAR, fp UHUGEINT",
)
HELD_BEFORE = _declare(
    "held_before",
    "file",
    "a copy of held for the previous target, kept until Brevo takes a contact on the new one",
    made_by="held",
)
CHUNKS = _declare(
    "chunks",
    "file",
    "the checkpoint of each import chunk (posting, submitted, done, failed, lost) and each "
    "removal batch of the current plan",
    "run_id BIGINT, kind VARCHAR, chunk_no INTEGER, first_seq BIGINT, last_seq BIGINT, "
    "rows INTEGER, bytes BIGINT, status VARCHAR, process_id BIGINT",
)
BREVO_REJECTS = _declare(
    "brevo_rejects",
    "file",
    "the rows Brevo's import reports refused or altered, for the current run's report",
    "run_id BIGINT, customer_id VARCHAR, email VARCHAR, field VARCHAR, reason VARCHAR, "
    "detail VARCHAR",
)
RUN_CHANGES = _declare(
    "run_changes",
    "file",
    "what Brevo accepted from the earlier plans of a resumed run, for its change record",
    "run_id BIGINT, outcome VARCHAR, email VARCHAR, customer_id VARCHAR",
)
PREP_INDEX = _declare(
    "prep_index",
    "file",
    "the prepared-contacts cache's keys: per customer, the hash of its raw mapped values",
    "customer_id VARCHAR, raw_fp UBIGINT",
    made_by="stage",
)
PREP_CONTACTS = _declare(
    "prep_contacts",
    "file",
    "the prepared-contacts cache: contacts as segport.contacts prepared them (columns "
    "follow the mapping)",
    made_by="stage",
)
PREP_REJECTS = _declare(
    "prep_rejects",
    "file",
    "the prepared-contacts cache's reject rows",
    "customer_id VARCHAR, email VARCHAR, field VARCHAR, reason VARCHAR, detail VARCHAR, "
    "value VARCHAR",
    made_by="stage",
)
CUR = _declare(
    "cur",
    "file",
    "the current contacts: the members de-duplicated, as they would be sent, each with "
    "its fingerprint (__fp) and plan number (__seq)",
    made_by="current",
)
DUP_REJECTS = _declare(
    "dup_rejects",
    "file",
    "the duplicate rejects of the current contacts, each with its group (__grp)",
    made_by="current",
)
PLAN_SEND = _declare(
    "plan_send",
    "file",
    "a real run's send plan, numbered (__seq); a view of cur on a first run",
    made_by="plan",
)
PLAN_SEND_PINNED = _declare(
    "plan_send_pinned",
    "file",
    "a send-plan view being turned into a table (one transaction, renamed to plan_send)",
    made_by="resume",
)
PLAN_REMOVE = _declare(
    "plan_remove", "file", "a real run's mirror removals (leavers), numbered", made_by="plan"
)

# -- in scratch: one run's, in memory (spilling to the temp directory) ------------------

STAGE_RAW = _declare(
    "scratch.stage_raw",
    "scratch",
    "every member: its id (__cid), the key of its raw values (__raw_fp), its raw columns",
    made_by="members",
)
TODO = _declare(
    "scratch.todo", "scratch", "the members to prepare (their key not cached)", made_by="members"
)
CHANGED_CIDS = _declare(
    "scratch.changed_cids",
    "scratch",
    "the customers new, changed or gone since the cache was written",
    made_by="stage",
)
OLD_KEYS = _declare(
    "scratch.old_keys",
    "scratch",
    "the emails and numbers the changed customers' cached contacts had",
    "EMAIL VARCHAR, SMS VARCHAR",
    made_by="stage",
)
PLAN_REJECTS = _declare(
    "scratch.plan_rejects",
    "scratch",
    "a real run's rejects (prepared and duplicate), written to plan-rejects.csv",
    made_by="plan",
)
DRY_SEND = _declare("scratch.dry_send", "scratch", "a dry run's send plan", made_by="plan")
DRY_REMOVE = _declare("scratch.dry_remove", "scratch", "a dry run's removals", made_by="plan")
DRY_REJECTS = _declare("scratch.dry_rejects", "scratch", "a dry run's rejects", made_by="plan")
PEER_HELD = _declare(
    "scratch.peer_held",
    "scratch",
    "the emails the other exports on a shared list hold there",
    "email VARCHAR",
    made_by="held",
)

# -- in temp: steps inside one function ---------------------------------------------------

STALE = _declare(
    "stale", "temp", "cached customers whose raw values changed or who left", made_by="stage"
)
E_RANK = _declare(
    "e_rank", "temp", "contacts of the email groups being ranked, ranked", made_by="current"
)
R_RANK = _declare(
    "r_rank", "temp", "holders of the numbers being ranked, ranked", made_by="current"
)
AFFECTED_EMAILS = _declare(
    "affected_emails", "temp", "the email groups a patch ranks again", made_by="current"
)
AFFECTED_SMS = _declare(
    "affected_sms", "temp", "the number groups a patch ranks again", made_by="current"
)
REPORTED = _declare(
    "reported",
    "temp",
    "the rows one Brevo import report lists",
    "email VARCHAR, reason VARCHAR, detail VARCHAR, dropped BOOLEAN",
    made_by="send",
)

TABLES: tuple[StateTable, ...] = tuple(_TABLES)
BY_NAME = {t.name: t for t in TABLES}

# Columns added after state files were first written: (table, column, type, what it holds).
# They are added when a run plans (:func:`add_new_columns`), not on open: settling the plan
# an earlier release left (exports.resume) reads such a state as that release wrote it.
ADDED_COLUMNS = (
    (
        HELD,
        "mask",
        "UBIGINT",
        "which attribute columns were non-empty when sent (bit i mod 64; NULL: not known)",
    ),
)


def create(con: duckdb.DuckDBPyConnection, name: str, *, replace: bool = False) -> None:
    """Create the declared table ``name`` from its columns (if it is not there, or afresh
    with ``replace``)."""
    table = BY_NAME[name]
    if table.columns is None:
        raise ValueError(f"{name} is made by CREATE TABLE AS in exports.{table.made_by}")
    temp = "TEMP " if table.where == "temp" else ""
    how = f"CREATE OR REPLACE {temp}TABLE" if replace else f"CREATE {temp}TABLE IF NOT EXISTS"
    con.execute(f"{how} {name} ({table.columns})")


def create_file_tables(con: duckdb.DuckDBPyConnection) -> None:
    """On open: the file's tables of fixed shape that every state has."""
    for name in (META, HELD, CHUNKS, BREVO_REJECTS, RUN_CHANGES):
        create(con, name)


def add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Add the columns later releases declared to a state an earlier one wrote."""
    for table, column, kind, _ in ADDED_COLUMNS:
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
