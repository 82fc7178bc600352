"""Segments: named rules over profile attributes, evaluated on the profile store."""

from segport.segments.evaluation import (
    CombinationCycle,
    SegmentNotFound,
    count_members,
    get_segment,
    stream_members,
)
from segport.segments.models import Segment
from segport.segments.rules import RuleError

__all__ = [
    "CombinationCycle",
    "RuleError",
    "Segment",
    "SegmentNotFound",
    "count_members",
    "get_segment",
    "stream_members",
]
