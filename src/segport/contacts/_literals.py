"""Cached Arrow scalars for constants passed to compute functions.

pyarrow converts a Python constant on every call, and each conversion retries a failed
``import numpy`` when numpy is absent (~0.25 ms); small batches would pay that dozens of
times. Passing prebuilt scalars avoids it.
"""

from __future__ import annotations

import functools

import pyarrow as pa


@functools.cache
def lit(value: str | bool | int) -> pa.Scalar:
    """The Arrow scalar for ``value`` (string, boolean or int64)."""
    return pa.scalar(value)


NULL_STR = pa.scalar(None, pa.string())
