"""pytupli's BaseFilter as plain dicts: builders and a check run before a filter is sent (pure).

The server turns a BaseFilter straight into a MongoDB query, so keys are Mongo field paths:
``metadata.name`` for benchmarks, ``benchmark_id`` or ``n_tuples`` for episodes, and for artifacts the key
*inside* the metadata (``name``, ``benchmark_id``: the server adds the ``metadata.`` prefix itself).
``{}`` (or None) means "everything the caller may read".

The check catches what the server would answer with a 422 (an unknown ``type``, a leaf without ``key`` or
``value``) or, worse, a 500 (``IN`` with a value that is not a list: "$in must be followed by an array").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapters.pytupli.errors import BACKEND
from gateway.errors import BadUserInputError

__all__ = [
    "FILTER_TYPES",
    "and_",
    "check_filter",
    "eq",
    "geq",
    "gt",
    "in_",
    "leq",
    "lt",
    "ne",
    "or_",
]

LEAF_TYPES = frozenset({"EQ", "GEQ", "LEQ", "GT", "LT", "NE", "IN"})
FILTER_TYPES = LEAF_TYPES | {"AND", "OR"}
_MAX_DEPTH = 32

Filter = dict[str, Any]


def _leaf(kind: str, key: str, value: Any) -> Filter:
    return {"type": kind, "key": key, "value": value}


def eq(key: str, value: Any) -> Filter:
    """``key == value`` (for an array field: any element equals ``value``)."""
    return _leaf("EQ", key, value)


def ne(key: str, value: Any) -> Filter:
    """``key != value``."""
    return _leaf("NE", key, value)


def gt(key: str, value: Any) -> Filter:
    """``key > value``."""
    return _leaf("GT", key, value)


def geq(key: str, value: Any) -> Filter:
    """``key >= value``."""
    return _leaf("GEQ", key, value)


def lt(key: str, value: Any) -> Filter:
    """``key < value``."""
    return _leaf("LT", key, value)


def leq(key: str, value: Any) -> Filter:
    """``key <= value``."""
    return _leaf("LEQ", key, value)


def in_(key: str, values: Iterable[Any]) -> Filter:
    """``key`` is one of ``values``."""
    return _leaf("IN", key, list(values))


def and_(*filters: Mapping[str, Any]) -> Filter:
    """All of ``filters`` (none: everything)."""
    return {"type": "AND", "filters": [dict(f) for f in filters]}


def or_(*filters: Mapping[str, Any]) -> Filter:
    """Any of ``filters`` (none: everything, as pytupli treats an empty OR)."""
    return {"type": "OR", "filters": [dict(f) for f in filters]}


def _bad(message: str) -> BadUserInputError:
    return BadUserInputError(f"Invalid pytupli filter: {message}", backend=BACKEND)


def _check(node: Any, path: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise _bad(f"nested deeper than {_MAX_DEPTH} levels")
    if not isinstance(node, Mapping):
        raise _bad(f"{path} must be an object")
    kind = node.get("type", "OR")
    if kind not in FILTER_TYPES:
        raise _bad(f"{path}.type {kind!r} is not one of {', '.join(sorted(FILTER_TYPES))}")
    if kind in LEAF_TYPES:
        if not isinstance(node.get("key"), str) or not node["key"]:
            raise _bad(f"{path} ({kind}) needs a key")
        if node.get("value") is None:
            raise _bad(f"{path} ({kind}) needs a value")
        if kind == "IN" and not isinstance(node["value"], list | tuple):
            raise _bad(f"{path} (IN) needs a list value")
    children = node.get("filters") or []
    if not isinstance(children, list | tuple):
        raise _bad(f"{path}.filters must be a list")
    for index, child in enumerate(children):
        _check(child, f"{path}.filters[{index}]", depth + 1)


def check_filter(flt: Mapping[str, Any] | None) -> Filter:
    """Return ``flt`` as a JSON-ready dict (``{}`` for None); BadUserInputError when pytupli would refuse it."""
    if flt is None or not flt:
        return {}
    _check(flt, "filter", 0)
    return dict(flt)
