"""Relay connections: PageInfo, generic Edge/Connection, opaque cursors and newest-first paging."""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from gateway.errors import BadUserInputError

__all__ = [
    "Connection", "Edge", "PageInfo", "check_first", "decode_cursor", "encode_cursor", "page_newest_first", "page_size",
]

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="One item of a connection with its opaque cursor.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list (Relay connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        default=None, description="Rows in the whole list, when the backend lets the gateway know it."
    )

    @staticmethod
    def build(nodes: Sequence[tuple[str, T]], *, has_next: bool, has_previous: bool,
              total: int | None) -> Connection[T]:
        """Return a connection of ``(cursor, node)`` pairs."""
        edges = [Edge(cursor=cursor, node=node) for cursor, node in nodes]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next, has_previous_page=has_previous,
                start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )


def encode_cursor(*parts: object) -> str:
    """Return an opaque cursor for ``parts`` (joined with ``:``)."""
    raw = ":".join(str(p) for p in parts).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, prefix: str) -> str:
    """Return the position encoded in ``cursor`` after ``prefix:``; BadUserInputError if it is not ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInputError(f"Invalid cursor {cursor!r}.") from None
    head, sep, tail = raw.rpartition(":")
    if not sep or head != prefix:
        raise BadUserInputError(f"Invalid cursor {cursor!r} for this list.")
    return tail


def check_first(first: int, max_first: int) -> None:
    """Raise BadUserInputError unless 0 <= first <= max_first."""
    if first < 0 or first > max_first:
        raise BadUserInputError(f"`first` must be between 0 and {max_first}, got {first}.")


def page_size(info: strawberry.Info, first: int | None) -> int:
    """A connection's ``first``: 20 when omitted, else checked against ``max_first``."""
    value = 20 if first is None else first
    check_first(value, info.context.settings.max_first)
    return value


def page_newest_first(
    rows: Sequence[R], *, first: int, after: str | None, prefix: str, key: Callable[[R], int],
) -> tuple[list[tuple[str, R]], bool, bool]:
    """Order rows by descending integer key, start after the cursor's key, and cut ``first``.

    Returns ``([(cursor, row)], has_next, has_previous)``. Cursors hold the last key seen (keyset), so
    pages stay stable when rows are added before them.
    """
    by_key = {key(r): r for r in rows}
    ascending = sorted(by_key)  # ints: a C sort, then only the page's rows are touched (lists run to thousands)
    end = len(ascending)
    if after is not None:
        position = decode_cursor(after, prefix)
        if not position.lstrip("-").isdigit():
            raise BadUserInputError(f"Invalid cursor {after!r} for this list.")
        end = bisect.bisect_left(ascending, int(position))  # the keys below the cursor's
    window = ascending[max(0, end - first) : end][::-1]
    return [(encode_cursor(prefix, k), by_key[k]) for k in window], end > first, end < len(ascending)
