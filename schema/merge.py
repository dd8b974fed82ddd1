"""Cross-source lists: one total order (newest first, unknown dates last, then source, then native id descending),
opaque keyset cursors, and per-source errors that cost only that source's rows.

A merged connection asks every wanted source for its rows, sorts them with ``order_key`` and starts after the
cursor's key, so pages stay stable and a cursor means the same row whatever the sources return next time. A
source that fails is left out; its error is reported beside the data (``report_partial``) with the source's
name in ``extensions.backend``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry

from gateway.errors import BadUserInputError, GatewayError
from schema.pagination import Connection

__all__ = ["Row", "merge_page", "report_partial"]

N = TypeVar("N")


@dataclass(frozen=True, slots=True)
class Row(Generic[N]):
    """One row of a merged list: its sort fields and how to make the GraphQL node it stands for. A list may have
    thousands of rows for a page of twenty: ``make`` runs only for the rows on the page."""

    created_at: datetime | None
    source: str
    native: str
    make: Callable[[], N]

    @staticmethod
    def of(created_at: datetime | None, source: str, native: str, node: N) -> Row[N]:
        """A row whose node is already made."""
        return Row(created_at, source, native, lambda: node)


_EPOCH = datetime(1970, 1, 1)


def _instant(value: datetime | None) -> float | None:
    """Seconds since the epoch; a naive time is UTC (what ``replace(tzinfo=UTC).timestamp()`` gives, without the
    copy: this runs once per row of every merged list)."""
    if value is None:
        return None
    return value.timestamp() if value.tzinfo is not None else (value - _EPOCH).total_seconds()


def _native_key(native: str) -> tuple[int, Any]:
    return (0, -int(native)) if native.isdigit() else (1, tuple(-ord(c) for c in native))


def order_key(created: float | None, source: str, native: str) -> tuple[Any, ...]:
    """Ascending sort key of the global order: newest first, unknown last, then source, then id descending."""
    return (created is None, -(created or 0.0), source, _native_key(native))


def _encode(created: float | None, source: str, native: str) -> str:
    raw = json.dumps([created, source, native], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[Any, ...]:
    try:
        created, source, native = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (created is None or isinstance(created, int | float)) or not isinstance(source, str):
            raise ValueError(cursor)
        return order_key(created, source, str(native))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise BadUserInputError(f"Invalid cursor {cursor!r} for this list.") from None


def merge_page(rows: Sequence[Row[N]], *, first: int, after: str | None) -> Connection[N]:
    """Order ``rows`` globally and return the page after ``after`` (``totalCount`` is the merged size)."""
    keyed = sorted(((order_key(_instant(r.created_at), r.source, r.native), r) for r in rows), key=lambda kr: kr[0])
    start = 0
    if after is not None:
        last = _decode(after)
        start = next((i for i, (key, _r) in enumerate(keyed) if key > last), len(keyed))
    window = keyed[start : start + first]
    nodes = [(_encode(_instant(r.created_at), r.source, r.native), r.make()) for _key, r in window]
    return Connection.build(nodes, has_next=start + first < len(keyed), has_previous=start > 0, total=len(keyed))


def report_partial(info: strawberry.Info, error: GatewayError) -> None:
    """Report a source's failure beside the data (the field still answers with the other sources' rows)."""
    info.context.partial_errors.append((tuple(info.path.as_list()), error))
