"""List connections over OpenML v1: filters -> list calls, newest-first keyset pages, primed loaders.

The v1 list endpoints have no ORDER BY and no count (openml-api.md §1.3), so a connection reads the
whole matching list once (in pages of the server's maximum, cached briefly and shared by every field of
the request), orders it by descending id and cuts a page after the cursor's id. Lists ordered by an
evaluation measure use ``evaluation/list/.../sort_order`` instead, which the server orders itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from operator import attrgetter
from typing import Any

import strawberry

from adapters.records import DatasetSummaryRecord, FlowSummaryRecord, RunSummaryRecord, TaskSummaryRecord
from gateway.errors import BadUserInputError
from schema.context_access import openml
from schema.loaders import ListQuery
from schema.lookahead import let_out, selected_below
from schema.pagination import Connection, decode_cursor, encode_cursor, page_newest_first, page_size
from schema.types.base import Run, SortDirection, Task
from schema.types.datasets import Dataset
from schema.types.flows import Flow
from schema.types.runs import RUN_TYPES, OpenMLRun, want_for_runs
from schema.types.tasks import OpenMLTask

__all__ = ["build_queries", "list_datasets", "list_flows", "list_runs", "list_runs_of_datasets", "list_tasks",
           "openml_run_rows", "openml_task_rows"]

IdList = Sequence[int] | None
Fan = Sequence[str] | None


def build_queries(
    id_lists: Sequence[tuple[str, IdList]],
    fan: Sequence[tuple[str, Fan]] = (),
    fixed: Sequence[tuple[str, str | None]] = (),
    *,
    chunk: int = 100,
) -> list[ListQuery]:
    """Return the list calls for one filter: id lists are chunked, single-valued filters fanned out.

    v1 filters like ``tag`` and ``type`` take one value, so ``tags: [a, b]`` means two calls whose rows
    are merged ('any of').
    """
    combos: list[list[tuple[str, str]]] = [[]]
    for name, ids in id_lists:
        if ids is None:
            continue
        unique = sorted(set(ids))
        parts = [unique[i : i + chunk] for i in range(0, len(unique), chunk)] or [[]]
        combos = [[*c, (name, ",".join(map(str, part)))] for c in combos for part in parts]
    for name, values in fan:
        if values:
            combos = [[*c, (name, v)] for c in combos for v in dict.fromkeys(values)]
    tail = [(name, value) for name, value in fixed if value is not None]
    return [ListQuery(filters=tuple(c + tail)) for c in combos]


def _empty_ids(*lists: IdList) -> bool:
    """A filter given as an empty list matches nothing."""
    return any(ids is not None and len(ids) == 0 for ids in lists)


async def _scan_all(info: strawberry.Info, endpoint: str, queries: list[ListQuery]) -> list[Any]:
    ol = openml(info)
    pages = await asyncio.gather(*(ol.scan(endpoint, q) for q in queries))
    merged: dict[int, Any] = {}
    for page in pages:
        for row in page:
            merged[row.id] = row
    return list(merged.values())


def _statuses(statuses: Sequence[str] | None) -> tuple[str | None, set[str] | None]:
    """Return the server-side status filter and the set to keep gateway-side (several statuses)."""
    if not statuses:
        return None, None
    wanted = {s.lower() for s in statuses}
    if len(wanted) == 1:
        return next(iter(wanted)), None
    return "all", wanted


async def list_runs(
    info: strawberry.Info,
    *,
    first: int | None,
    after: str | None,
    order_by: Any = None,
    run_ids: IdList = None,
    task_ids: IdList = None,
    flow_ids: IdList = None,
    setup_ids: IdList = None,
    uploader_ids: IdList = None,
    tags: Fan = None,
    include_errored: bool = True,
) -> Connection[Run]:
    """Return a page of runs matching every given filter."""
    size = page_size(info, first)
    if _empty_ids(run_ids, task_ids, flow_ids, setup_ids, uploader_ids):
        return Connection.build([], has_next=False, has_previous=False, total=0)
    ids = [("run", run_ids), ("task", task_ids), ("flow", flow_ids), ("setup", setup_ids), ("uploader", uploader_ids)]
    chunk = info.context.settings.openml.batch_size
    if order_by is not None:
        return await _runs_by_measure(info, ids, tags, order_by, size, after, chunk)
    queries = build_queries(ids, [("tag", tags)], [("show_errors", "true" if include_errored else None)], chunk=chunk)
    rows: list[RunSummaryRecord] = await _scan_all(info, "run/list", queries)
    page, has_next, has_prev = page_newest_first(rows, first=size, after=after, prefix="openml:run",
                                                 key=attrgetter("id"))
    ol = openml(info)
    ol.prime_summaries([row for _, row in page])
    await look_ahead_runs(info, [row for _, row in page])
    return Connection.build([(c, OpenMLRun.of(r.id, ol)) for c, r in page], has_next=has_next, has_previous=has_prev,
                            total=len(rows))


async def look_ahead_runs(info: strawberry.Info, runs: Sequence[RunSummaryRecord]) -> None:
    """Ask for what the selected fields of this page of runs will need, and let those calls go out before
    graphql-core completes the page (``schema.lookahead``)."""
    await let_out(want_for_runs(openml(info), runs, selected_below(info, ("edges", "node"), RUN_TYPES)))


async def _runs_by_measure(
    info: strawberry.Info, ids: list[tuple[str, IdList]], tags: Fan, order_by: Any, size: int, after: str | None,
    chunk: int,
) -> Connection[Run]:
    if tags and len(set(tags)) > 1:
        raise BadUserInputError("Ordering runs by a measure supports at most one tag filter.")
    direction = "asc" if order_by.direction == SortDirection.ASC else "desc"
    queries = build_queries(
        ids, [("tag", tags)], [("function", order_by.measure), ("sort_order", direction)], chunk=10**9
    )
    if len(queries) != 1:
        raise BadUserInputError("Ordering runs by a measure needs at most one value per single-valued filter.")
    del chunk
    prefix = f"openml:runs-by:{order_by.measure}:{direction}"
    offset = int(decode_cursor(after, prefix)) if after is not None else 0
    rows = await openml(info).page("evaluation/list", queries[0], size + 1, offset)
    window = rows[:size]
    ol = openml(info)
    summaries = [RunSummaryRecord(id=row.run_id, task_id=row.task_id, setup_id=row.setup_id, flow_id=row.flow_id,
                                  uploader=row.uploader, upload_time=row.upload_time) for row in window]
    for row, summary in zip(window, summaries, strict=True):
        ol.run_summary.prime(row.run_id, summary)
        ol.prime_measure(row)  # the row IS the run's evaluation(measure:), and it names the run's flow
    await look_ahead_runs(info, summaries)
    nodes = [(encode_cursor(prefix, offset + i + 1), OpenMLRun.of(row.run_id, ol)) for i, row in enumerate(window)]
    return Connection.build(nodes, has_next=len(rows) > size, has_previous=offset > 0, total=None)


async def list_tasks(
    info: strawberry.Info,
    *,
    first: int | None,
    after: str | None,
    task_ids: IdList = None,
    dataset_ids: IdList = None,
    tags: Fan = None,
    type_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
) -> Connection[Task]:
    """Return a page of tasks (server default: active only, unless statuses say otherwise)."""
    size = page_size(info, first)
    if _empty_ids(task_ids, dataset_ids):
        return Connection.build([], has_next=False, has_previous=False, total=0)
    status, keep = _statuses(statuses)
    types = [str(t) for t in type_ids] if type_ids else None
    queries = build_queries([("task_id", task_ids), ("data_id", dataset_ids)], [("type", types), ("tag", tags)],
                            [("status", status)], chunk=info.context.settings.openml.batch_size)
    rows: list[TaskSummaryRecord] = await _scan_all(info, "task/list", queries)
    if keep is not None:
        rows = [r for r in rows if r.status in keep]
    page, has_next, has_prev = page_newest_first(rows, first=size, after=after, prefix="openml:task",
                                                 key=attrgetter("id"))
    openml(info).prime_summaries([row for _, row in page])
    ol = openml(info)
    return Connection.build([(c, OpenMLTask.of(r.id, ol)) for c, r in page], has_next=has_next, has_previous=has_prev,
                            total=len(rows))


async def list_datasets(
    info: strawberry.Info,
    *,
    first: int | None,
    after: str | None,
    dataset_ids: IdList = None,
    tags: Fan = None,
    statuses: Sequence[str] | None = None,
    name: str | None = None,
    uploader_ids: IdList = None,
) -> Connection[Dataset]:
    """Return a page of datasets (server default: active only, unless statuses say otherwise)."""
    size = page_size(info, first)
    if _empty_ids(dataset_ids, uploader_ids):
        return Connection.build([], has_next=False, has_previous=False, total=0)
    status, keep = _statuses(statuses)
    uploaders = [str(u) for u in uploader_ids] if uploader_ids else None
    queries = build_queries([("data_id", dataset_ids)], [("tag", tags), ("uploader", uploaders)],
                            [("data_name", name), ("status", status)], chunk=info.context.settings.openml.batch_size)
    rows: list[DatasetSummaryRecord] = await _scan_all(info, "data/list", queries)
    if keep is not None:
        rows = [r for r in rows if r.status in keep]
    page, has_next, has_prev = page_newest_first(rows, first=size, after=after, prefix="openml:dataset",
                                                 key=attrgetter("id"))
    openml(info).prime_summaries([row for _, row in page])
    ol = openml(info)
    return Connection.build([(c, Dataset.of(r.id, ol)) for c, r in page], has_next=has_next, has_previous=has_prev,
                            total=len(rows))


async def list_flows(
    info: strawberry.Info, *, first: int | None, after: str | None, tags: Fan = None, uploader_ids: IdList = None,
) -> Connection[Flow]:
    """Return a page of flows (flow/list rows carry name and versions, so those fields cost no call)."""
    size = page_size(info, first)
    if _empty_ids(uploader_ids):
        return Connection.build([], has_next=False, has_previous=False, total=0)
    uploaders = [str(u) for u in uploader_ids] if uploader_ids else None
    queries = build_queries([], [("tag", tags), ("uploader", uploaders)])
    rows: list[FlowSummaryRecord] = await _scan_all(info, "flow/list", queries)
    page, has_next, has_prev = page_newest_first(rows, first=size, after=after, prefix="openml:flow",
                                                 key=attrgetter("id"))
    return Connection.build([(c, Flow.of(r.id, openml(info), listed=r)) for c, r in page], has_next=has_next,
                            has_previous=has_prev, total=len(rows))


async def list_runs_of_datasets(
    info: strawberry.Info, dataset_ids: Sequence[int], *, first: int | None, after: str | None,
) -> Connection[Run]:
    """Return runs on any task of the datasets (run/list has no dataset filter: tasks first)."""
    page_size(info, first)
    queries = build_queries([("data_id", dataset_ids)], fixed=[("status", "all")],
                            chunk=info.context.settings.openml.batch_size)
    tasks: list[TaskSummaryRecord] = await _scan_all(info, "task/list", queries)
    return await list_runs(info, first=first, after=after, task_ids=[t.id for t in tasks])


async def openml_run_rows(info: strawberry.Info, *, task_ids: IdList = None, flow_ids: IdList = None,
                          setup_ids: IdList = None, run_ids: IdList = None, uploader_ids: IdList = None,
                          tags: Fan = None, include_errored: bool = True) -> list[Any]:
    """OpenML runs as merge rows (their upload time is the date), for cross-source connections."""
    from schema.merge import Row

    if _empty_ids(run_ids, task_ids, flow_ids, setup_ids, uploader_ids):
        return []
    ids = [("run", run_ids), ("task", task_ids), ("flow", flow_ids), ("setup", setup_ids), ("uploader", uploader_ids)]
    queries = build_queries(ids, [("tag", tags)], [("show_errors", "true" if include_errored else None)],
                            chunk=info.context.settings.openml.batch_size)
    records: list[RunSummaryRecord] = await _scan_all(info, "run/list", queries)
    ol = openml(info)

    def make(record: RunSummaryRecord) -> OpenMLRun:
        ol.run_summary.prime(record.id, record)  # only rows on the page: a scan may hold thousands
        return OpenMLRun.of(record.id, ol)

    return [Row(r.upload_time, "openml", str(r.id), partial(make, r)) for r in records]


async def openml_task_rows(info: strawberry.Info, *, task_ids: IdList = None, dataset_ids: IdList = None,
                           tags: Fan = None, statuses: Sequence[str] | None = None) -> list[Any]:
    """OpenML tasks as merge rows (v1 records no creation date: they sort after dated rows, by id)."""
    from schema.merge import Row

    if _empty_ids(task_ids, dataset_ids):
        return []
    status, keep = _statuses(statuses)
    queries = build_queries([("task_id", task_ids), ("data_id", dataset_ids)], [("tag", tags)],
                            [("status", status)], chunk=info.context.settings.openml.batch_size)
    records: list[TaskSummaryRecord] = await _scan_all(info, "task/list", queries)
    if keep is not None:
        records = [r for r in records if r.status in keep]
    ol = openml(info)

    def make(record: TaskSummaryRecord) -> OpenMLTask:
        ol.task_summary.prime(record.id, record)  # only rows on the page: a scan may hold thousands
        return OpenMLTask.of(record.id, ol)

    return [Row(None, "openml", str(r.id), partial(make, r)) for r in records]
