"""pytupli: benchmarks (environments), recorded episodes and artifacts; ids are pytupli's uuid hex strings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from adapters.records.pytupli import BenchmarkRecord, EpisodeRecord, PytupliArtifactRecord
from gateway.ids import global_id, parse_global_id
from schema.keyed import MaybeAwaitable
from schema.merge import Row, merge_page
from schema.pagination import Connection, page_size
from schema.types.base import Artifact, Node, Source

__all__ = ["Benchmark", "Episode", "PytupliArtifact", "pytupli_id"]


def pytupli_id(value: str, kind: str) -> str:
    """The native id of a ``pytupli:<kind>:<id>`` global id."""
    return parse_global_id(value, kind=kind, source="pytupli").native


@strawberry.federation.type(keys=["id"], description="A pytupli benchmark: an environment others record episodes of.")
class Benchmark(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, bid: str, loaders: Any, record: BenchmarkRecord | None = None) -> Benchmark:
        if record is not None:
            loaders.benchmark.prime(bid, record)
        return cls(id=strawberry.ID(global_id("pytupli", "benchmark", bid)), source=Source.PYTUPLI, native_id=bid,
                   _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Benchmark:
        return cls.of(pytupli_id(id, "benchmark"), info.context.loaders.pytupli)

    def _get(self, fn: Any) -> Any:
        return self._l.benchmark.get(self.native_id, fn)

    @strawberry.field(graphql_type=str | None)
    def name(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda b: b.name)

    @strawberry.field(graphql_type=str | None)
    def description(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda b: b.description)

    @strawberry.field(graphql_type=str | None)
    def difficulty(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda b: b.difficulty)

    @strawberry.field(graphql_type=str | None)
    def version(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda b: b.version)

    @strawberry.field(graphql_type=str | None)
    def hash(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda b: b.hash)

    @strawberry.field(graphql_type=str | None)
    def created_by(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda b: b.created_by)

    @strawberry.field(graphql_type=datetime | None)
    def created_at(self) -> MaybeAwaitable[datetime | None]:
        return self._get(lambda b: b.created_at)

    @strawberry.field(graphql_type=list[str], description="Groups the benchmark is published in.")
    def published_in(self) -> MaybeAwaitable[list[str]]:
        return self._get(lambda b: list(b.published_in))

    @strawberry.field(graphql_type=JSON | None)
    def extra(self) -> MaybeAwaitable[Any]:
        return self._get(lambda b: dict(b.extra) if b.extra else None)

    @strawberry.field(description="Episodes recorded on this benchmark, newest first.")
    async def episodes(self, info: strawberry.Info, first: int | None = 20,
                       after: str | None = None) -> Connection[Episode]:
        from schema.listing_json import list_episodes

        return await list_episodes(info, benchmark_ids=[self.native_id], first=first, after=after)

    @strawberry.field(description="Artifacts tied to this benchmark, newest first.")
    async def artifacts(self, info: strawberry.Info, first: int | None = 20,
                        after: str | None = None) -> Connection[Artifact]:
        size = page_size(info, first)
        records = await self._l.artifacts.load(self._l.by_benchmark(self.native_id))
        rows = [Row.of(r.created_at, "pytupli", r.id, PytupliArtifact.of(r.id, self._l, r)) for r in records]
        return merge_page(rows, first=size, after=after)


@strawberry.federation.type(keys=["id"], description="One recorded episode of a pytupli benchmark.")
class Episode(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, eid: str, loaders: Any, record: EpisodeRecord | None = None) -> Episode:
        if record is not None:
            loaders.episode.prime(eid, record)
        return cls(id=strawberry.ID(global_id("pytupli", "episode", eid)), source=Source.PYTUPLI, native_id=eid,
                   _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Episode:
        return cls.of(pytupli_id(id, "episode"), info.context.loaders.pytupli)

    def _get(self, fn: Any) -> Any:
        return self._l.episode.get(self.native_id, fn)

    @strawberry.field(graphql_type=Annotated["Benchmark", strawberry.lazy("schema.types.pytupli")] | None)
    def benchmark(self) -> MaybeAwaitable[Benchmark | None]:
        return self._get(lambda e: Benchmark.of(e.benchmark_id, self._l) if e.benchmark_id else None)

    @strawberry.field(graphql_type=int)
    def n_tuples(self) -> MaybeAwaitable[int]:
        return self._get(lambda e: e.n_tuples)

    @strawberry.field(graphql_type=bool)
    def terminated(self) -> MaybeAwaitable[bool]:
        return self._get(lambda e: e.terminated)

    @strawberry.field(graphql_type=bool)
    def timeout(self) -> MaybeAwaitable[bool]:
        return self._get(lambda e: e.timeout)

    @strawberry.field(graphql_type=JSON | None)
    def metadata(self) -> MaybeAwaitable[Any]:
        return self._get(lambda e: dict(e.metadata))

    @strawberry.field(graphql_type=str | None)
    def created_by(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda e: e.created_by)

    @strawberry.field(graphql_type=datetime | None)
    def created_at(self) -> MaybeAwaitable[datetime | None]:
        return self._get(lambda e: e.created_at)

    @strawberry.field(graphql_type=list[str])
    def published_in(self) -> MaybeAwaitable[list[str]]:
        return self._get(lambda e: list(e.published_in))


@strawberry.federation.type(keys=["id"], description="A file stored in pytupli (optionally tied to a benchmark).")
class PytupliArtifact(Artifact):
    id: strawberry.ID
    source: Source
    native_id: str
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, aid: str, loaders: Any, record: PytupliArtifactRecord | None = None) -> PytupliArtifact:
        if record is not None:
            loaders.artifact.prime(aid, record)
        return cls(id=strawberry.ID(global_id("pytupli", "artifact", aid)), source=Source.PYTUPLI, native_id=aid,
                   _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> PytupliArtifact:
        return cls.of(pytupli_id(id, "artifact"), info.context.loaders.pytupli)

    def _get(self, fn: Any) -> Any:
        return self._l.artifact.get(self.native_id, fn)

    @strawberry.field(graphql_type=str | None)
    def name(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda a: a.name)

    @strawberry.field(graphql_type=str | None, description="Always 'file': pytupli stores files.")
    def kind(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda _a: "file")

    @strawberry.field(graphql_type=datetime | None)
    def created_at(self) -> MaybeAwaitable[datetime | None]:
        return self._get(lambda a: a.created_at)

    @strawberry.field(graphql_type=str | None)
    def description(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda a: a.description)

    @strawberry.field(graphql_type=str | None, description="sha256 of the content (pytupli deduplicates by it).")
    def hash(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda a: a.hash)

    @strawberry.field(graphql_type=str | None)
    def encoding(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda a: a.encoding)

    @strawberry.field(graphql_type=str | None)
    def created_by(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda a: a.created_by)

    @strawberry.field(graphql_type=list[str])
    def published_in(self) -> MaybeAwaitable[list[str]]:
        return self._get(lambda a: list(a.published_in))

    @strawberry.field(graphql_type=Benchmark | None)
    def benchmark(self) -> MaybeAwaitable[Benchmark | None]:
        return self._get(lambda a: Benchmark.of(a.benchmark_id, self._l) if a.benchmark_id else None)
