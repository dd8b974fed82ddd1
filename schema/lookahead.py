"""Look ahead at what a list's page will ask for, so its loads go out before graphql-core completes the page.

Completing a page of a hundred nodes is CPU work in graphql-core (every field of every node). Without a
look-ahead, the dataloader batches for the nodes' fields are only dispatched after that whole pass, and the
backend's latency is paid after it. A list resolver that knows its page asks for those keys first
(``KeyedLoader.want``), gives the batches a few event-loop steps to put their calls on the wire (``let_out``)
and only then returns: the calls' latency overlaps the completion pass, and the fields find their records in
the same batches (no extra call; a key asked here is the key the field asks for later).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField, Selection

__all__ = ["LET_OUT_STEPS", "fields_of", "let_out", "selected_below"]

# Event-loop steps from a dataloader dispatch to the HTTP write: dispatch, batch function, the record cache,
# the per-measure/per-chunk gathers, the client. Measured: six reach the wire for every OpenML run loader.
LET_OUT_STEPS = 8


def _included(selection: Selection) -> bool:
    skip = selection.directives.get("skip")
    include = selection.directives.get("include")
    return not (skip and skip.get("if")) and not (include is not None and not include.get("if"))


def fields_of(selections: Iterable[Selection], types: Collection[str] | None = None) -> Iterator[SelectedField]:
    """The fields among ``selections`` that apply to an object of one of ``types`` (any type when None), with
    fragment spreads and inline fragments flattened and ``@skip``/``@include`` honoured."""
    for selection in selections:
        if not _included(selection):
            continue
        if isinstance(selection, SelectedField):
            yield selection
            continue
        condition = getattr(selection, "type_condition", None)
        if types is None or condition is None or condition in types:
            yield from fields_of(selection.selections, types)


def selected_below(info: strawberry.Info, path: Sequence[str], types: Collection[str]) -> list[SelectedField]:
    """The fields selected at ``path`` below the resolving field (``("edges", "node")`` for a connection's
    nodes) that apply to ``types``."""
    level: list[SelectedField] = [f for f in info.selected_fields if isinstance(f, SelectedField)]
    for name in path:
        level = [child for f in level for child in fields_of(f.selections) if child.name == name]
    return [child for f in level for child in fields_of(f.selections, types)]


async def let_out(pending: Sequence[asyncio.Future[Any]], steps: int = LET_OUT_STEPS) -> None:
    """Yield to the event loop until ``pending`` are done or ``steps`` steps have passed, so batches just asked
    for reach the backend before the caller's next CPU-bound stretch. Only timing depends on ``steps``."""
    for _ in range(steps):
        if all(future.done() for future in pending):
            return
        await asyncio.sleep(0)
