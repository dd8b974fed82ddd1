"""Plain method fields skip Strawberry's per-field wrapper; every other kind of field keeps it."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from schema import build_schema
from schema.lean import lean_resolvers


class Never(BasePermission):
    message = "no"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Thing:
    plain: int

    @strawberry.field
    def doubled(self) -> int:
        return self.plain * 2

    @strawberry.field
    def later(self) -> int:  # a sync method returning an awaitable, as loader fields do
        async def value() -> int:
            return self.plain + 1

        return value()  # type: ignore[return-value]

    @strawberry.field
    def with_info(self, info: strawberry.Info) -> str:
        return info.field_name

    @strawberry.field
    def times(self, n: int) -> int:
        return self.plain * n

    @strawberry.field
    async def awaited(self) -> int:
        return self.plain

    @strawberry.field(permission_classes=[Never])
    def guarded(self) -> int:
        return 0


@strawberry.type
class Query:
    @strawberry.field
    def thing(self) -> Thing:
        return Thing(plain=21)


def test_only_self_only_methods_are_lean_and_answers_do_not_change() -> None:
    query = "{ thing { plain doubled later withInfo times(n: 3) awaited guarded } }"
    plain = strawberry.Schema(query=Query)
    lean = strawberry.Schema(query=Query)
    assert lean_resolvers(lean) == 3  # Query.thing, Thing.doubled, Thing.later
    before = asyncio.run(plain.execute(query))
    after = asyncio.run(lean.execute(query))
    assert after.data == before.data == None  # noqa: E711  (guarded is non-null and refused)
    assert [e.message for e in after.errors or []] == [e.message for e in before.errors or []] == ["no"]
    query = "{ thing { plain doubled later withInfo times(n: 3) awaited } }"
    assert asyncio.run(lean.execute(query)).data == asyncio.run(plain.execute(query)).data == {"thing": {
        "plain": 21, "doubled": 42, "later": 22, "withInfo": "withInfo", "times": 63, "awaited": 21}}


def test_the_gateway_schema_resolves_its_record_fields_lean() -> None:
    schema = build_schema()
    run = schema._schema.type_map["OpenMLRun"].fields  # type: ignore[attr-defined]
    assert run["status"].resolve.__qualname__.startswith("_calling")
    assert not run["evaluation"].resolve.__qualname__.startswith("_calling")  # has an argument
