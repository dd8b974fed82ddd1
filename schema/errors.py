"""GraphQL error formatting in one schema extension.

Known errors (the gateway's taxonomy) keep their message and get ``extensions.code``, ``backend`` and
``backendCode``; parse and validation errors get ``GRAPHQL_PARSE_FAILED`` / ``GRAPHQL_VALIDATION_FAILED``;
anything else becomes ``INTERNAL`` with a generic message (the details go to the log, never to the
client: no stack traces, backend URLs or credentials).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.errors import GatewayError

__all__ = ["GatewayErrorFormatter", "format_error"]

log = logging.getLogger("gateway.errors")


def format_error(error: GraphQLError) -> GraphQLError:
    """Return the client-facing version of one GraphQL error."""
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if isinstance(original, KeyError) and error.path and error.path[0] == "_entities":
        return GraphQLError(f"Unknown entity type in _entities representations: {original}.", nodes=error.nodes,
                            path=error.path, extensions={"code": "BAD_USER_INPUT"})
    if isinstance(original, GatewayError):
        return GraphQLError(original.message, nodes=error.nodes, path=error.path, extensions=original.extensions())
    if original is None or isinstance(original, GraphQLError):
        ext = dict(error.extensions or {})
        if "code" not in ext and "tokens. Parsing aborted" in error.message:
            ext["code"] = "QUERY_TOO_COMPLEX"
        if "code" not in ext and error.message.startswith("Variable '$"):
            ext["code"] = "BAD_USER_INPUT"  # variables that do not coerce (Apollo's code)
        if "code" not in ext:
            ext["code"] = "GRAPHQL_PARSE_FAILED" if error.message.startswith("Syntax Error") else (
                "GRAPHQL_VALIDATION_FAILED" if error.path is None else "BAD_USER_INPUT"
            )
        return GraphQLError(error.message, nodes=error.nodes, path=error.path, extensions=ext)
    log.error("unexpected error at %s: %r", ".".join(map(str, error.path or [])), original, exc_info=original)
    return GraphQLError("Internal server error.", nodes=error.nodes, path=error.path,
                        extensions={"code": "INTERNAL"})


class GatewayErrorFormatter(SchemaExtension):
    """Rewrites every error of a result into the gateway's taxonomy before it is sent."""

    def on_operation(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        # Parse errors travel in a result Strawberry builds after this hook; they are plain GraphQLErrors,
        # so their extensions are completed in place.
        for error in ctx.pre_execution_errors or ():
            if error.original_error is None:
                error.extensions = format_error(error).extensions
        result = ctx.result
        partial = getattr(ctx.context, "partial_errors", None)
        if result is not None and partial:
            extra = [GraphQLError(e.message, path=list(path), extensions=e.extensions()) for path, e in partial]
            result.errors = [*(result.errors or []), *extra]
        if result is not None and result.errors:
            result.errors = [format_error(e) for e in result.errors]
