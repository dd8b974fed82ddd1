"""v1-style list filters turned into the JSON bodies of the v2 list endpoints, and v2's page limits.

The list methods of ``OpenMLV2Client`` take the filters by their **v1 names** (what ``data/list/...`` and
``task/list/...`` take as path segments), so the schema builds one query for either version:

- a ``Mapping[str, str]`` (``{"tag": "uci", "data_id": "1,2,3"}``), or
- any object with a ``filters`` attribute of ``(name, value)`` pairs; v1's ``ListQuery`` is one, structurally
  (this module does not import it: adapters never import each other).

Values are v1's strings: ids comma-joined, ranges ``"10..20"``. Names v2 cannot filter on, or values it
cannot express (several uploaders), raise ``BadUserInputError`` before any call, as v1 answers code 370.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeAlias

from adapters.openml_v2.errors import BACKEND
from gateway.errors import BadUserInputError

__all__ = ["PAGE_MAX", "FilterSource", "ListFilters", "dataset_list_body", "pages", "task_list_body"]

PAGE_MAX = 1000  # the server refuses a larger ``pagination.limit`` (422)


class FilterSource(Protocol):
    """Anything carrying v1 filters as ``(name, value)`` pairs (v1's ``ListQuery``, for one)."""

    @property
    def filters(self) -> tuple[tuple[str, str], ...]: ...


ListFilters: TypeAlias = Mapping[str, str] | FilterSource

# v1 filter name -> (v2 body field, kind)
_DATASET_FILTERS: dict[str, tuple[str, str]] = {
    "tag": ("tag", "str"), "status": ("status", "str"), "data_name": ("data_name", "str"),
    "data_version": ("data_version", "int"), "uploader": ("uploader", "int"), "data_id": ("data_id", "ids"),
    "number_instances": ("number_instances", "range"), "number_features": ("number_features", "range"),
    "number_classes": ("number_classes", "range"), "number_missing_values": ("number_missing_values", "range"),
}
_TASK_FILTERS: dict[str, tuple[str, str]] = {
    "type": ("task_type_id", "int"), "task_type_id": ("task_type_id", "int"), "tag": ("tag", "str"),
    "data_tag": ("data_tag", "str"), "status": ("status", "str"), "task_id": ("task_id", "ids"),
    "data_id": ("data_id", "ids"), "data_name": ("data_name", "str"),
    "number_instances": ("number_instances", "range"), "number_features": ("number_features", "range"),
    "number_classes": ("number_classes", "range"), "number_missing_values": ("number_missing_values", "range"),
}


def _bad(message: str) -> BadUserInputError:
    return BadUserInputError(message, backend=BACKEND)


def _pairs(query: ListFilters) -> list[tuple[str, str]]:
    if isinstance(query, Mapping):
        return [(str(k), str(v)) for k, v in query.items()]
    return [(str(k), str(v)) for k, v in query.filters]


def _value(name: str, raw: str, kind: str) -> Any:
    if kind == "str" or kind == "range":
        return raw
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise _bad(f"The {name} filter takes {'ids' if kind == 'ids' else 'a number'}, not {raw!r}.")
    if kind == "ids":
        return sorted({int(p) for p in parts})
    if len(parts) > 1:
        raise _bad(f"OpenML v2 filters by one {name} only, not {raw!r}.")
    return int(parts[0])


def _body(query: ListFilters, table: dict[str, tuple[str, str]], what: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, raw in _pairs(query):
        if name not in table:
            legal = ", ".join(sorted(table))
            raise _bad(f"OpenML v2 cannot filter {what} by {name!r} (legal filters: {legal}).")
        field, kind = table[name]
        body[field] = _value(name, raw, kind)
    return body


def dataset_list_body(query: ListFilters) -> dict[str, Any]:
    """Return the JSON body of ``/datasets/list`` for v1-style filters (without ``pagination``)."""
    return _body(query, _DATASET_FILTERS, "datasets")


def task_list_body(query: ListFilters) -> dict[str, Any]:
    """Return the JSON body of ``/tasks/list`` for v1-style filters (without ``pagination``)."""
    return _body(query, _TASK_FILTERS, "tasks")


def pages(limit: int, offset: int) -> list[tuple[int, int]]:
    """Split one ``(limit, offset)`` request into v2 pages of at most ``PAGE_MAX`` rows: ``[(limit, offset)]``."""
    out = []
    done = 0
    while done < limit:
        size = min(PAGE_MAX, limit - done)
        out.append((size, offset + done))
        done += size
    return out
