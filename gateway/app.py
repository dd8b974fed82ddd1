"""The ASGI app: Strawberry's GraphQL view on /graphql, plus /healthz, /readyz and /metrics.

Services (HTTP sessions, cache, adapters) are created in the lifespan and handed to requests through
``app.state``; nothing is global, so several apps can live in one process (tests do this).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.apq import PersistedQueries
from gateway.context import Services
from gateway.errors import GatewayError
from gateway.graphql_view import GatewayGraphQL
from gateway.response_cache import ResponseCache
from gateway.settings import Settings
from schema import build_schema

__all__ = ["GatewayGraphQL", "create_app"]


class Deadline:
    """ASGI wrapper: a GraphQL request that outlives the deadline gets 504 with a GraphQL error body."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, tracking_send), self.seconds)
        except TimeoutError:
            if started:
                raise
            body = {"errors": [{"message": f"The request did not finish within {self.seconds:g} s.",
                                "extensions": {"code": "BACKEND_UNAVAILABLE"}}]}
            await JSONResponse(body, status_code=504)(scope, receive, send)


async def _healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _probe(services: Services, name: str) -> str:
    """Return ``up``, ``degraded`` (answers, but with 5xx), ``down`` or ``circuit_open`` for one backend."""
    http = services.http[name]
    if http.breaker.state == "open":
        return "circuit_open"  # do not knock on a backend the breaker is resting
    path = {"openml": "evaluationmeasure/list"}.get(name, "")
    try:
        response = await asyncio.wait_for(
            http.request("GET", path, endpoint="readyz", idempotent=False), timeout=http.policy.total_timeout
        )
    except (GatewayError, TimeoutError):
        return "down"
    return "up" if response.status < 500 else "degraded"


async def _readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    names = sorted(services.http)
    states = dict(zip(names, await asyncio.gather(*(_probe(services, n) for n in names)), strict=True))
    ready = not names or any(state not in {"down", "circuit_open"} for state in states.values())
    body = {"status": "ready" if ready and all(s == "up" for s in states.values()) else
            ("degraded" if ready else "unavailable"), "backends": states}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(services.telemetry.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


def create_app(settings: Settings, *, services: Services | None = None) -> Starlette:
    """Return the ASGI app for ``settings``; ``services`` may be passed in by tests to inspect them."""
    schema = build_schema(introspection=settings.introspection, max_depth=settings.max_depth,
                          max_aliases=settings.max_aliases, max_tokens=settings.max_tokens,
                          max_cost=settings.max_cost)
    view = GatewayGraphQL(
        schema, graphql_ide="graphiql" if settings.graphiql else None,
        persisted_queries=PersistedQueries.from_settings(settings), max_body_bytes=settings.max_body_bytes,
        max_nesting=settings.max_nesting, max_tokens=settings.max_tokens, get_cache_control=settings.get_cache_control,
    )
    inner: ASGIApp = view
    response_cache = None
    if settings.response_cache:
        response_cache = ResponseCache(view, ttl=settings.cache_ttl, max_entries=settings.response_cache_entries,
                                       max_body_bytes=settings.max_body_bytes)
        inner = response_cache
    graphql_app = Deadline(inner, settings.request_deadline)

    def attach(svc: Services) -> None:
        if response_cache is not None:
            svc.cache.listeners.append(response_cache.clear)  # any record invalidation empties it

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        own = services is None
        app.state.services = services or Services.create(settings)
        if own:
            attach(app.state.services)
            await app.state.services.start()
        try:
            yield {}
        finally:
            if own:
                await app.state.services.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            Route("/healthz", _healthz),
            Route("/readyz", _readyz),
            Route("/metrics", _metrics),
        ],
        lifespan=lifespan,
    )
    if services is not None:
        app.state.services = services
        attach(services)
    return app
