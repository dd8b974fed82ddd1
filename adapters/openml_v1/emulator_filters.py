"""Path-segment filter parsing and validation of the OpenML v1 list endpoints, with the server's codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["LIST_SPECS", "FilterError", "ListSpec", "parse_filters", "parse_range"]

_NATURALS = re.compile(r"[0-9]+(,[0-9]+)*")
_RANGE = re.compile(r"[0-9]+(\.\.[0-9]+)?")
_SAFE = re.compile(r"[a-zA-Z0-9\s.,-_()]*")  # the PHP is_safe class, `,-_` range included


@dataclass(frozen=True, slots=True)
class ListSpec:
    legal: tuple[str, ...]
    numeric: frozenset[str]
    ranges: frozenset[str]
    illegal_filter: int
    illegal_value: int
    offset_without_limit: int
    no_results: int


class FilterError(Exception):
    """A list request the server refuses: `code` is the v1 error code."""

    def __init__(self, code: int, additional: str | None = None) -> None:
        super().__init__(code, additional)
        self.code = code
        self.additional = additional


_NUMBER_RANGES = frozenset({"number_instances", "number_features", "number_classes", "number_missing_values"})

LIST_SPECS: dict[str, ListSpec] = {
    "data": ListSpec(
        ("tag", "status", "limit", "offset", "data_id", "data_name", "data_version", "uploader",
         "number_instances", "number_features", "number_classes", "number_missing_values"),
        frozenset({"limit", "offset", "data_id", "data_version", "uploader"}), _NUMBER_RANGES, 370, 371, 373, 372),
    "task": ListSpec(
        ("type", "tag", "data_tag", "status", "limit", "offset", "task_id", "data_id", "data_name",
         "number_instances", "number_features", "number_classes", "number_missing_values"),
        frozenset({"type", "limit", "offset", "task_id", "data_id"}), _NUMBER_RANGES, 480, 481, 483, 482),
    "flow": ListSpec(("uploader", "tag", "limit", "offset"), frozenset({"uploader", "limit", "offset"}),
                     frozenset(), 501, 502, 503, 500),
    "run": ListSpec(
        ("task", "setup", "flow", "uploader", "run", "tag", "limit", "offset", "task_type", "study", "show_errors"),
        frozenset({"task", "setup", "flow", "uploader", "run", "limit", "offset", "task_type", "study"}),
        frozenset(), 514, 511, 515, 512),
    "evaluation": ListSpec(
        ("function", "task", "setup", "flow", "uploader", "run", "tag", "limit", "offset", "per_fold",
         "sort_order", "study"),
        frozenset({"task", "setup", "flow", "uploader", "run", "limit", "offset", "study"}),
        frozenset(), 544, 541, 545, 542),
    "setup": ListSpec(("flow", "setup", "limit", "offset", "tag"),
                      frozenset({"flow", "setup", "limit", "offset"}), frozenset(), 671, 672, 675, 674),
    "study": ListSpec(("limit", "offset", "main_entity_type", "uploader", "status", "benchmark_suite"),
                      frozenset({"limit", "offset", "uploader", "benchmark_suite"}), frozenset(),
                      596, 597, 598, 599),
}


def parse_range(value: str) -> tuple[int, int]:
    """`"5"` -> (5, 5); `"10..20"` -> (10, 20)."""
    lo, _, hi = value.partition("..")
    return int(lo), int(hi or lo)


def parse_filters(segments: list[str], spec: ListSpec) -> dict[str, str]:
    """Parse `name/value` segment pairs and validate them.

    Returns the filters (values url-decoded). Raises `FilterError` with the endpoint's code for an illegal
    filter name, an illegal value, or an offset without a limit.
    """
    filters: dict[str, str] = {}
    for i in range(0, len(segments), 2):
        filters[segments[i]] = unquote(segments[i + 1]) if i + 1 < len(segments) else ""
    illegal = [name for name in filters if name not in spec.legal]
    if illegal:
        raise FilterError(spec.illegal_filter, "Legal filter operators: " + ",".join(spec.legal)
                          + ". Found illegal filter(s): " + ", ".join(illegal))
    bad = []
    for name, value in filters.items():
        if name in spec.numeric:
            ok = bool(_NATURALS.fullmatch(value))
        elif name in spec.ranges:
            ok = bool(_RANGE.fullmatch(value))
        else:
            ok = bool(value) and bool(_SAFE.fullmatch(value))
        if not ok:
            bad.append(name)
    if bad:
        raise FilterError(spec.illegal_value, "Filters with illegal values: " + ",".join(bad))
    if "offset" in filters and "limit" not in filters:
        raise FilterError(spec.offset_without_limit)
    return filters
