"""A parse cache whose failures go through Strawberry's normal error path (and so through error formatting).

Strawberry's ParserCache parses inside its hook; a syntax error raised there escapes the operation hooks,
so no extension can give it ``extensions.code``. This cache stays silent on failure and lets the regular
parse report it. Results are shared by every request (module-level LRU, bounded).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

__all__ = ["SafeParserCache", "parse_cached"]


@lru_cache(maxsize=1024)
def parse_cached(query: str, max_tokens: int | None) -> DocumentNode:
    """Parse once per distinct document; the result is shared, so callers only read it."""
    return parse(query, max_tokens=max_tokens)


class SafeParserCache(SchemaExtension):
    """Serve parsed documents from a bounded LRU; leave failures to the normal parse."""

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query is not None and ctx.graphql_document is None:
            options: dict[str, Any] = ctx.parse_options or {}
            # a failure is reported by Strawberry's own parse, inside the operation, where errors are formatted
            with contextlib.suppress(GraphQLError):
                ctx.graphql_document = parse_cached(ctx.query, options.get("max_tokens"))
        yield
