"""Query fields of the JSON backends (MLTE, vantage6, pytupli) and the cross-source dispatch of ids and lists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import strawberry

from gateway.errors import BadUserInputError
from gateway.ids import parse_global_id, parse_int_id
from schema.filters import BenchmarkFilter, EpisodeFilter
from schema.listing_json import list_benchmarks, list_episodes, pytupli_artifact_rows
from schema.merge import Row, merge_page
from schema.pagination import Connection, decode_cursor, encode_cursor, page_size
from schema.types.base import Source
from schema.types.mlte import MLTEArtifact, Model, artifact_key, mlte_parts
from schema.types.pytupli import Benchmark, Episode, PytupliArtifact, pytupli_id
from schema.types.vantage6 import (
    Collaboration,
    Organization,
    Vantage6Node,
    Vantage6Run,
    Vantage6Task,
    run_row,
    task_row,
)

__all__ = ["SourcesQuery", "json_node", "split_ids", "vantage6_run_rows", "vantage6_task_rows", "wants"]

RowSource = Callable[[], Awaitable[list[Row[Any]]]]


def wants(sources: list[Source] | None, source: Source) -> bool:
    return sources is None or source in sources


def split_ids(values: Sequence[str] | None) -> dict[str, list[str]] | None:
    """Group global ids by source (None when no id filter was given)."""
    if values is None:
        return None
    out: dict[str, list[str]] = {}
    for value in values:
        out.setdefault(parse_global_id(value).source, []).append(value)
    return out


async def json_node(info: strawberry.Info, value: str) -> Any:
    """Resolve a global id of a JSON backend to its (checked) node."""
    gid = parse_global_id(value)
    loaders = info.context.loaders
    if gid.source == "mlte":
        if gid.kind == "model":
            name = mlte_parts(value, "model", (1,))[0]
            await loaders.mlte.model.load(name)
            return Model.of(name, loaders.mlte)
        if gid.kind == "version":
            model, version = mlte_parts(value, "version", (2,))
            await loaders.mlte.version.load((model, version))
            from schema.types.mlte import ModelVersion

            return ModelVersion.of(model, version, loaders.mlte)
        if gid.kind == "artifact":
            key = artifact_key(value)
            await loaders.mlte.artifact.load(key)
            return MLTEArtifact.of(key, loaders.mlte)
    elif gid.source == "pytupli":
        native = gid.native
        if gid.kind == "benchmark":
            await loaders.pytupli.benchmark.load(native)
            return Benchmark.of(native, loaders.pytupli)
        if gid.kind == "episode":
            await loaders.pytupli.episode.load(native)
            return Episode.of(native, loaders.pytupli)
        if gid.kind == "artifact":
            await loaders.pytupli.artifact.load(native)
            return PytupliArtifact.of(native, loaders.pytupli)
    elif gid.source == "vantage6":
        v6 = loaders.vantage6
        kinds: dict[str, tuple[Any, Any]] = {
            "collaboration": (v6.collaboration, Collaboration), "organization": (v6.organization, Organization),
            "node": (v6.node, Vantage6Node), "task": (v6.task, Vantage6Task), "run": (v6.run, Vantage6Run),
        }
        if gid.kind in kinds:
            loader, cls = kinds[gid.kind]
            native_id = parse_int_id(value, kind=gid.kind, source="vantage6")
            await loader.load(native_id)
            return cls.of(native_id, v6)
    raise BadUserInputError(f"Invalid id {value!r}: unknown kind {gid.kind!r} for {gid.source}.")


async def vantage6_task_rows(info: strawberry.Info, ids: Sequence[str] | None,
                             collaboration_ids: Sequence[str] | None) -> list[Row[Any]]:
    v6 = info.context.loaders.vantage6
    if ids is not None:
        natives = [parse_int_id(i, kind="task", source="vantage6") for i in ids]
        records = await v6.task.load_many(natives)
    elif collaboration_ids is not None:
        records = []
        for cid in collaboration_ids:
            native = parse_int_id(cid, kind="collaboration", source="vantage6")
            records.extend(await v6.all_tasks.load((("collaboration_id", native),)))
    else:
        records = list(await v6.all_tasks.load(()))
    return [task_row(r, v6) for r in records]


async def vantage6_run_rows(info: strawberry.Info, task_ids: Sequence[str] | None) -> list[Row[Any]]:
    v6 = info.context.loaders.vantage6
    if task_ids is not None:
        natives = [parse_int_id(i, kind="task", source="vantage6") for i in task_ids]
        tasks = await v6.task.load_many(natives)
        runs_per_task = await v6.runs_of_task.load_many(natives)
        return [run_row(run, task, v6) for task, runs in zip(tasks, runs_per_task, strict=True) for run in runs]
    tasks = {t.id: t for t in await v6.all_tasks.load(())}
    for task in tasks.values():
        v6.task.prime(task.id, task)
    return [run_row(run, tasks.get(run.task_id or -1), v6) for run in await v6.all_runs.load("")]


async def _names_page(info: strawberry.Info, names: list[str], first: int | None, after: str | None,
                      prefix: str) -> tuple[list[tuple[str, str]], bool, bool, int]:
    size = page_size(info, first)
    offset = int(decode_cursor(after, prefix)) if after is not None else 0
    window = names[offset : offset + size]
    return ([(encode_cursor(prefix, offset + i + 1), n) for i, n in enumerate(window)], offset + size < len(names),
            offset > 0, len(names))


@strawberry.type
class SourcesQuery:
    @strawberry.field(description="An MLTE model by global id (mlte:model:credit-risk).")
    async def model(self, info: strawberry.Info, id: strawberry.ID) -> Model | None:
        parse_global_id(id, kind="model", source="mlte")
        return await json_node(info, id)

    @strawberry.field(description="MLTE models, by identifier (MLTE records no creation date for models).")
    async def models(self, info: strawberry.Info, first: int | None = 20,
                     after: str | None = None) -> Connection[Model]:
        loaders = info.context.loaders.mlte
        names = sorted(await loaders.models.load(""))
        page, has_next, has_prev, total = await _names_page(info, names, first, after, "mlte:models")
        return Connection.build([(c, Model.of(n, loaders)) for c, n in page], has_next=has_next,
                                has_previous=has_prev, total=total)

    @strawberry.field(description="A vantage6 collaboration by global id (vantage6:collaboration:1).")
    async def collaboration(self, info: strawberry.Info, id: strawberry.ID) -> Collaboration | None:
        parse_global_id(id, kind="collaboration", source="vantage6")
        return await json_node(info, id)

    @strawberry.field(description="vantage6 collaborations, by id.")
    async def collaborations(self, info: strawberry.Info, first: int | None = 20,
                             after: str | None = None) -> Connection[Collaboration]:
        v6 = info.context.loaders.vantage6
        records = await v6.collaborations.load(())
        for r in records:
            v6.collaboration.prime(r.id, r)
        rows = [Row.of(None, "vantage6", str(r.id), Collaboration.of(r.id, v6)) for r in records]
        return merge_page(rows, first=page_size(info, first), after=after)

    @strawberry.field(description="A vantage6 organization by global id.")
    async def organization(self, info: strawberry.Info, id: strawberry.ID) -> Organization | None:
        parse_global_id(id, kind="organization", source="vantage6")
        return await json_node(info, id)

    @strawberry.field(description="vantage6 organizations, by id.")
    async def organizations(self, info: strawberry.Info, first: int | None = 20,
                            after: str | None = None) -> Connection[Organization]:
        v6 = info.context.loaders.vantage6
        records = await v6.organizations.load(())
        for r in records:
            v6.organization.prime(r.id, r)
        rows = [Row.of(None, "vantage6", str(r.id), Organization.of(r.id, v6)) for r in records]
        return merge_page(rows, first=page_size(info, first), after=after)

    @strawberry.field(description="A pytupli benchmark by global id (pytupli:benchmark:<id>).")
    async def benchmark(self, info: strawberry.Info, id: strawberry.ID) -> Benchmark | None:
        parse_global_id(id, kind="benchmark", source="pytupli")
        return await json_node(info, id)

    @strawberry.field(description="pytupli benchmarks the caller may read, newest first.")
    async def benchmarks(self, info: strawberry.Info, filter: BenchmarkFilter | None = None,
                         first: int | None = 20, after: str | None = None) -> Connection[Benchmark]:
        f = filter or BenchmarkFilter()
        ids = [pytupli_id(i, "benchmark") for i in f.ids] if f.ids is not None else None
        return await list_benchmarks(info, first=first, after=after, ids=ids, names=f.names, created_by=f.created_by)

    @strawberry.field(description="pytupli episodes the caller may read, newest first.")
    async def episodes(self, info: strawberry.Info, filter: EpisodeFilter | None = None,
                       first: int | None = 20, after: str | None = None) -> Connection[Episode]:
        f = filter or EpisodeFilter()
        ids = [pytupli_id(i, "benchmark") for i in f.benchmark_ids] if f.benchmark_ids is not None else None
        return await list_episodes(info, first=first, after=after, benchmark_ids=ids, terminated=f.terminated,
                                   created_by=f.created_by)


async def mlte_artifact_rows(info: strawberry.Info, model_ids: Sequence[str] | None) -> list[Row[Any]]:
    """Every artifact of the given MLTE models (all models when None), each version's list read whole."""
    loaders = info.context.loaders.mlte
    names = ([mlte_parts(m, "model", (1,))[0] for m in model_ids] if model_ids is not None
             else list(await loaders.models.load("")))
    models = await loaders.model.load_many(names)
    rows: dict[str, Row[Any]] = {}
    for model in models:
        for version in model.versions:
            offset = 0
            while True:
                page = await loaders.pages.load((model.identifier, version, 100, offset))
                for record in page.items:
                    node = MLTEArtifact.from_record(record, loaders)
                    rows[node.native_id] = Row.of(record.timestamp, "mlte", node.native_id, node)
                if not page.has_more:
                    break
                offset += 100
    return list(rows.values())


def artifact_sources(info: strawberry.Info, *, sources: list[Source] | None, run_ids: list[str] | None,
                     model_ids: list[str] | None, benchmark_ids: list[str] | None,
                     openml_rows: Callable[[], Awaitable[list[Row[Any]]]]) -> dict[str, RowSource]:
    """Which sources an `artifacts` query reads: OpenML only for runIds; MLTE for modelIds or when asked."""
    out: dict[str, RowSource] = {}
    explicit = sources is not None
    if run_ids and wants(sources, Source.OPENML):
        out["openml"] = openml_rows
    if model_ids is not None or (explicit and Source.MLTE in sources):
        out["mlte"] = lambda: mlte_artifact_rows(info, model_ids)
    if wants(sources, Source.PYTUPLI) and (info.context.services.pytupli is not None or explicit) \
            and run_ids is None and model_ids is None:
        ids = [pytupli_id(b, "benchmark") for b in benchmark_ids] if benchmark_ids is not None else None
        out["pytupli"] = lambda: pytupli_artifact_rows(info, ids)
    return out
