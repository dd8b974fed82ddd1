"""Runs and results of many tasks in a number of calls that follows the tasks, not the runs.

vantage6 4.15's ``/run`` and ``/result`` take one ``task_id`` per call, but list newest first (id descending,
a fixed server order) and accept any ``per_page``. A task's runs are created in the same request as the task,
right after it, so run ids follow task ids: reading the collection newest first, once a page reaches a run of a
task older than the oldest requested task, every run of the requested tasks has been seen. So:

1. scan ``/run`` (scoped by ``collaboration_id`` when every task is known to share one collaboration) with
   ``scan_per_page`` rows per call, stopping at that point, at the last page, or after ``scan_max_pages`` calls;
2. ask ``/run?task_id=T`` for each task the scan could not settle (budget spent, or the caller may not use the
   collaboration filter: vantage6's 401), concurrently, each with its own answer or error.

Calls: usually one (the newest page of tasks); at most ``scan_max_pages`` + one per unsettled task. A task
created concurrently with another may have its runs interleaved with the other's; the scan reads whole pages,
so only interleavings across a page boundary at the stop point could be missed (documented limitation).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from adapters.records.vantage6 import Vantage6ResultRecord, Vantage6RunRecord
from adapters.vantage6.errors import BACKEND
from gateway.errors import BadUserInputError, ForbiddenError, GatewayError, NotFoundError

if TYPE_CHECKING:
    from adapters.vantage6.client import Vantage6Client

__all__ = ["by_task", "merge_results"]


class _HasTask(Protocol):
    @property
    def task_id(self) -> int | None: ...


T = TypeVar("T", bound=_HasTask)
ByTask = dict[int, tuple[T, ...] | GatewayError]


def _scope(wanted: list[int], collaboration_of: Mapping[int, int | None] | None) -> int | None:
    """The one collaboration of every wanted task, if known; else None (scan unscoped)."""
    if not collaboration_of:
        return None
    collabs = {collaboration_of.get(t) for t in wanted}
    if len(collabs) == 1:
        (only,) = collabs
        return only
    return None


async def by_task(
    client: Vantage6Client, kind: str, parse: Callable[[Any], T], task_ids: Iterable[int], credential: str | None,
    collaboration_of: Mapping[int, int | None] | None,
) -> ByTask[T]:
    """Group the ``kind`` (``run`` or ``result``) rows of ``task_ids`` by task, newest first."""
    wanted = sorted(set(task_ids))
    if not wanted:
        return {}
    collab = _scope(wanted, collaboration_of)
    params: list[tuple[str, str | int]] = [("collaboration_id", collab)] if collab is not None else []
    found: dict[int, list[T]] = {t: [] for t in wanted}
    unsettled: set[int] = set()
    try:
        page = 1
        while True:
            rows = await client.fetch_page(kind, f"{kind}/list", parse, page, client.scan_per_page, credential,
                                           params)
            for row in rows.items:
                if row.task_id in found:
                    found[row.task_id].append(row)
            seen = [row.task_id for row in rows.items if row.task_id is not None]
            if not rows.has_next or not seen or min(seen) < wanted[0]:
                break
            if page >= client.scan_max_pages:
                unsettled = {t for t in wanted if t <= min(seen)}
                break
            page += 1
    except ForbiddenError:
        unsettled = set(wanted)  # no collection-wide view: each task may still be visible on its own
    out: ByTask[T] = {t: tuple(rows) for t, rows in found.items() if t not in unsettled}
    if unsettled:
        out.update(await _per_task(client, kind, parse, sorted(unsettled), credential))
    return out


async def _per_task(
    client: Vantage6Client, kind: str, parse: Callable[[Any], T], task_ids: list[int], credential: str | None,
) -> ByTask[T]:
    async def one(task_id: int) -> tuple[T, ...]:
        rows: list[T] = []
        page = 1
        while True:
            chunk = await client.fetch_page(kind, f"{kind}/list", parse, page, client.scan_per_page, credential,
                                            [("task_id", task_id)])
            rows.extend(chunk.items)
            if not chunk.has_next or not chunk.items:
                return tuple(rows)
            page += 1

    answers = await asyncio.gather(*(one(t) for t in task_ids), return_exceptions=True)
    out: ByTask[T] = {}
    for task_id, answer in zip(task_ids, answers, strict=True):
        if isinstance(answer, BadUserInputError) and answer.message.endswith("does not exist!"):
            # vantage6 answers 400 "Task id=T does not exist!" to a filter on an unknown task
            out[task_id] = NotFoundError(answer.message, backend=BACKEND, backend_code=answer.backend_code)
        elif isinstance(answer, GatewayError):
            out[task_id] = answer
        elif isinstance(answer, BaseException):
            raise answer
        else:
            out[task_id] = answer
    return out


def merge_results(
    runs: ByTask[Vantage6RunRecord], results: ByTask[Vantage6ResultRecord],
) -> ByTask[Vantage6RunRecord]:
    """Put each run's result (raw and decoded) into its run record."""
    out: ByTask[Vantage6RunRecord] = {}
    for task_id, task_runs in runs.items():
        task_results = results.get(task_id)
        if isinstance(task_runs, GatewayError) or not isinstance(task_results, tuple):
            out[task_id] = task_runs
            continue
        by_run = {r.run_id if r.run_id is not None else r.id: r for r in task_results}
        merged = []
        for run in task_runs:
            res = by_run.get(run.result_id if run.result_id is not None else run.id)
            merged.append(dataclasses.replace(run, result=res.result, result_decoded=res.decoded) if res else run)
        out[task_id] = tuple(merged)
    return out
