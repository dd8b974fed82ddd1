"""A local aiohttp server that speaks MLTE 2.7's REST API, seeded with linked data, with fault injection.

``start_emulator(config)`` serves it on 127.0.0.1 and returns ``RunningEmulator(url, base_url, state)``;
``url`` is the API root (``http://127.0.0.1:P/api``), as ``GATEWAY_MLTE_URL`` expects. The default user is
``admin``/``admin1234`` (as on a fresh real server) and the seed adds ``alice``/``alice-pass-1`` (regular).
Control routes (not part of MLTE): ``GET|DELETE /_emulator/calls``, ``POST|DELETE /_emulator/faults``,
``POST /_emulator/latency {"ms"}``, ``POST /_emulator/rotate-secret`` (every issued token becomes invalid, as
after a restart with a new secret), ``POST /_emulator/reset`` (the seed again) and ``GET /_emulator/health``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters._emulator import RunningEmulator as _RunningEmulator
from adapters._emulator import run_forever, serve
from adapters.mlte.emulator_api import API_PREFIX, ApiRequest, MLTEBackend
from adapters.mlte.emulator_data import ADMIN, SeedCall, seed_plan
from adapters.mlte.emulator_faults import Fault, fault_response

__all__ = [
    "EMULATOR_STATE",
    "EmulatorConfig",
    "EmulatorState",
    "Fault",
    "RecordedCall",
    "RunningEmulator",
    "build_backend",
    "create_app",
    "run_emulator",
    "start_emulator",
]

SEED_EPOCH = 1736154000  # 2025-01-06T09:00:00Z: the seed runs on a clock from here, one second per reading
_RECORDED_HEADERS = ("authorization", "content-type", "x-request-id", "user-agent", "accept")
_SERVER_HEADERS = {"server": "uvicorn", "vary": "Origin"}


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """What the emulator serves: the seed, the JWT secret, the admin password, token lifetime, latency."""

    seeded: bool = True
    extra_models: int = 21
    jwt_secret: str = "mlte-emulator-secret"
    admin_password: str = ADMIN.password
    token_ttl_s: int = 7200
    latency_ms: float = 0.0


@dataclass
class RecordedCall:
    """One request the emulator received (API calls only, not control routes)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self) -> Any:
        """The request body decoded as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


@dataclass
class EmulatorState:
    """Mutable per-app state: the emulated server, recorded calls, faults and the latency knob."""

    backend: MLTEBackend
    config: EmulatorConfig
    latency_ms: float = 0.0
    calls: list[RecordedCall] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    hanging: set[asyncio.Task[Any]] = field(default_factory=set)

    def reset_calls(self) -> None:
        """Forget the recorded calls."""
        self.calls.clear()

    def count(self, prefix: str = "", method: str | None = None) -> int:
        """Recorded calls whose path after ``/api/`` starts with ``prefix`` (and with ``method``, if given)."""
        return sum(1 for c in self.calls if _tail(c.path).startswith(prefix.lstrip("/"))
                   and (method is None or c.method == method))

    def add_fault(self, fault: Fault) -> None:
        """Inject ``fault`` (first match wins; ``times`` bounds it)."""
        self.faults.append(fault)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.faults.clear()

    def take_fault(self, method: str, tail: str) -> Fault | None:
        """The first live fault for this call, consuming one of its ``times``."""
        for fault in list(self.faults):
            if fault.applies(method, tail):
                if fault.consume():
                    return fault
                self.faults.remove(fault)
        return None

    def rotate_secret(self) -> None:
        """Sign with a new secret: every token issued so far is refused (``Signature verification failed.``)."""
        self.backend.secret = secrets.token_hex(16)

    def reset(self) -> None:
        """Throw away every change: a fresh backend with the seed, no faults, no calls."""
        self.backend = build_backend(self.config)
        self.clear_faults()
        self.reset_calls()

    def release_hangs(self) -> None:
        """Cancel handlers stuck in a ``hang`` fault."""
        for task in list(self.hanging):
            task.cancel()


EMULATOR_STATE = web.AppKey("mlte_emulator_state", EmulatorState)


def _tail(path: str) -> str:
    return path[len(API_PREFIX) + 1:] if path.startswith(API_PREFIX + "/") else path.lstrip("/")


def replay(backend: MLTEBackend, calls: list[SeedCall], passwords: dict[str, str]) -> None:
    """Run seed calls through the emulated API as their users (login included); raise if one fails."""
    tokens: dict[str, str] = {}
    for call in calls:
        if call.user not in tokens:
            form = f"grant_type=password&username={call.user}&password={passwords[call.user]}".encode()
            login = backend.handle(ApiRequest("POST", f"{API_PREFIX}/token",
                                              headers={"content-type": "application/x-www-form-urlencoded"},
                                              body=form))
            tokens[call.user] = login.payload["access_token"]
        response = backend.handle(ApiRequest(
            call.method, f"{API_PREFIX}/{call.path}", body=json.dumps(call.json).encode(),
            headers={"authorization": f"Bearer {tokens[call.user]}", "content-type": "application/json"}))
        if response.status != 200:
            raise RuntimeError(f"seed call {call.method} {call.path} failed: {response.status} {response.payload}")
        if call.path == "user" and call.method == "POST":
            passwords[call.json["username"]] = call.json["password"]


def build_backend(config: EmulatorConfig) -> MLTEBackend:
    """A fresh emulated server for ``config``, seeded (deterministically: same config, same data and stamps)."""
    ticks = itertools.count()
    backend = MLTEBackend(secret=config.jwt_secret, admin_password=config.admin_password,
                          token_ttl=config.token_ttl_s, clock=lambda: float(SEED_EPOCH + next(ticks)))
    if config.seeded:
        replay(backend, seed_plan(config.extra_models), {"admin": config.admin_password})
    backend.clock = time.time
    return backend


async def _handle(request: web.Request) -> web.StreamResponse:
    state = request.app[EMULATOR_STATE]
    body = await request.read()
    headers = {h: request.headers[h] for h in _RECORDED_HEADERS if h in request.headers}
    call = RecordedCall(request.method, request.path, dict(request.query), headers, body)
    state.calls.append(call)
    if state.latency_ms > 0:
        await asyncio.sleep(state.latency_ms / 1000)
    api = ApiRequest(request.method, request.path, dict(request.query),
                     {k.lower(): v for k, v in request.headers.items()}, body)
    answer = state.backend.handle(api)
    resp: web.StreamResponse = web.Response(body=answer.encode(), status=answer.status,
                                            headers={"Content-Type": answer.content_type, **_SERVER_HEADERS,
                                                     **answer.headers})
    fault = state.take_fault(request.method, _tail(request.path))
    if fault is not None:
        task = asyncio.current_task()
        if task is not None:
            state.hanging.add(task)
        try:
            resp = await fault_response(fault, request, answer.encode()) or resp
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
    return web.json_response([{**c.__dict__, "body": c.body.decode("utf-8", "replace")} for c in state.calls])


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


async def _control(request: web.Request) -> web.Response:
    state = request.app[EMULATOR_STATE]
    action = request.match_info["action"]
    if action == "latency" and request.method == "POST":
        state.latency_ms = float((await request.json()).get("ms", 0))
        return web.json_response({"ok": True, "ms": state.latency_ms})
    if action == "rotate-secret" and request.method == "POST":
        state.rotate_secret()
        return web.json_response({"ok": True})
    if action == "reset" and request.method == "POST":
        state.reset()
        return web.json_response({"ok": True})
    if action == "health":
        store = state.backend.store
        return web.json_response({"status": "ok", "models": len(store.models), "users": len(state.backend.users),
                                  "artifacts": sum(len(m.artifacts) + sum(map(len, m.versions.values()))
                                                   for m in store.models.values())})
    return web.json_response({"error": f"unknown control {request.method} {action}"}, status=404)


def create_app(config: EmulatorConfig) -> web.Application:
    """The emulator as an aiohttp application; ``app[EMULATOR_STATE]`` is its ``EmulatorState``."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[EMULATOR_STATE] = EmulatorState(backend=build_backend(config), config=config, latency_ms=config.latency_ms)
    app.router.add_route("*", "/_emulator/calls", _calls)
    app.router.add_route("*", "/_emulator/faults", _faults)
    app.router.add_route("*", "/_emulator/{action}", _control)
    app.router.add_route("*", "/{tail:.*}", _handle)

    async def _on_shutdown(app: web.Application) -> None:
        app[EMULATOR_STATE].release_hangs()

    app.on_shutdown.append(_on_shutdown)
    return app


RunningEmulator = _RunningEmulator[EmulatorState]


async def start_emulator(config: EmulatorConfig | None = None, host: str = "127.0.0.1",
                         port: int = 0) -> RunningEmulator:
    """Serve the emulator on ``host:port`` (0 picks a free port) in the running event loop."""
    app = create_app(config or EmulatorConfig())
    runner, base = await serve(app, host, port)
    return RunningEmulator(url=f"{base}{API_PREFIX}", base_url=base, state=app[EMULATOR_STATE], runner=runner)


def run_emulator(config: EmulatorConfig, host: str, port: int) -> None:
    """Blocking entry point for ``gateway emulate mlte``; prints ``mlte: <API root>``."""
    run_forever(lambda: start_emulator(config, host, port), "mlte")

