"""The Strawberry (Apollo Federation v2) schema of the gateway."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache

from schema.errors import GatewayErrorFormatter
from schema.queries import Query
from schema.types.datasets import Dataset
from schema.types.flows import Flow
from schema.types.runs import OpenMLRun, OpenMLRunFile, OpenMLUser, Setup
from schema.types.tasks import OpenMLTask

__all__ = ["build_schema", "schema_sdl"]

TYPES: list[type] = [Dataset, OpenMLTask, Flow, OpenMLRun, Setup, OpenMLRunFile, OpenMLUser]


def build_schema(*, introspection: bool = True) -> strawberry.federation.Schema:
    """Return the gateway's federated schema (the same object for every request).

    ``introspection=False`` refuses introspection queries at validation (production hardening).
    """
    extensions: list[Any] = [GatewayErrorFormatter, lambda: ParserCache(maxsize=1024),
                             lambda: ValidationCache(maxsize=1024)]
    if not introspection:
        extensions.append(DisableIntrospection)
    return strawberry.federation.Schema(query=Query, types=TYPES, federation_version="2.11", extensions=extensions)


def schema_sdl() -> str:
    """Return the SDL printed by `gateway schema` and committed as schema.graphql."""
    return build_schema().as_str() + "\n"
