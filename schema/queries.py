"""The Query type: single entities by global id, and Relay connections with filters."""

from __future__ import annotations

import strawberry

from adapters.records import RunRecord
from gateway.errors import BadUserInputError, NotFoundError
from gateway.ids import parse_global_id, parse_int_id
from schema.context_access import openml
from schema.filters import ArtifactFilter, DatasetFilter, FlowFilter, RunFilter, RunOrder, TaskFilter
from schema.listing import list_datasets, list_flows, list_runs, list_tasks
from schema.pagination import Connection, check_first, page_newest_first
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
class Query:
    @strawberry.field(description="Any entity by its global id; null plus NOT_FOUND when it does not exist.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        gid = parse_global_id(id)
        if gid.source != "openml":
            raise NotFoundError(f"No entity {id!r}: the {gid.source} source is not served yet.", backend=gid.source)
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
        tid = parse_int_id(id, kind="task")
        await openml(info).task_summary.load(tid)
        return OpenMLTask.of(tid, openml(info))

    @strawberry.field(description="Tasks, newest first.")
    async def tasks(
        self, info: strawberry.Info, filter: TaskFilter | None = None,
        first: int | None = 20, after: str | None = None,
    ) -> Connection[Task]:
        f = filter or TaskFilter()
        if not _wants_openml(f.sources):
            return _empty()
        return await list_tasks(
            info, first=first, after=after, task_ids=_ids(f.ids, "task"), dataset_ids=_ids(f.dataset_ids, "dataset"),
            tags=f.tags, type_ids=f.task_type_ids, statuses=f.statuses,
        )

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
        rid = parse_int_id(id, kind="run")
        await openml(info).run_summary.load(rid)
        return OpenMLRun.of(rid, openml(info))

    @strawberry.field(description="Runs, newest first unless `orderBy` orders them by an evaluation measure.")
    async def runs(
        self, info: strawberry.Info, filter: RunFilter | None = None,
        first: int | None = 20, after: str | None = None, order_by: RunOrder | None = None,
    ) -> Connection[Run]:
        f = filter or RunFilter()
        if not _wants_openml(f.sources):
            return _empty()
        return await list_runs(
            info, first=first, after=after, order_by=order_by, run_ids=_ids(f.ids, "run"),
            task_ids=_ids(f.task_ids, "task"), flow_ids=_ids(f.flow_ids, "flow"), setup_ids=_ids(f.setup_ids, "setup"),
            uploader_ids=_ids(f.uploaders, "user"), tags=f.tags, include_errored=f.include_errored,
        )

    @strawberry.field(description="An OpenML setup by global id (openml:setup:12).")
    async def setup(self, info: strawberry.Info, id: strawberry.ID) -> Setup | None:
        sid = parse_int_id(id, kind="setup")
        await openml(info).setup.load(sid)
        return Setup.of(sid, openml(info))

    @strawberry.field(description="An artifact by global id (openml:runfile:100/262).")
    async def artifact(self, info: strawberry.Info, id: strawberry.ID) -> Artifact | None:
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
        size = 20 if first is None else first
        check_first(size, info.context.settings.max_first)
        run_ids = _ids(f.run_ids, "run") or []
        if not _wants_openml(f.sources) or not run_ids:
            return _empty()
        runs = await openml(info).run.load_many(sorted(set(run_ids)))
        files = [(r.id, file.file_id, file.name) for r in runs for file in r.output_files]
        if f.kinds is not None:
            files = [item for item in files if item[2] in set(f.kinds)]
        keyed = [(run_id * 1_000_000_000 + file_id, run_id, file_id) for run_id, file_id, _ in files]
        page, has_next, has_prev = page_newest_first(keyed, first=size, after=after, prefix="openml:runfile",
                                                     key=lambda item: item[0])
        ol = openml(info)
        return Connection.build([(c, OpenMLRunFile.of(item[1], item[2], ol)) for c, item in page], has_next=has_next,
                                has_previous=has_prev, total=len(keyed))

    @strawberry.field(description="Every estimation procedure OpenML defines.")
    async def estimation_procedures(self, info: strawberry.Info) -> list[EstimationProcedure]:
        table = await openml(info).procedures.load("all")
        return [
            EstimationProcedure(id=p.id, name=p.name, type=p.type, number_repeats=p.number_repeats,
                                number_folds=p.number_folds, percentage=p.percentage,
                                stratified_sampling=p.stratified_sampling, data_splits_url=p.data_splits_url)
            for p in sorted(table.values(), key=lambda p: p.id or 0)
        ]
