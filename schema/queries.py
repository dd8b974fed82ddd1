"""The Query type: single entities by global id, and Relay connections with filters."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import strawberry

from adapters.records import RunRecord, RunSummaryRecord
from gateway.errors import BadUserInputError, NotFoundError
from gateway.ids import parse_global_id, parse_int_id
from schema.context_access import openml
from schema.filters import ArtifactFilter, DatasetFilter, FlowFilter, RunFilter, RunOrder, TaskFilter
from schema.listing import (
    list_datasets,
    list_flows,
    list_runs,
    list_tasks,
    look_ahead_runs,
    openml_run_rows,
    openml_task_rows,
)
from schema.listing_json import gather_rows
from schema.merge import Row, merge_page
from schema.pagination import Connection, page_size
from schema.queries_sources import (
    SourcesQuery,
    artifact_sources,
    json_node,
    split_ids,
    vantage6_run_rows,
    vantage6_task_rows,
    wants,
)
from schema.types.base import Artifact, Node, Run, Source, Task
from schema.types.datasets import Dataset
from schema.types.flows import Flow
from schema.types.runs import OpenMLRun, OpenMLRunFile, OpenMLUser, Setup, parse_run_file_id
from schema.types.tasks import EstimationProcedure, OpenMLTask

__all__ = ["Query"]


def _ids(values: list[strawberry.ID] | None, kind: str) -> list[int] | None:
    return None if values is None else [parse_int_id(v, kind=kind) for v in values]


def _wants_openml(sources: list[Source] | None) -> bool:
    return sources is None or Source.OPENML in sources


def _empty() -> Connection:  # type: ignore[type-arg]
    return Connection.build([], has_next=False, has_previous=False, total=0)


@strawberry.type
class Query(SourcesQuery):
    @strawberry.field(description="Any entity by its global id; null plus NOT_FOUND when it does not exist.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        gid = parse_global_id(id)
        if gid.source != "openml":
            return await json_node(info, id)
        resolvers = {
            "dataset": Query.dataset, "task": Query.task, "flow": Query.flow, "run": Query.run, "setup": Query.setup,
            "runfile": Query.artifact,
        }
        if gid.kind == "user":
            uid = parse_int_id(id, kind="user")
            return OpenMLUser.of(uid, openml(info))
        resolver = resolvers.get(gid.kind)
        if resolver is None:
            raise BadUserInputError(f"Invalid id {id!r}: unknown kind {gid.kind!r}.")
        return await resolver(self, info, id)  # type: ignore[operator]

    @strawberry.field(description="An OpenML dataset by global id (openml:dataset:61).")
    async def dataset(self, info: strawberry.Info, id: strawberry.ID) -> Dataset | None:
        did = parse_int_id(id, kind="dataset")
        await openml(info).dataset_summary.load(did)
        return Dataset.of(did, openml(info))

    @strawberry.field(description="Datasets, newest first (OpenML lists active datasets unless `statuses` says).")
    async def datasets(
        self, info: strawberry.Info, filter: DatasetFilter | None = None,
        first: int | None = 20, after: str | None = None,
    ) -> Connection[Dataset]:
        f = filter or DatasetFilter()
        if not _wants_openml(f.sources):
            return _empty()
        return await list_datasets(
            info, first=first, after=after, dataset_ids=_ids(f.ids, "dataset"), tags=f.tags, statuses=f.statuses,
            name=f.name, uploader_ids=_ids(f.uploaders, "user"),
        )

    @strawberry.field(description="A task by global id (openml:task:31).")
    async def task(self, info: strawberry.Info, id: strawberry.ID) -> Task | None:
        if parse_global_id(id, kind="task").source != "openml":
            return await json_node(info, id)
        tid = parse_int_id(id, kind="task")
        await openml(info).task_summary.load(tid)
        return OpenMLTask.of(tid, openml(info))

    @strawberry.field(description="Tasks, newest first.")
    async def tasks(
        self, info: strawberry.Info, filter: TaskFilter | None = None,
        first: int | None = 20, after: str | None = None,
    ) -> Connection[Task]:
        f = filter or TaskFilter()
        by_source = split_ids(f.ids)
        openml_only = (by_source is not None and set(by_source) <= {"openml"}) or f.dataset_ids is not None \
            or f.task_type_ids is not None or f.sources == [Source.OPENML] \
            or (f.sources is None and f.collaboration_ids is None and info.context.services.vantage6 is None)
        if openml_only and wants(f.sources, Source.OPENML):
            return await list_tasks(
                info, first=first, after=after, task_ids=_ids(f.ids, "task"),
                dataset_ids=_ids(f.dataset_ids, "dataset"), tags=f.tags, type_ids=f.task_type_ids,
                statuses=f.statuses,
            )
        sources: dict[str, Any] = {}
        openml_wanted = by_source is None or "openml" in by_source
        if wants(f.sources, Source.OPENML) and f.collaboration_ids is None and openml_wanted:
            ids = _ids(by_source.get("openml", []), "task") if by_source is not None else None
            sources["openml"] = lambda: openml_task_rows(info, task_ids=ids, tags=f.tags, statuses=f.statuses)
        if wants(f.sources, Source.VANTAGE6) and not f.tags and (by_source is None or "vantage6" in by_source):
            v6_ids = by_source.get("vantage6") if by_source is not None else None
            sources["vantage6"] = lambda: vantage6_task_rows(info, v6_ids, f.collaboration_ids)
        rows = await gather_rows(info, sources)
        return merge_page(rows, first=page_size(info, first), after=after)

    @strawberry.field(description="A flow by global id (openml:flow:5270).")
    async def flow(self, info: strawberry.Info, id: strawberry.ID) -> Flow | None:
        fid = parse_int_id(id, kind="flow")
        record = await openml(info).flow.load(fid)
        openml(info).prime_flow(record)
        return Flow.of(fid, openml(info))

    @strawberry.field(description="Flows, newest first.")
    async def flows(
        self, info: strawberry.Info, filter: FlowFilter | None = None,
        first: int | None = 20, after: str | None = None,
    ) -> Connection[Flow]:
        f = filter or FlowFilter()
        if not _wants_openml(f.sources):
            return _empty()
        return await list_flows(info, first=first, after=after, tags=f.tags, uploader_ids=_ids(f.uploaders, "user"))

    @strawberry.field(description="A run by global id (openml:run:100).")
    async def run(self, info: strawberry.Info, id: strawberry.ID) -> Run | None:
        if parse_global_id(id, kind="run").source != "openml":
            return await json_node(info, id)
        rid = parse_int_id(id, kind="run")
        await openml(info).run_summary.load(rid)
        return OpenMLRun.of(rid, openml(info))

    @strawberry.field(description="Runs, newest first unless `orderBy` orders them by an evaluation measure.")
    async def runs(
        self, info: strawberry.Info, filter: RunFilter | None = None,
        first: int | None = 20, after: str | None = None, order_by: RunOrder | None = None,
    ) -> Connection[Run]:
        f = filter or RunFilter()
        tasks_by_source = split_ids(f.task_ids)
        openml_filters = f.flow_ids is not None or f.setup_ids is not None or f.uploaders is not None \
            or bool(f.tags) or order_by is not None
        openml_only = openml_filters or f.sources == [Source.OPENML] \
            or (tasks_by_source is not None and set(tasks_by_source) <= {"openml"}) \
            or (f.ids is not None and all(i.startswith("openml:") for i in f.ids)) \
            or (f.sources is None and info.context.services.vantage6 is None)
        if openml_only and wants(f.sources, Source.OPENML):
            return await list_runs(
                info, first=first, after=after, order_by=order_by, run_ids=_ids(f.ids, "run"),
                task_ids=_ids(f.task_ids, "task"), flow_ids=_ids(f.flow_ids, "flow"),
                setup_ids=_ids(f.setup_ids, "setup"), uploader_ids=_ids(f.uploaders, "user"), tags=f.tags,
                include_errored=f.include_errored,
            )
        sources: dict[str, Any] = {}
        if wants(f.sources, Source.OPENML) and (tasks_by_source is None or "openml" in tasks_by_source):
            ids = _ids(tasks_by_source.get("openml", []), "task") if tasks_by_source is not None else None
            sources["openml"] = lambda: openml_run_rows(info, task_ids=ids, include_errored=f.include_errored)
        if wants(f.sources, Source.VANTAGE6) and (tasks_by_source is None or "vantage6" in tasks_by_source):
            v6_tasks = tasks_by_source.get("vantage6") if tasks_by_source is not None else None
            sources["vantage6"] = lambda: vantage6_run_rows(info, v6_tasks)
        rows = await gather_rows(info, sources)
        page = merge_page(rows, first=page_size(info, first), after=after)
        ol = openml(info)
        listed = [ol.run_summary.peek(e.node.native)[1] for e in page.edges if isinstance(e.node, OpenMLRun)]
        await look_ahead_runs(info, [r for r in listed if isinstance(r, RunSummaryRecord)])
        return page

    @strawberry.field(description="An OpenML setup by global id (openml:setup:12).")
    async def setup(self, info: strawberry.Info, id: strawberry.ID) -> Setup | None:
        sid = parse_int_id(id, kind="setup")
        await openml(info).setup.load(sid)
        return Setup.of(sid, openml(info))

    @strawberry.field(description="An artifact by global id (openml:runfile:100/262).")
    async def artifact(self, info: strawberry.Info, id: strawberry.ID) -> Artifact | None:
        if parse_global_id(id).source != "openml":
            return await json_node(info, id)
        run_id, file_id = parse_run_file_id(id)
        run: RunRecord = await openml(info).run.load(run_id)
        if not any(f.file_id == file_id for f in run.output_files):
            raise NotFoundError(f"Run {run_id} has no file {file_id}.", backend="openml")
        return OpenMLRunFile.of(run_id, file_id, openml(info))

    @strawberry.field(description="Artifacts, newest first. OpenML run files are listed for `runIds`.")
    async def artifacts(
        self, info: strawberry.Info, filter: ArtifactFilter | None = None,
        first: int | None = 20, after: str | None = None,
    ) -> Connection[Artifact]:
        f = filter or ArtifactFilter()
        size = page_size(info, first)
        run_ids = _ids(f.run_ids, "run") or []

        async def openml_rows() -> list[Row[Any]]:
            ol = openml(info)
            ids = sorted(set(run_ids))
            runs, summaries = await asyncio.gather(ol.run.load_many(ids), ol.run_summary.load_many(ids))
            uploaded = {s.id: s.upload_time for s in summaries}
            return [Row.of(uploaded.get(r.id), "openml", f"{r.id}/{file.file_id}",
                        OpenMLRunFile.of(r.id, file.file_id, ol)) for r in runs for file in r.output_files]

        sources = artifact_sources(info, sources=f.sources, run_ids=run_ids or None, model_ids=f.model_ids,
                                   benchmark_ids=f.benchmark_ids, openml_rows=openml_rows)
        rows = await gather_rows(info, sources)
        if f.kinds is not None:
            wanted = set(f.kinds)
            kinds = await asyncio.gather(*(_kind_of(row.make()) for row in rows))
            rows = [row for row, kind in zip(rows, kinds, strict=True) if kind in wanted]
        return merge_page(rows, first=size, after=after)

    @strawberry.field(description="Every estimation procedure OpenML defines.")
    async def estimation_procedures(self, info: strawberry.Info) -> list[EstimationProcedure]:
        table = await openml(info).procedures.load("all")
        return [
            EstimationProcedure(id=p.id, name=p.name, type=p.type, number_repeats=p.number_repeats,
                                number_folds=p.number_folds, percentage=p.percentage,
                                stratified_sampling=p.stratified_sampling, data_splits_url=p.data_splits_url)
            for p in sorted(table.values(), key=lambda p: p.id or 0)
        ]


async def _kind_of(node: Any) -> str | None:
    kind = node.kind() if callable(getattr(node, "kind", None)) else getattr(node, "kind", None)
    return await kind if inspect.isawaitable(kind) else kind
