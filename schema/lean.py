"""Plain method fields resolved without Strawberry's per-field wrapper.

Strawberry wraps every field that has a resolver: it builds an ``Info``, converts arguments, chains field
extensions, then calls the method. Most of this schema's fields are methods taking only ``self`` (they read a
record through a loader and return a value or an awaitable), so for them the wrapper is pure overhead: a
100-row leaderboard resolves about 700 such fields. ``lean_resolvers`` points those graphql-core fields straight
at the method. Fields with arguments, ``info``, a root or parent parameter, field extensions (permissions
included) or an async resolver keep Strawberry's resolver. Schema extensions' middleware (tracing) still wraps
whatever resolver a field has, and graphql-core still awaits what a method returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.types.field import StrawberryField

__all__ = ["lean_resolvers"]


def _method_of(field: Any) -> Callable[[Any], Any] | None:
    """The plain ``self``-only method behind ``field``, or None when Strawberry's wrapper has work to do."""
    if not isinstance(field, StrawberryField) or field.extensions or field.arguments:
        return None
    resolver = field.base_resolver
    if resolver is None or resolver.is_async or resolver.self_parameter is None:
        return None
    if resolver.info_parameter or resolver.root_parameter or resolver.parent_parameter:
        return None
    if list(resolver.signature.parameters) != [resolver.self_parameter.name]:
        return None
    method = resolver.wrapped_func
    return method if callable(method) and not isinstance(method, staticmethod | classmethod) else None


def lean_resolvers(schema: strawberry.Schema) -> int:
    """Resolve every plain method field of ``schema`` by calling the method; return how many fields."""
    count = 0
    for named in schema._schema.type_map.values():  # Strawberry keeps the graphql-core schema there
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for graphql_field in named.fields.values():
            method = _method_of((graphql_field.extensions or {}).get("strawberry-definition"))
            if method is not None:
                graphql_field.resolve = _calling(method)
                count += 1
    return count


def _calling(method: Callable[[Any], Any]) -> Callable[..., Any]:
    def resolve(source: Any, _info: GraphQLResolveInfo) -> Any:
        return method(source)

    return resolve
