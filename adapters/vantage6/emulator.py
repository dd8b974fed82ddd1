"""A local aiohttp server that speaks vantage6-server 4.15.2's REST API, with seeded data and fault injection.

Routes live under ``/api`` (the backend URL is ``<base>/api``) and answer like the real server: JWT logins
(users with username/password, nodes with their api key, refresh tokens), HATEOAS bodies, ``total-count`` and
``Link`` headers, ``{"msg": ...}`` errors with vantage6's statuses (401 for a missing permission), werkzeug's
``{"message": ...}`` and HTML 404s, and the known 500s. Tests drive it as the real one: they log in as nodes
and PATCH runs. Control routes under ``/_emulator/``: ``calls`` (GET, DELETE), ``faults`` (POST, DELETE),
``latency`` (POST ``{"ms"}``), ``seed`` (GET the seeded names -> ids and node api keys), ``health``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters._emulator import RunningEmulator as _RunningEmulator
from adapters._emulator import run_forever, serve
from adapters.vantage6 import emulator_routes as routes
from adapters.vantage6 import emulator_tasks as tasks
from adapters.vantage6.emulator_data import SeedResult, seed_steps
from adapters.vantage6.emulator_faults import Fault, fault_response
from adapters.vantage6.emulator_http import HTML_404, ApiError, Ctx, Reply, reply
from adapters.vantage6.emulator_render import Methods
from adapters.vantage6.emulator_routes import TokenPolicy
from adapters.vantage6.emulator_seed import apply_steps
from adapters.vantage6.emulator_store import Store

__all__ = [
    "EMULATOR_STATE",
    "EmulatorConfig",
    "EmulatorState",
    "Fault",
    "RecordedCall",
    "RunningEmulator",
    "create_app",
    "run_emulator",
    "start_emulator",
]

VERSION = "4.15.2"
_RECORDED_HEADERS = ("content-type", "user-agent", "x-request-id")
Handler = Callable[..., Reply]


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """How to build one emulator: the seed of its randomness, whether to load the seed data, the JWT secret
    and token lifetimes (vantage6: 6 h and 48 h), and an initial latency."""

    seed: int = 42
    seeded: bool = True
    latency_ms: float = 0.0
    jwt_secret: str = "vantage6-emulator-secret"
    access_ttl: float = 6 * 3600
    refresh_ttl: float = 48 * 3600


@dataclass
class RecordedCall:
    """One request the emulator received (no credentials are recorded)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    status: int = 0


@dataclass
class EmulatorState:
    """Mutable per-app state: the store, the seed map, recorded calls, faults and the latency knob."""

    store: Store
    seed: SeedResult
    config: EmulatorConfig
    methods: Methods
    tokens: TokenPolicy
    latency_ms: float = 0.0
    calls: list[RecordedCall] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    hanging: set[asyncio.Task[Any]] = field(default_factory=set)

    def reset_calls(self) -> None:
        self.calls.clear()

    def count(self, prefix: str = "", method: str | None = None) -> int:
        """Recorded API calls whose path after ``/api/`` starts with ``prefix`` (and of ``method``, if given)."""
        return sum(1 for c in self.calls if c.path.removeprefix("/api/").startswith(prefix)
                   and (method is None or c.method == method))

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def take_fault(self, method: str, tail: str) -> Fault | None:
        """The first live fault matching ``tail``, consuming one of its ``times``."""
        for fault in list(self.faults):
            if fault.matches(method, tail):
                if fault.consume():
                    return fault
                self.faults.remove(fault)
        return None

    def release_hangs(self) -> None:
        for task in list(self.hanging):
            task.cancel()


EMULATOR_STATE = web.AppKey("vantage6_emulator_state", EmulatorState)

_ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(p), h) for p, h in [
        (r"health", {"GET": lambda ctx: reply({"database": True})}),
        (r"version", {"GET": lambda ctx: reply({"version": VERSION})}),
        (r"token/user", {"POST": routes.token_user}),
        (r"token/node", {"POST": routes.token_node}),
        (r"token/refresh", {"POST": routes.token_refresh}),
        (r"organization", {"GET": routes.organization_list, "POST": routes.organization_post}),
        (r"organization/(\d+)", {"GET": routes.organization_get, "PATCH": None, "DELETE": None}),
        (r"collaboration", {"GET": routes.collaboration_list, "POST": routes.collaboration_post}),
        (r"collaboration/(\d+)", {"GET": routes.collaboration_get, "PATCH": None, "DELETE": None}),
        (r"node", {"GET": routes.node_list, "POST": routes.node_post}),
        (r"node/(\d+)", {"GET": routes.node_get, "PATCH": None, "DELETE": None}),
        (r"user", {"GET": routes.user_list, "POST": routes.user_post}),
        (r"user/(\d+)", {"GET": routes.user_get, "PATCH": None, "DELETE": None}),
        (r"task", {"GET": tasks.task_list, "POST": tasks.task_post}),
        (r"task/(\d+)", {"GET": tasks.task_get, "DELETE": tasks.task_delete}),
        (r"task/(\d+)/status", {"GET": tasks.task_status}),
        (r"run", {"GET": tasks.run_list}),
        (r"run/(\d+)", {"GET": tasks.run_get, "PATCH": tasks.run_patch}),
        (r"result", {"GET": tasks.result_list}),
        (r"result/(\d+)", {"GET": tasks.result_get}),
        (r"kill/task", {"POST": tasks.kill_task}),
    ]  # type: ignore[misc]
]
_TOKEN_ROUTES = frozenset({"token/user", "token/node", "token/refresh"})


def _dispatch(state: EmulatorState, ctx: Ctx, tail: str) -> Reply:
    for pattern, handlers in _ROUTES:
        match = pattern.fullmatch(tail)
        if match is None:
            continue
        method = "GET" if ctx.method == "HEAD" else ctx.method
        if method not in handlers:
            return reply({"message": "The method is not allowed for the requested URL."}, 405)
        handler = handlers[method]
        if handler is None:
            return reply({"msg": f"{method} /{tail} is not emulated"}, 501)
        try:
            if tail in _TOKEN_ROUTES:
                return handler(ctx, state.tokens)
            return handler(ctx, *(int(g) for g in match.groups()))
        except ApiError as exc:
            return exc.reply
    return Reply(404, HTML_404, content_type="text/html")


async def _handle(request: web.Request) -> web.StreamResponse:
    state = request.app[EMULATOR_STATE]
    headers = {h: request.headers[h] for h in _RECORDED_HEADERS if h in request.headers}
    call = RecordedCall(request.method, request.path, list(request.query.items()), headers)
    state.calls.append(call)
    if state.latency_ms > 0:
        await asyncio.sleep(state.latency_ms / 1000)
    raw = await request.read()
    ctx = Ctx(store=state.store, methods=state.methods, api="/api", method=request.method, path=request.path,
              query=request.query, headers=request.headers, raw_body=raw, secret=state.config.jwt_secret)
    tail = request.path.removeprefix("/api/") if request.path.startswith("/api/") else "\0"
    answer = _dispatch(state, ctx, tail)
    # Flask sends ``application/json`` without a charset and ``text/html; charset=utf-8``
    charset = "utf-8" if answer.content_type.startswith("text/") else None
    resp = web.Response(body=answer.body.encode("utf-8"), status=answer.status, content_type=answer.content_type,
                        charset=charset, headers=answer.headers)
    fault = state.take_fault(request.method, tail)
    if fault is not None:
        task = asyncio.current_task()
        if task is not None:
            state.hanging.add(task)
        try:
            resp = await fault_response(fault, resp) or resp
        finally:
            if task is not None:
                state.hanging.discard(task)
    call.status = resp.status
    return resp


async def _calls(request: web.Request) -> web.Response:
    state = request.app[EMULATOR_STATE]
    if request.method == "DELETE":
        state.reset_calls()
        return web.json_response({"ok": True})
    return web.json_response([dataclasses.asdict(c) for c in state.calls])


async def _faults(request: web.Request) -> web.Response:
    state = request.app[EMULATOR_STATE]
    if request.method == "DELETE":
        state.clear_faults()
        return web.json_response({"ok": True})
    try:
        state.add_fault(Fault.from_json(await request.json()))
    except (ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"ok": True, "faults": len(state.faults)})


async def _latency(request: web.Request) -> web.Response:
    state = request.app[EMULATOR_STATE]
    state.latency_ms = float((await request.json()).get("ms", 0))
    return web.json_response({"ok": True, "ms": state.latency_ms})


async def _seed(request: web.Request) -> web.Response:
    seed = request.app[EMULATOR_STATE].seed
    return web.json_response({
        "organizations": seed.organizations, "collaborations": seed.collaborations,
        "nodes": [[org, collab, node] for (org, collab), node in seed.nodes.items()],
        "node_keys": {str(k): v for k, v in seed.node_keys.items()}, "users": seed.users,
        "tasks": {str(k): v for k, v in seed.tasks.items()},
        "runs": [[task, org, run] for (task, org), run in seed.runs.items()],
    })


async def _health(request: web.Request) -> web.Response:
    store = request.app[EMULATOR_STATE].store
    return web.json_response({"status": "ok", "organizations": len(store.orgs), "tasks": len(store.tasks),
                              "runs": len(store.runs)})


def build_state(config: EmulatorConfig) -> EmulatorState:
    """A store seeded with ``emulator_data``'s plan (unless ``config.seeded`` is False)."""
    store = Store(key_seed=config.seed)
    seed = apply_steps(store, seed_steps()) if config.seeded else SeedResult()
    return EmulatorState(store=store, seed=seed, config=config, methods=Methods(config.seed),
                         tokens=TokenPolicy(config.access_ttl, config.refresh_ttl), latency_ms=config.latency_ms)


def create_app(config: EmulatorConfig) -> web.Application:
    """The emulator as an aiohttp application; ``app[EMULATOR_STATE]`` is its ``EmulatorState``."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[EMULATOR_STATE] = build_state(config)
    app.router.add_route("*", "/_emulator/calls", _calls)
    app.router.add_route("*", "/_emulator/faults", _faults)
    app.router.add_post("/_emulator/latency", _latency)
    app.router.add_get("/_emulator/seed", _seed)
    app.router.add_get("/_emulator/health", _health)
    app.router.add_route("*", "/{tail:.*}", _handle)

    async def _on_shutdown(app: web.Application) -> None:
        app[EMULATOR_STATE].release_hangs()

    app.on_shutdown.append(_on_shutdown)
    return app


RunningEmulator = _RunningEmulator[EmulatorState]


async def start_emulator(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> RunningEmulator:
    """Serve the emulator on ``host:port`` (0 picks a free port) in the running event loop."""
    app = create_app(config)
    runner, base = await serve(app, host, port)
    return RunningEmulator(url=f"{base}/api", base_url=base, state=app[EMULATOR_STATE], runner=runner)


def run_emulator(config: EmulatorConfig, host: str, port: int) -> None:
    """Blocking entry point for ``gateway emulate vantage6``; prints ``vantage6: <API root>``."""
    run_forever(lambda: start_emulator(config, host, port), "vantage6")
