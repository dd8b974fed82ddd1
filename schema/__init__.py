"""The Strawberry (Apollo Federation v2) schema of the gateway."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, MaxTokensLimiter, ValidationCache
from strawberry.types import ExecutionContext

from gateway.errors import GatewayError
from schema.errors import GatewayErrorFormatter
from schema.ftv1 import FederatedTracing
from schema.lean import lean_resolvers
from schema.limits import QueryLimits
from schema.mutations import Mutation
from schema.parsing import SafeParserCache
from schema.queries import Query
from schema.telemetry import OperationTelemetry
from schema.types.datasets import Dataset
from schema.types.flows import Flow
from schema.types.mlte import MLTEArtifact, Model, ModelVersion
from schema.types.pytupli import Benchmark, Episode, PytupliArtifact
from schema.types.runs import OpenMLRun, OpenMLRunFile, OpenMLUser, Setup
from schema.types.tasks import OpenMLTask
from schema.types.vantage6 import Collaboration, Organization, Vantage6Node, Vantage6Run, Vantage6Task

__all__ = ["GatewaySchema", "build_schema", "schema_sdl"]

log = logging.getLogger("gateway.graphql")

TYPES: list[type] = [
    Dataset, OpenMLTask, Flow, OpenMLRun, Setup, OpenMLRunFile, OpenMLUser,
    Model, ModelVersion, MLTEArtifact, Benchmark, Episode, PytupliArtifact,
    Collaboration, Organization, Vantage6Node, Vantage6Task, Vantage6Run,
]


def build_schema(
    *, introspection: bool = True, max_depth: int = 15, max_aliases: int = 100, max_tokens: int = 5000,
    max_cost: float = 50_000,
) -> strawberry.federation.Schema:
    """Return the gateway's federated schema (the same object for every request).

    The limits refuse documents before any resolver runs (``QUERY_TOO_COMPLEX``); ``introspection=False``
    refuses introspection queries at validation (production hardening).
    """
    extensions: list[Any] = [
        OperationTelemetry,
        GatewayErrorFormatter,
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        SafeParserCache,
        lambda: ValidationCache(maxsize=1024),
        lambda: QueryLimits(max_depth=max_depth, max_aliases=max_aliases, max_cost=max_cost),
        FederatedTracing,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    schema = GatewaySchema(query=Query, mutation=Mutation, types=TYPES, federation_version="2.11",
                           extensions=extensions)
    lean_resolvers(schema)
    return schema


class GatewaySchema(strawberry.federation.Schema):
    """The federated schema, logging errors in one short line each (never the document or a traceback)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, GatewayError | GraphQLError):
                code = (error.extensions or {}).get("code") or getattr(original, "code", None)
                log.info("graphql error %s at %s: %s", code, error.path, error.message.split("\n", 1)[0][:200])
            # unexpected exceptions are logged with their traceback by the error formatter


def schema_sdl() -> str:
    """Return the SDL printed by `gateway schema` and committed as schema.graphql."""
    return build_schema().as_str() + "\n"
