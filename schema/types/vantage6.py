"""vantage6: collaborations of organizations, their nodes, federated tasks, and each organization's run and result.

``Vantage6Run.createdAt`` is the task's creation time (vantage6's ``assigned_at`` is unreliable upstream);
``result`` is the decoded JSON when the result is base64 JSON, else null, and ``resultRaw`` always holds
the backend's string, so encrypted or binary results are never an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from adapters.records.vantage6 import Vantage6RunRecord, Vantage6TaskRecord
from gateway.ids import global_id, parse_int_id
from schema.keyed import MaybeAwaitable, then
from schema.merge import Row, merge_page
from schema.pagination import Connection, check_first, page_size
from schema.types.base import Node, Run, Source, Task

__all__ = ["Collaboration", "Organization", "Vantage6Node", "Vantage6Run", "Vantage6Task"]


def _v6(info: strawberry.Info) -> Any:
    return info.context.loaders.vantage6


@strawberry.federation.type(keys=["id"], description="A vantage6 organization (a data station's owner).")
class Organization(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, oid: int, loaders: Any) -> Organization:
        return cls(id=strawberry.ID(global_id("vantage6", "organization", oid)), source=Source.VANTAGE6,
                   native_id=str(oid), native=oid, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Organization:
        return cls.of(parse_int_id(id, kind="organization", source="vantage6"), _v6(info))

    @strawberry.field(graphql_type=str | None)
    def name(self) -> MaybeAwaitable[str | None]:
        return self._l.organization.get(self.native, lambda o: o.name)

    @strawberry.field(graphql_type=str | None)
    def country(self) -> MaybeAwaitable[str | None]:
        return self._l.organization.get(self.native, lambda o: o.country)

    @strawberry.field(graphql_type=str | None)
    def domain(self) -> MaybeAwaitable[str | None]:
        return self._l.organization.get(self.native, lambda o: o.domain)

    @strawberry.field(description="Collaborations this organization takes part in.")
    async def collaborations(self) -> list[Annotated[Collaboration, strawberry.lazy("schema.types.vantage6")]]:
        rows = await self._l.collaborations.load((("organization_id", self.native),))
        for row in rows:
            self._l.collaboration.prime(row.id, row)
        return [Collaboration.of(r.id, self._l) for r in rows]


@strawberry.federation.type(keys=["id"], description="A vantage6 collaboration: organizations that compute together.")
class Collaboration(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, cid: int, loaders: Any) -> Collaboration:
        return cls(id=strawberry.ID(global_id("vantage6", "collaboration", cid)), source=Source.VANTAGE6,
                   native_id=str(cid), native=cid, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Collaboration:
        return cls.of(parse_int_id(id, kind="collaboration", source="vantage6"), _v6(info))

    @strawberry.field(graphql_type=str | None)
    def name(self) -> MaybeAwaitable[str | None]:
        return self._l.collaboration.get(self.native, lambda c: c.name)

    @strawberry.field(graphql_type=bool | None)
    def encrypted(self) -> MaybeAwaitable[bool | None]:
        return self._l.collaboration.get(self.native, lambda c: c.encrypted)

    @strawberry.field(graphql_type=list[Organization])
    def organizations(self) -> MaybeAwaitable[list[Organization]]:
        return self._l.collaboration.get(self.native,
                                         lambda c: [Organization.of(o, self._l) for o in c.organization_ids])

    @strawberry.field(description="The data stations (nodes) of this collaboration.")
    async def nodes(self) -> list[Annotated[Vantage6Node, strawberry.lazy("schema.types.vantage6")]]:
        rows = await self._l.nodes.load((("collaboration_id", self.native),))
        for row in rows:
            self._l.node.prime(row.id, row)
        return [Vantage6Node.of(r.id, self._l) for r in rows]

    @strawberry.field(description="Tasks of this collaboration, newest first.")
    async def tasks(self, info: strawberry.Info, first: int | None = 20,
                    after: str | None = None) -> Connection[Task]:
        size = page_size(info, first)
        rows = await self._l.all_tasks.load((("collaboration_id", self.native),))
        return merge_page([task_row(r, self._l) for r in rows], first=size, after=after)


@strawberry.federation.type(keys=["id"], description="A vantage6 node: one organization's data station.")
class Vantage6Node(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, nid: int, loaders: Any) -> Vantage6Node:
        return cls(id=strawberry.ID(global_id("vantage6", "node", nid)), source=Source.VANTAGE6, native_id=str(nid),
                   native=nid, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Vantage6Node:
        return cls.of(parse_int_id(id, kind="node", source="vantage6"), _v6(info))

    @strawberry.field(graphql_type=str | None)
    def name(self) -> MaybeAwaitable[str | None]:
        return self._l.node.get(self.native, lambda n: n.name)

    @strawberry.field(graphql_type=str | None)
    def status(self) -> MaybeAwaitable[str | None]:
        return self._l.node.get(self.native, lambda n: n.status)

    @strawberry.field(graphql_type=datetime | None)
    def last_seen_at(self) -> MaybeAwaitable[datetime | None]:
        return self._l.node.get(self.native, lambda n: n.last_seen_at)

    @strawberry.field(graphql_type=Organization | None)
    def organization(self) -> MaybeAwaitable[Organization | None]:
        return self._l.node.get(self.native, lambda n: Organization.of(n.organization_id, self._l)
                                if n.organization_id is not None else None)

    @strawberry.field(graphql_type=Collaboration | None)
    def collaboration(self) -> MaybeAwaitable[Collaboration | None]:
        return self._l.node.get(self.native, lambda n: Collaboration.of(n.collaboration_id, self._l)
                                if n.collaboration_id is not None else None)


def task_row(record: Vantage6TaskRecord, loaders: Any) -> Row[Any]:
    loaders.task.prime(record.id, record)
    return Row.of(record.created_at, "vantage6", str(record.id), Vantage6Task.of(record.id, loaders))


@strawberry.federation.type(keys=["id"], description="A vantage6 federated task: one algorithm run at many stations.")
class Vantage6Task(Task):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, tid: int, loaders: Any) -> Vantage6Task:
        return cls(id=strawberry.ID(global_id("vantage6", "task", tid)), source=Source.VANTAGE6, native_id=str(tid),
                   native=tid, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Vantage6Task:
        return cls.of(parse_int_id(id, kind="task", source="vantage6"), _v6(info))

    def _get(self, fn: Any) -> Any:
        return self._l.task.get(self.native, fn)

    @strawberry.field(graphql_type=str | None)
    def name(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda t: t.name)

    @strawberry.field(graphql_type=datetime | None)
    def created_at(self) -> MaybeAwaitable[datetime | None]:
        return self._get(lambda t: t.created_at)

    @strawberry.field(graphql_type=str | None)
    def description(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda t: t.description)

    @strawberry.field(graphql_type=str | None)
    def image(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda t: t.image)

    @strawberry.field(graphql_type=str | None, description="pending, active, completed, ... (lower snake case).")
    def status(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda t: t.status)

    @strawberry.field(graphql_type=datetime | None)
    def finished_at(self) -> MaybeAwaitable[datetime | None]:
        return self._get(lambda t: t.finished_at)

    @strawberry.field(graphql_type=Collaboration | None)
    def collaboration(self) -> MaybeAwaitable[Collaboration | None]:
        return self._get(lambda t: Collaboration.of(t.collaboration_id, self._l)
                         if t.collaboration_id is not None else None)

    @strawberry.field(graphql_type=Organization | None)
    def init_organization(self) -> MaybeAwaitable[Organization | None]:
        return self._get(lambda t: Organization.of(t.init_org_id, self._l) if t.init_org_id is not None else None)

    async def load_runs(self, info: strawberry.Info, *, first: int, after: str | None,
                        order_by: Any) -> Connection[Run]:
        check_first(first, info.context.settings.max_first)
        task = await self._l.task.load(self.native)
        runs = await self._l.runs_of_task.load(self.native)
        rows = [run_row(r, task, self._l) for r in runs]
        return merge_page(rows, first=first, after=after)


def run_row(record: Vantage6RunRecord, task: Vantage6TaskRecord | None, loaders: Any) -> Row[Any]:
    loaders.run.prime(record.id, record)
    return Row.of(task.created_at if task else None, "vantage6", str(record.id), Vantage6Run.of(record.id, loaders))


@strawberry.federation.type(keys=["id"], description="One organization's execution of a vantage6 task.")
class Vantage6Run(Run):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, rid: int, loaders: Any) -> Vantage6Run:
        return cls(id=strawberry.ID(global_id("vantage6", "run", rid)), source=Source.VANTAGE6, native_id=str(rid),
                   native=rid, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Vantage6Run:
        return cls.of(parse_int_id(id, kind="run", source="vantage6"), _v6(info))

    def _get(self, fn: Any) -> Any:
        return self._l.run.get(self.native, fn)

    @strawberry.field(graphql_type=str | None)
    def status(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda r: r.status)

    @strawberry.field(graphql_type=Vantage6Task | None)
    def task(self) -> MaybeAwaitable[Vantage6Task | None]:
        return self._get(lambda r: Vantage6Task.of(r.task_id, self._l) if r.task_id is not None else None)

    @strawberry.field(graphql_type=datetime | None, description="The task's creation time (assigned_at is unreliable).")
    def created_at(self) -> MaybeAwaitable[datetime | None]:
        return then(self._get(lambda r: r.task_id),
                    lambda tid: None if tid is None else self._l.task.get(tid, lambda t: t.created_at))

    @strawberry.field(graphql_type=Organization | None)
    def organization(self) -> MaybeAwaitable[Organization | None]:
        return self._get(lambda r: Organization.of(r.organization_id, self._l)
                         if r.organization_id is not None else None)

    @strawberry.field(graphql_type=Vantage6Node | None)
    def node(self) -> MaybeAwaitable[Vantage6Node | None]:
        return self._get(lambda r: Vantage6Node.of(r.node_id, self._l) if r.node_id is not None else None)

    @strawberry.field(graphql_type=datetime | None)
    def started_at(self) -> MaybeAwaitable[datetime | None]:
        return self._get(lambda r: r.started_at)

    @strawberry.field(graphql_type=datetime | None)
    def finished_at(self) -> MaybeAwaitable[datetime | None]:
        return self._get(lambda r: r.finished_at)

    @strawberry.field(graphql_type=str | None)
    def log(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda r: r.log)

    @strawberry.field(graphql_type=JSON | None, description="The decoded JSON result, or null (binary, encrypted).")
    def result(self) -> MaybeAwaitable[Any]:
        return self._get(lambda r: r.result_decoded)

    @strawberry.field(graphql_type=str | None, description="The backend's result string, verbatim (base64).")
    def result_raw(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda r: r.result)
