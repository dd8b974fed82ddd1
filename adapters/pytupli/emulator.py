"""A local aiohttp server that speaks pytupli 1.2.9's REST API, seeded with linked data, with fault injection.

Routes, bodies, statuses, messages and quirks follow the real server (see ``emulator_api``); control routes
live under ``/_emulator/`` (``calls`` GET/DELETE, ``faults`` POST/DELETE, ``latency`` POST ``{"ms"}``,
``health`` GET), and the same controls are methods of ``EmulatorState`` for in-process tests.
Recorded calls never hold credentials: only whether an ``Authorization`` header was sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters._emulator import RunningEmulator as _RunningEmulator
from adapters._emulator import run_forever, serve
from adapters.pytupli.emulator_api import ApiConfig, PytupliApi
from adapters.pytupli.emulator_data import DEFAULT_ADMIN_PASSWORD, SeedPlan, build_plan, seed_store
from adapters.pytupli.emulator_faults import Fault, fault_response
from adapters.pytupli.emulator_routes import ROUTES
from adapters.pytupli.emulator_store import Store

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


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """How the emulated server is set up (its env vars) and seeded."""

    seed: int = 7
    seeded: bool = True
    admin_password: str = DEFAULT_ADMIN_PASSWORD
    secret: str = "pytupli-emulator-secret"
    open_access: bool = True
    open_signup: bool = True
    access_token_minutes: float = 30.0
    refresh_token_minutes: float = 60 * 7 * 30
    latency_ms: float = 0.0

    def __repr__(self) -> str:
        return f"EmulatorConfig(seed={self.seed}, seeded={self.seeded}, open_access={self.open_access})"


@dataclass
class RecordedCall:
    """One request the emulator answered (no credentials: ``authorized`` says whether a header was sent)."""

    method: str
    path: str
    query: dict[str, str]
    authorized: bool
    status: int = 0


@dataclass
class EmulatorState:
    """Mutable per-app state: the store, the plan it was seeded with, recorded calls, faults, latency."""

    store: Store
    plan: SeedPlan
    config: EmulatorConfig
    latency_ms: float = 0.0
    calls: list[RecordedCall] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    hanging: set[asyncio.Task[Any]] = field(default_factory=set)

    def reset_calls(self) -> None:
        """Forget the recorded calls."""
        self.calls.clear()

    def count(self, prefix: str = "") -> int:
        """Number of recorded calls whose path starts with ``prefix``."""
        return sum(1 for c in self.calls if c.path.startswith(prefix))

    def add_fault(self, fault: Fault) -> None:
        """Inject ``fault`` (after the ones already waiting)."""
        self.faults.append(fault)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.faults.clear()

    def take_fault(self, path: str) -> Fault | None:
        """The first live fault whose prefix matches ``path``, consuming one of its ``times``."""
        for fault in list(self.faults):
            if path.startswith(fault.prefix):
                if fault.consume():
                    return fault
                self.faults.remove(fault)
        return None

    def release_hangs(self) -> None:
        """Cancel handlers stuck in a ``hang`` fault."""
        for task in list(self.hanging):
            task.cancel()


EMULATOR_STATE = web.AppKey("pytupli_emulator_state", EmulatorState)
EMULATOR_API = web.AppKey("pytupli_emulator_api", PytupliApi)


async def _handle(request: web.Request) -> web.StreamResponse:
    state = request.app[EMULATOR_STATE]
    call = RecordedCall(request.method, request.path, dict(request.query), "Authorization" in request.headers)
    state.calls.append(call)
    if state.latency_ms > 0:
        await asyncio.sleep(state.latency_ms / 1000)
    response = await request.app[EMULATOR_API].handle(request)
    fault = state.take_fault(request.path)
    if fault is not None:
        task = asyncio.current_task()
        if task is not None:
            state.hanging.add(task)
        try:
            response = await fault_response(fault, response) or response
        finally:
            if task is not None:
                state.hanging.discard(task)
    call.status = response.status
    if _drops_connection(request, response, fault):
        # as uvicorn does after an exception escapes the app (pytupli's download hands Starlette a lambda as
        # background task; any unhandled error gives the bare 500): the body is sent, then the socket closes
        await response.prepare(request)
        await response.write_eof()
        if request.transport is not None:
            request.transport.close()
    return response


def _drops_connection(request: web.Request, response: web.Response, fault: Fault | None) -> bool:
    if response.status == 500 and response.content_type == "text/plain":
        return True
    return request.path == "/artifacts/download" and response.status == 200 and fault is None


async def _calls(request: web.Request) -> web.Response:
    state = request.app[EMULATOR_STATE]
    if request.method == "DELETE":
        state.reset_calls()
        return web.json_response({"ok": True})
    return web.json_response([c.__dict__ for c in state.calls])


async def _faults(request: web.Request) -> web.Response:
    state = request.app[EMULATOR_STATE]
    if request.method == "DELETE":
        state.clear_faults()
        return web.json_response({"ok": True})
    try:
        fault = Fault.from_json(await request.json())
    except (ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    state.add_fault(fault)
    return web.json_response({"ok": True, "faults": len(state.faults)})


async def _latency(request: web.Request) -> web.Response:
    state = request.app[EMULATOR_STATE]
    state.latency_ms = float((await request.json()).get("ms", 0))
    return web.json_response({"ok": True, "ms": state.latency_ms})


async def _health(request: web.Request) -> web.Response:
    store = request.app[EMULATOR_STATE].store
    return web.json_response({"status": "ok", "benchmarks": len(store.benchmarks), "episodes": len(store.episodes),
                              "artifacts": len(store.artifacts), "users": len(store.users)})


def build_state(config: EmulatorConfig) -> EmulatorState:
    """A store with pytupli's default roles and admin user, seeded with ``build_plan`` unless ``seeded=False``."""
    store = Store(seed=config.seed)
    plan = build_plan(config.admin_password, config.seed)
    if config.seeded:
        seed_store(store, plan)
    else:
        store.add_user("admin", config.admin_password, [{"group": "global", "roles": ["admin"]}])
    return EmulatorState(store=store, plan=plan, config=config, latency_ms=config.latency_ms)


def create_app(config: EmulatorConfig) -> web.Application:
    """The emulator as an aiohttp application; ``app[EMULATOR_STATE]`` is its EmulatorState."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    state = build_state(config)
    app[EMULATOR_STATE] = state
    app[EMULATOR_API] = PytupliApi(state.store, ApiConfig(
        secret=config.secret, open_access=config.open_access, open_signup=config.open_signup,
        access_minutes=config.access_token_minutes, refresh_minutes=config.refresh_token_minutes), ROUTES)
    app.router.add_route("*", "/_emulator/calls", _calls)
    app.router.add_route("*", "/_emulator/faults", _faults)
    app.router.add_post("/_emulator/latency", _latency)
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
    return RunningEmulator(url=base, base_url=base, state=app[EMULATOR_STATE], runner=runner)


def run_emulator(config: EmulatorConfig, host: str, port: int) -> None:
    """Blocking entry point for ``gateway emulate pytupli``; prints ``pytupli: <url>``."""
    run_forever(lambda: start_emulator(config, host, port), "pytupli")
