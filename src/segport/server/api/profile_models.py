"""Request and response bodies of the profiles resource: the source, a few rows, and the
result of loading a file (with the rows and values that could not be read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

# [the store's type, the type segments see] (a list: OpenAPI tools read it as one)
TypePair = Annotated[list[str], Field(min_length=2, max_length=2)]


class ProfileSourceOut(BaseModel):
    """Where the profiles are and what they hold (`segport profiles schema --json`)."""

    kind: Literal["duckdb", "postgres"] = Field(description="The store: embedded or PostgreSQL.")
    table: str
    id_column: str
    location: str = Field(description="The store's file, or its URL without the password.")
    managed: bool = Field(description="PostgreSQL: loaded by segport, not only read.")
    row_count: int | None = Field(description="Profiles at the last load (or use).")
    loaded_from: str | None = Field(description="The file of the last load.")
    updated_at: datetime | None = Field(description="When the profiles were last loaded.")
    columns: dict[str, TypePair] = Field(
        description="Column -> [the store's type, the type segments see]."
    )


class ProfileRows(BaseModel):
    """A page of the profiles by id, every column."""

    total: int = Field(description="How many profiles the last load left.")
    offset: int
    limit: int
    columns: list[str]
    items: list[dict[str, Any]] = Field(description="One object per profile: column -> value.")


ProblemKind = Literal["rejected_row", "bad_value", "bad_bytes"]


class LoadProblem(BaseModel):
    """Something in the file that could not be loaded as it was."""

    kind: ProblemKind = Field(
        description="rejected_row: a row that could not be split into the file's columns "
        "(skipped); bad_value: a value that does not fit its column's type (loaded "
        "empty); bad_bytes: a line with bytes that are not valid UTF-8 (those values "
        "loaded empty)."
    )
    row: int | None = Field(description="The line of the file (1: its first line).")
    field: str | None = Field(description="The column, for a bad value.")
    message: str
    text: str | None = Field(default=None, description="The line as read, when kept.")


class ProfileLoadOut(BaseModel):
    """A load that was done. Problems did not stop it (unless ``strict``): they are
    counted, and the first ones listed."""

    file: str = Field(description="The file's name (the upload's format).")
    format: Literal["csv", "parquet", "jsonl"]
    table: str
    id_column: str
    rows: int = Field(description="Profiles loaded.")
    encoding: str | None
    columns: dict[str, str] = Field(description="Column -> the store's type.")
    seconds: float
    into: str | None = Field(description="The PostgreSQL database (None: the embedded store).")
    rejected_rows: int
    bad_values: int
    bad_lines: int
    problems: list[LoadProblem] = Field(description="The first problems, by line.")
