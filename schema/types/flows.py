"""OpenML flows: fetched one by one (``flow/{id}``; v1 has no flow id filter), subflows primed from the tree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from adapters.records import FlowRecord, FlowSummaryRecord
from gateway.ids import global_id, parse_int_id
from schema.context_access import openml
from schema.keyed import MaybeAwaitable
from schema.pagination import Connection
from schema.types.base import Node, Run, Source

if TYPE_CHECKING:
    from schema.loaders import OpenMLLoaders

__all__ = ["Flow", "FlowComponent", "FlowParameter"]

T = TypeVar("T")


@strawberry.type(description="A hyperparameter a flow declares.")
class FlowParameter:
    name: str
    data_type: str | None
    default_value: str | None = strawberry.field(description="The backend's free text (often a Python literal).")
    description: str | None


@strawberry.type(description="A subflow at an identifier of its parent flow.")
class FlowComponent:
    identifier: str
    flow: Annotated[Flow, strawberry.lazy("schema.types.flows")] | None


@strawberry.federation.type(keys=["id"], description="An OpenML flow: a (possibly nested) ML pipeline.")
class Flow(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]
    listed: strawberry.Private[FlowSummaryRecord | None] = None
    via_run: strawberry.Private[int | None] = None

    @classmethod
    def of(cls, fid: int, loaders: OpenMLLoaders, listed: FlowSummaryRecord | None = None,
           via_run: int | None = None) -> Flow:
        """Return the (lazy) flow ``fid``; ``listed`` is its flow/list row when known; ``via_run`` a run of it
        (whose batched evaluation rows carry the flow's full name, so names need no ``flow/{id}`` call)."""
        return cls(id=strawberry.ID(global_id("openml", "flow", fid)), source=Source.OPENML, native_id=str(fid),
                   native=fid, _l=loaders, listed=listed, via_run=via_run)

    def _named(self, pick: Callable[[tuple[str | None, str]], T], fallback: Callable[[FlowRecord], T],
               ) -> MaybeAwaitable[T]:
        """A name field: from the flow when this request already has it, else from the evaluation rows of the
        run it was reached through (batched, and they name the flow ``name(version)``), else ``flow/{id}``."""
        hit, record = self._l.flow.peek(self.native)
        if self.via_run is None or (hit and not isinstance(record, BaseException)):
            return self._full(fallback)
        return self._l.flow_name_via(self.native, self.via_run, pick)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Flow:
        return cls.of(parse_int_id(id, kind="flow"), openml(info))

    def _full(self, fn: Callable[[FlowRecord], T]) -> MaybeAwaitable[T]:
        def primed(record: FlowRecord) -> T:
            if record.components:
                self._l.prime_flow(record)  # nested subflows are complete records: no call for them
            return fn(record)

        return self._l.flow.get(self.native, primed)

    @strawberry.field(graphql_type=str | None, description="Package-qualified name (sklearn.pipeline.Pipeline(...)).")
    def name(self) -> MaybeAwaitable[str | None]:
        if self.listed is not None:
            return self.listed.name
        return self._named(lambda named: named[0], lambda f: f.name)

    @strawberry.field(graphql_type=str, description="Server-assigned revision, as a string ('1', '1.0').")
    def version(self) -> MaybeAwaitable[str]:
        if self.listed is not None and self.listed.version is not None:
            return self.listed.version
        return self._named(lambda named: named[1], lambda f: f.version or "")

    @strawberry.field(graphql_type=str | None, description="`name(version)`, as OpenML lists it.")
    def full_name(self) -> MaybeAwaitable[str | None]:
        if self.listed is not None and self.listed.full_name:
            return self.listed.full_name
        return self._named(lambda named: f"{named[0]}({named[1]})", lambda f: f"{f.name}({f.version})")

    @strawberry.field(graphql_type=str | None)
    def external_version(self) -> MaybeAwaitable[str | None]:
        if self.listed is not None:
            return self.listed.external_version
        return self._full(lambda f: f.external_version)

    @strawberry.field(graphql_type=str | None)
    def custom_name(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda f: f.custom_name)

    @strawberry.field(graphql_type=str | None)
    def class_name(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda f: f.class_name)

    @strawberry.field(graphql_type=str | None)
    def description(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda f: f.description)

    @strawberry.field(graphql_type=datetime | None)
    def upload_date(self) -> MaybeAwaitable[datetime | None]:
        return self._full(lambda f: f.upload_date)

    @strawberry.field(graphql_type=str | None)
    def dependencies(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda f: f.dependencies)

    @strawberry.field(graphql_type=str | None)
    def language(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda f: f.language)

    @strawberry.field(graphql_type=str | None)
    def licence(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda f: f.licence)

    @strawberry.field(graphql_type=list[str])
    def creators(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda f: list(f.creators))

    @strawberry.field(graphql_type=list[str])
    def contributors(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda f: list(f.contributors))

    @strawberry.field(graphql_type=list[str])
    def tags(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda f: list(f.tags))

    @strawberry.field(graphql_type=list[FlowParameter])
    def parameters(self) -> MaybeAwaitable[list[FlowParameter]]:
        return self._full(lambda f: [
            FlowParameter(name=p.name, data_type=p.data_type, default_value=p.default_value, description=p.description)
            for p in f.parameters
        ])

    @strawberry.field(graphql_type=list[FlowComponent],
                      description="Direct subflows; each is a full Flow (nested records cost no extra call).")
    def components(self) -> MaybeAwaitable[list[FlowComponent]]:
        return self._full(lambda f: [
            FlowComponent(identifier=c.identifier, flow=Flow.of(c.flow.id, self._l)) for c in f.components
        ])

    @strawberry.field(description="Runs of this flow, newest first.")
    async def runs(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[Run]:
        from schema.listing import list_runs

        return await list_runs(info, flow_ids=[self.native], first=first, after=after)
