"""OpenML flows: fetched one by one (``flow/{id}``; v1 has no flow id filter), subflows primed from the tree."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from adapters.records import FlowRecord, FlowSummaryRecord
from gateway.ids import global_id, parse_int_id
from schema.context_access import openml
from schema.pagination import Connection
from schema.types.base import Node, Run, Source

__all__ = ["Flow", "FlowComponent", "FlowParameter"]


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
    listed: strawberry.Private[FlowSummaryRecord | None] = None

    @classmethod
    def of(cls, fid: int, listed: FlowSummaryRecord | None = None) -> Flow:
        """Return the (lazy) flow ``fid``; ``listed`` is its flow/list row when known."""
        return cls(id=strawberry.ID(global_id("openml", "flow", fid)), source=Source.OPENML, native_id=str(fid),
                   native=fid, listed=listed)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Flow:
        return cls.of(parse_int_id(id, kind="flow"))

    async def _full(self, info: strawberry.Info) -> FlowRecord:
        record = await openml(info).flow.load(self.native)
        openml(info).prime_flow(record)
        return record

    @strawberry.field(description="Package-qualified name (sklearn.pipeline.Pipeline(...)).")
    async def name(self, info: strawberry.Info) -> str | None:
        if self.listed is not None:
            return self.listed.name
        return (await self._full(info)).name

    @strawberry.field(description="Server-assigned revision, as a string ('1', '1.0').")
    async def version(self, info: strawberry.Info) -> str:
        if self.listed is not None and self.listed.version is not None:
            return self.listed.version
        return (await self._full(info)).version or ""

    @strawberry.field(description="`name(version)`, as OpenML lists it.")
    async def full_name(self, info: strawberry.Info) -> str | None:
        if self.listed is not None and self.listed.full_name:
            return self.listed.full_name
        record = await self._full(info)
        return f"{record.name}({record.version})"

    @strawberry.field
    async def external_version(self, info: strawberry.Info) -> str | None:
        if self.listed is not None:
            return self.listed.external_version
        return (await self._full(info)).external_version

    @strawberry.field
    async def custom_name(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).custom_name

    @strawberry.field
    async def class_name(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).class_name

    @strawberry.field
    async def description(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).description

    @strawberry.field
    async def upload_date(self, info: strawberry.Info) -> datetime | None:
        return (await self._full(info)).upload_date

    @strawberry.field
    async def dependencies(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).dependencies

    @strawberry.field
    async def language(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).language

    @strawberry.field
    async def licence(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).licence

    @strawberry.field
    async def creators(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).creators)

    @strawberry.field
    async def contributors(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).contributors)

    @strawberry.field
    async def tags(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).tags)

    @strawberry.field
    async def parameters(self, info: strawberry.Info) -> list[FlowParameter]:
        return [
            FlowParameter(name=p.name, data_type=p.data_type, default_value=p.default_value, description=p.description)
            for p in (await self._full(info)).parameters
        ]

    @strawberry.field(description="Direct subflows; each is a full Flow (nested records cost no extra call).")
    async def components(self, info: strawberry.Info) -> list[FlowComponent]:
        return [
            FlowComponent(identifier=c.identifier, flow=Flow.of(c.flow.id))
            for c in (await self._full(info)).components
        ]

    @strawberry.field(description="Runs of this flow, newest first.")
    async def runs(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[Run]:
        from schema.listing import list_runs

        return await list_runs(info, flow_ids=[self.native], first=first, after=after)
