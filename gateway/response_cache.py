"""Whole-response cache for GraphQL queries: an ASGI wrapper in front of the GraphQL view (optional).

A repeated identical query (same document, variables, operation name, accepted media type and credential
scope) is answered with the stored bytes without running GraphQL at all. Only complete successes (HTTP 200,
no ``errors``) of query operations are stored, for ``ttl`` seconds (the mutable records' TTL, so an answer is
never older than the records it was built from); any mutation, here or on another replica (the record
cache's invalidation hook), empties it. Credentials are part of the key as a hash, never in clear.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.context import CREDENTIAL_HEADERS

__all__ = ["ResponseCache"]

_VARY_HEADERS = (b"accept", *(h.encode() for h in CREDENTIAL_HEADERS.values()), b"apollo-federation-include-trace")


def _operation_type(query: str, operation_name: str | None) -> OperationType | None:
    try:
        document = parse(query, max_tokens=5000)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    return operations[0].operation if len(operations) == 1 else None


class ResponseCache:
    """Serve repeated successful GraphQL queries from memory; anything else passes through untouched."""

    def __init__(self, app: ASGIApp, *, ttl: float, max_entries: int = 2048, max_body_bytes: int = 1 << 20) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._entries: TTLCache[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = TTLCache(
            maxsize=max(1, max_entries), ttl=max(ttl, 0.001))
        self._kinds: dict[str, OperationType | None] = {}
        self.hits = 0
        self.misses = 0

    def clear(self, *_args: Any) -> None:
        """Forget every stored response (a mutation happened somewhere)."""
        self._entries.clear()

    def _kind(self, query: str, operation_name: str | None) -> OperationType | None:
        key = f"{operation_name}\x00{query}"
        if key not in self._kinds:
            if len(self._kinds) > 4096:
                self._kinds.clear()
            self._kinds[key] = _operation_type(query, operation_name)
        return self._kinds[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, replay = await self._read(receive)
        request = self._request_of(body) if body is not None else None
        if request is None:
            await self.app(scope, replay, send)
            return
        query, variables, operation_name = request
        kind = self._kind(query, operation_name)
        if kind is not OperationType.QUERY:
            await self.app(scope, replay, send)
            if kind is OperationType.MUTATION:
                self.clear()
            return
        headers = dict(scope.get("headers") or [])
        vary = b"\x00".join(headers.get(name, b"") for name in _VARY_HEADERS)
        key = hashlib.sha256(b"\x00".join([query.encode(), json.dumps(variables, sort_keys=True).encode(),
                                           (operation_name or "").encode(), vary])).hexdigest()
        stored = self._entries.get(key)
        if stored is not None:
            self.hits += 1
            status, response_headers, payload = stored
            await send({"type": "http.response.start", "status": status, "headers": response_headers})
            await send({"type": "http.response.body", "body": payload})
            return
        self.misses += 1
        captured: dict[str, Any] = {"status": 0, "headers": [], "chunks": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["chunks"].append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, capture)
        payload = b"".join(captured["chunks"])
        if captured["status"] == 200 and b'"errors"' not in payload:
            self._entries[key] = (200, captured["headers"], payload)

    async def _read(self, receive: Receive) -> tuple[bytes | None, Callable[[], Any]]:
        """Read the whole body (up to the cap) and return a ``receive`` that replays it to the inner app."""
        chunks: list[bytes] = []
        size = 0
        messages: list[Message] = []
        too_big = False
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            if size > self.max_body_bytes:
                too_big = True  # the view refuses it (413): step aside without reading the rest
                break
            if not message.get("more_body", False):
                break
        queue = list(messages)

        async def replay() -> Message:
            if queue:
                return queue.pop(0)
            return await receive()

        return (None if too_big else b"".join(chunks)), replay

    @staticmethod
    def _request_of(body: bytes) -> tuple[str, dict[str, Any], str | None] | None:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return None
        variables = payload.get("variables") or {}
        operation_name = payload.get("operationName")
        if not isinstance(variables, dict) or (operation_name is not None and not isinstance(operation_name, str)):
            return None
        return payload["query"], variables, operation_name
