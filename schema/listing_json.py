"""List connections of the JSON backends (pytupli, MLTE, vantage6) and the cross-source merges.

pytupli and MLTE lists come whole (pytupli has no paging; MLTE's model list is ids only), so the gateway orders
and pages them; vantage6 lists are read in pages of 500 (bounded). Rows of several sources are merged in the
global order of ``schema.merge``; a source that fails is reported beside the data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import strawberry

from gateway.errors import GatewayError
from schema.loaders_pytupli import filter_key
from schema.merge import Row, merge_page, report_partial
from schema.pagination import Connection, page_size
from schema.types.pytupli import Benchmark, Episode, PytupliArtifact

__all__ = ["gather_rows", "list_benchmarks", "list_episodes", "pytupli_artifact_rows"]


async def gather_rows(
    info: strawberry.Info, sources: dict[str, Callable[[], Awaitable[list[Row[Any]]]]],
) -> list[Row[Any]]:
    """Rows of every source; a failing source is reported (one error naming it) and left out."""
    names = list(sources)
    results = await asyncio.gather(*(sources[n]() for n in names), return_exceptions=True)
    rows: list[Row[Any]] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, GatewayError):
            if result.backend is None:
                result.backend = name
            report_partial(info, result)
        elif isinstance(result, BaseException):
            raise result
        else:
            rows.extend(result)
    return rows


def _in(key: str, values: Sequence[str]) -> dict[str, Any]:
    return {"type": "IN", "key": key, "value": list(values)}


def _all(filters: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not filters:
        return None
    return filters[0] if len(filters) == 1 else {"type": "AND", "filters": filters}


async def list_benchmarks(info: strawberry.Info, *, first: int | None, after: str | None,
                          ids: Sequence[str] | None = None, names: Sequence[str] | None = None,
                          created_by: Sequence[str] | None = None) -> Connection[Benchmark]:
    size = page_size(info, first)
    loaders = info.context.loaders.pytupli
    filters = []
    if ids is not None:
        filters.append(_in("id", ids))
    if names:
        filters.append(_in("metadata.name", names))
    if created_by:
        filters.append(_in("created_by", created_by))
    records = await loaders.benchmarks.load(filter_key(_all(filters)))
    rows = [Row.of(r.created_at, "pytupli", r.id, Benchmark.of(r.id, loaders, r)) for r in records]
    return merge_page(rows, first=size, after=after)


async def list_episodes(info: strawberry.Info, *, first: int | None, after: str | None,
                        benchmark_ids: Sequence[str] | None = None, terminated: bool | None = None,
                        created_by: Sequence[str] | None = None) -> Connection[Episode]:
    size = page_size(info, first)
    loaders = info.context.loaders.pytupli
    filters: list[dict[str, Any]] = []
    if benchmark_ids is not None:
        filters.append(_in("benchmark_id", benchmark_ids))
    if terminated is not None:
        filters.append({"type": "EQ", "key": "terminated", "value": terminated})
    if created_by:
        filters.append(_in("created_by", created_by))
    records = await loaders.episodes.load(filter_key(_all(filters)))
    rows = [Row.of(r.created_at, "pytupli", r.id, Episode.of(r.id, loaders, r)) for r in records]
    return merge_page(rows, first=size, after=after)


async def pytupli_artifact_rows(info: strawberry.Info, benchmark_ids: Sequence[str] | None) -> list[Row[Any]]:
    loaders = info.context.loaders.pytupli
    flt = _in("benchmark_id", benchmark_ids) if benchmark_ids is not None else None
    records = await loaders.artifacts.load(filter_key(flt))
    return [Row.of(r.created_at, "pytupli", r.id, PytupliArtifact.of(r.id, loaders, r)) for r in records]
