"""A local aiohttp server that speaks the OpenML v2 server-api (typed JSON, RFC 9457 problems).

It serves THE SAME seeded data as the v1 emulator: the store is built by v1's ``build_state`` from the
same ``EmulatorConfig`` (seed, sizes, recorded corpus), so dataset 31, task 31, flow 5270 or run 100 are
the same entities on both. The routes hang off the app root (``http://127.0.0.1:P/datasets/31``).

``server_url``/``minio_url`` are the server-api's routing config: the roots that dataset, parquet and
splits URLs point at (the PHP file server). Left unset they are this emulator's own root; a test that
compares v1 and v2 points them at the v1 emulator, as production points both APIs at one file server.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters._emulator import RunningEmulator as _RunningEmulator
from adapters._emulator import run_forever, serve
from adapters.openml_v1.emulator import EmulatorConfig as V1EmulatorConfig
from adapters.openml_v1.emulator import build_state
from adapters.openml_v1.emulator_data import Store
from adapters.openml_v2.emulator_api import NO_BODY, Api, Reply, Request, dispatch
from adapters.openml_v2.emulator_checks import Problem
from adapters.openml_v2.emulator_render import Roots

__all__ = [
    "EMULATOR_STATE",
    "EmulatorConfig",
    "EmulatorState",
    "RecordedCall",
    "RunningEmulator",
    "create_app",
    "run_emulator",
    "start_emulator",
]

_RECORDED_HEADERS = ("x-request-id", "user-agent", "accept", "content-type")


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig(V1EmulatorConfig):
    """v1's config (seed, sizes, corpus, api keys, latency) plus the v2 server's routing roots."""

    server_url: str | None = None
    minio_url: str | None = None


@dataclass
class RecordedCall:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int


@dataclass
class EmulatorState:
    """Mutable per-app state: the shared-model store, recorded calls and the latency knob."""

    store: Store
    config: V1EmulatorConfig
    latency_ms: float = 0.0
    calls: list[RecordedCall] = field(default_factory=list)

    def reset_calls(self) -> None:
        self.calls.clear()

    def count(self, prefix: str = "") -> int:
        """Number of recorded calls whose path (without the leading ``/``) starts with ``prefix``."""
        return sum(1 for c in self.calls if c.path.lstrip("/").startswith(prefix.lstrip("/")))


EMULATOR_STATE = web.AppKey("openml_v2_emulator_state", EmulatorState)


def _root(url: str | None, request: web.Request) -> str:
    base = url or f"{request.scheme}://{request.host}"
    return base.rstrip("/") + "/"


def _json(reply: Reply) -> web.Response:
    if reply.status == 204:
        return web.Response(status=204, headers=reply.headers)
    # what Starlette's JSONResponse writes: compact, UTF-8, no NaN
    body = json.dumps(reply.payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return web.Response(body=body.encode(), status=reply.status, content_type=reply.content_type,
                        headers=reply.headers)


async def _decode(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return NO_BODY
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:  # FastAPI's answer to a body that is not JSON
        error = {"type": "json_invalid", "loc": ["body", getattr(exc, "pos", 0)], "msg": "JSON decode error",
                 "input": {}, "ctx": {"error": str(exc).split(":")[0]}}
        raise Problem("validation-error", "Input validation failed.", errors=[error]) from exc


async def _handle(request: web.Request) -> web.StreamResponse:
    state = request.app[EMULATOR_STATE]
    headers = {h: request.headers[h] for h in _RECORDED_HEADERS if h in request.headers}
    call = RecordedCall(request.method, request.path, dict(request.query), None, headers, 0)
    state.calls.append(call)
    if state.latency_ms > 0:
        await asyncio.sleep(state.latency_ms / 1000)
    config = state.config
    server_url = config.server_url if isinstance(config, EmulatorConfig) else None
    minio_url = config.minio_url if isinstance(config, EmulatorConfig) else None
    roots = Roots(_root(server_url, request), _root(minio_url or server_url, request))
    api = Api(state.store, config.api_keys, roots)
    try:
        body = await _decode(request)
        call.body = None if body is NO_BODY else body
        reply = dispatch(api, Request(request.method, request.path, dict(request.query), body))
    except Problem as exc:
        reply = Reply(exc.status, exc.body(), "application/problem+json")
    call.status = reply.status
    return _json(reply)


async def _calls(request: web.Request) -> web.Response:
    state = request.app[EMULATOR_STATE]
    if request.method == "DELETE":
        state.reset_calls()
        return web.json_response({"ok": True})
    return web.json_response([c.__dict__ for c in state.calls])


async def _latency(request: web.Request) -> web.Response:
    state = request.app[EMULATOR_STATE]
    body = await request.json()
    state.latency_ms = float(body.get("ms", 0))
    return web.json_response({"ok": True, "ms": state.latency_ms})


async def _health(request: web.Request) -> web.Response:
    store = request.app[EMULATOR_STATE].store
    return web.json_response({"status": "ok", "datasets": len(store.datasets), "tasks": len(store.tasks),
                              "flows": len(store.flows), "runs": len(store.all_run_ids())})


def create_app(config: V1EmulatorConfig) -> web.Application:
    """The emulator as an aiohttp application; ``app[EMULATOR_STATE]`` is its ``EmulatorState``.

    Accepts v1's ``EmulatorConfig`` too (then every URL points at this emulator's own root).
    """
    app = web.Application(client_max_size=16 * 1024 * 1024)
    v1_state = build_state(config)
    app[EMULATOR_STATE] = EmulatorState(store=v1_state.store, config=config, latency_ms=config.latency_ms)
    app.router.add_route("*", "/_emulator/calls", _calls)
    app.router.add_post("/_emulator/latency", _latency)
    app.router.add_get("/_emulator/health", _health)
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app


RunningEmulator = _RunningEmulator[EmulatorState]


async def start_emulator(config: V1EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> RunningEmulator:
    """Serve the emulator on ``host:port`` (0 picks a free port) in the running event loop.

    ``url`` and ``base_url`` are both the app root: v2 routes hang off it.
    """
    app = create_app(config)
    runner, base = await serve(app, host, port)
    return RunningEmulator(url=base, base_url=base, state=app[EMULATOR_STATE], runner=runner)


def run_emulator(config: V1EmulatorConfig, host: str, port: int) -> None:
    """Blocking entry point (for ``gateway emulate openml-v2``); prints the API root."""

    run_forever(lambda: start_emulator(config, host, port), "openml-v2")
