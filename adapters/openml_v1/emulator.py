"""A local aiohttp server that speaks the legacy OpenML v1 XML API, with seeded data and fault injection."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters._emulator import RunningEmulator as _RunningEmulator
from adapters._emulator import run_forever, serve
from adapters.openml_v1.emulator_api import ApiError, ApiRequest, dispatch, splits_arff
from adapters.openml_v1.emulator_corpus import RESERVED_IDS, load_corpus
from adapters.openml_v1.emulator_data import Store, build_store
from adapters.openml_v1.emulator_faults import Fault, fault_response
from adapters.openml_v1.emulator_render import error_xml

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

_MAX_PATH = 8000
_RECORDED_HEADERS = ("x-request-id", "user-agent", "accept-encoding", "content-type")
_HTML_414 = ("<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n<center><h1>414 "
             "Request-URI Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_NO_CACHE = {"Cache-Control": "no-store, no-cache, must-revalidate", "Pragma": "no-cache",
             "Expires": "Thu, 19 Nov 1981 08:52:00 GMT"}


def _default_keys() -> Mapping[str, int]:
    return {"demo-key-admin": 1, "demo-key-alice": 2, "demo-key-bob": 3}


def default_corpus_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`GATEWAY_OPENML_CORPUS_DIR`, else `<project root>/../shared/openml-corpus`."""
    env = os.environ if environ is None else environ
    if env.get("GATEWAY_OPENML_CORPUS_DIR"):
        return Path(env["GATEWAY_OPENML_CORPUS_DIR"])
    return Path(__file__).resolve().parents[2].parent / "shared" / "openml-corpus"


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    seed: int = 42
    n_datasets: int = 500
    n_tasks: int = 2000
    n_flows: int = 300
    n_runs: int = 20000
    latency_ms: float = 0.0
    include_corpus: bool = True
    corpus_dir: Path | None = None
    api_keys: Mapping[str, int] = field(default_factory=_default_keys)


@dataclass
class RecordedCall:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    status: int


@dataclass
class EmulatorState:
    """Mutable per-app state: the data store, recorded calls, faults and the latency knob."""

    store: Store
    config: EmulatorConfig
    latency_ms: float = 0.0
    calls: list[RecordedCall] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    hanging: set[asyncio.Task[Any]] = field(default_factory=set)

    def reset_calls(self) -> None:
        self.calls.clear()

    def count(self, prefix: str = "") -> int:
        """Number of recorded calls whose path (or path after the API root) starts with `prefix`."""
        return sum(1 for c in self.calls if c.path.startswith(prefix) or _api_tail(c.path).startswith(prefix))

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def take_fault(self, tail: str) -> Fault | None:
        """The first live fault whose prefix matches `tail`, consuming one of its `times`."""
        for fault in list(self.faults):
            if tail.startswith(fault.prefix.lstrip("/")):
                if fault.consume():
                    return fault
                self.faults.remove(fault)
        return None

    def release_hangs(self) -> None:
        for task in list(self.hanging):
            task.cancel()


EMULATOR_STATE = web.AppKey("openml_emulator_state", EmulatorState)


def _api_tail(path: str) -> str:
    """`/api/v1/xml/run/list/task/31` -> `run/list/task/31` (also without the format segment)."""
    segs = [s for s in path.split("/") if s]
    if segs[:2] == ["api", "v1"]:
        segs = segs[2:]
        if segs[:1] in (["xml"], ["json"]):
            segs = segs[1:]
    return "/".join(segs)


def _xml(body: str | bytes, status: int = 200) -> web.Response:
    data = body.encode() if isinstance(body, str) else body
    resp = web.Response(body=data, status=status, content_type="text/xml", charset="utf-8", headers=_NO_CACHE)
    return resp


async def _form(request: web.Request) -> dict[str, str]:
    if request.method != "POST" or not request.can_read_body:
        return {}
    out: dict[str, str] = {}
    for key, value in (await request.post()).items():
        if isinstance(value, str):
            out[key] = value
        else:  # an uploaded file field (e.g. `description`)
            out[key] = value.file.read().decode("utf-8", "replace")
    return out


async def _api(state: EmulatorState, request: web.Request, tail: str, form: dict[str, str]) -> web.Response:
    params = {**request.query, **form}
    key = params.get("api_key") or None
    user = state.config.api_keys.get(key) if key else None
    base = f"{request.scheme}://{request.host}"
    try:
        if key and user is None:
            raise ApiError(103)
        req = ApiRequest(request.method, [s for s in tail.split("/") if s], params, user, bool(key), base)
        return _xml(dispatch(state.store, req))
    except ApiError as exc:
        return _xml(error_xml(exc.code, None, exc.additional), exc.status)


def _files(state: EmulatorState, request: web.Request, tail: str) -> web.Response:
    segs = tail.split("/")
    if segs[:2] == ["api_splits", "get"] and len(segs) >= 3 and segs[2].isdigit():
        body = splits_arff(state.store, int(segs[2]))
        if body is None:
            return web.Response(text="Task not found", status=412)
        return web.Response(body=body if isinstance(body, bytes) else body.encode(), content_type="text/plain")
    file_id = segs[3] if segs[:3] == ["data", "v1", "download"] and len(segs) > 3 else (
        segs[2] if segs[:2] == ["data", "download"] and len(segs) > 2 else None)
    raw = state.store.raw.get(f"download/{file_id}") if file_id else None
    if raw is None:
        return web.Response(text="File not found", status=404)
    return web.Response(body=raw, content_type="text/plain")


async def _handle(request: web.Request) -> web.StreamResponse:
    state = request.app[EMULATOR_STATE]
    form = await _form(request)
    headers = {h: request.headers[h] for h in _RECORDED_HEADERS if h in request.headers}
    call = RecordedCall(request.method, request.path, dict(request.query), form, headers, 0)
    state.calls.append(call)
    if len(request.raw_path) > _MAX_PATH:
        call.status = 414
        return web.Response(text=_HTML_414, status=414, content_type="text/html")
    if state.latency_ms > 0:
        await asyncio.sleep(state.latency_ms / 1000)
    is_api = request.path.startswith("/api/v1")
    tail = _api_tail(request.path) if is_api else request.path.lstrip("/")
    resp: web.StreamResponse = await _api(state, request, tail, form) if is_api else _files(state, request, tail)
    fault = state.take_fault(tail)
    if fault is not None:
        task = asyncio.current_task()
        if task is not None:
            state.hanging.add(task)
        try:
            normal = resp.body if isinstance(resp, web.Response) and isinstance(resp.body, bytes) else b""
            resp = await fault_response(fault, request, normal) or resp
        finally:
            if task is not None:
                state.hanging.discard(task)
    if isinstance(resp, web.Response) and is_api and fault is None and "gzip" in request.headers.get(
            "Accept-Encoding", ""):
        resp.enable_compression(web.ContentCoding.gzip)  # the real server gzips (openml-python warns if not)
    call.status = resp.status
    return resp


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
    body = await request.json()
    state.latency_ms = float(body.get("ms", 0))
    return web.json_response({"ok": True, "ms": state.latency_ms})


async def _health(request: web.Request) -> web.Response:
    store = request.app[EMULATOR_STATE].store
    return web.json_response({"status": "ok", "datasets": len(store.datasets), "tasks": len(store.tasks),
                              "flows": len(store.flows), "runs": len(store.all_run_ids())})


def build_state(config: EmulatorConfig) -> EmulatorState:
    """Generate the seeded store (plus the recorded corpus, when present) for `config`."""
    store = build_store(config.seed, config.n_datasets, config.n_tasks, config.n_flows, config.n_runs,
                        RESERVED_IDS if config.include_corpus else None)
    if config.include_corpus:
        corpus = config.corpus_dir or default_corpus_dir()
        if corpus.is_dir():
            load_corpus(store, corpus)
    return EmulatorState(store=store, config=config, latency_ms=config.latency_ms)


def create_app(config: EmulatorConfig) -> web.Application:
    """The emulator as an aiohttp application; `app[EMULATOR_STATE]` is its `EmulatorState`."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[EMULATOR_STATE] = build_state(config)
    app.router.add_route("*", "/_emulator/calls", _calls)
    app.router.add_route("*", "/_emulator/faults", _faults)
    app.router.add_post("/_emulator/latency", _latency)
    app.router.add_get("/_emulator/health", _health)
    app.router.add_route("*", "/{tail:.*}", _handle)

    async def _on_shutdown(app: web.Application) -> None:
        app[EMULATOR_STATE].release_hangs()

    app.on_shutdown.append(_on_shutdown)
    return app


_SERVER_ARGS: dict[str, Any] = {"max_line_size": 65536, "max_field_size": 65536, "handler_cancellation": True}


RunningEmulator = _RunningEmulator[EmulatorState]


async def start_emulator(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> RunningEmulator:
    """Serve the emulator on `host:port` (0 picks a free port) in the running event loop."""
    app = create_app(config)
    runner, base = await serve(app, host, port, **_SERVER_ARGS)
    return RunningEmulator(url=f"{base}/api/v1/xml", base_url=base, state=app[EMULATOR_STATE], runner=runner)


def run_emulator(config: EmulatorConfig, host: str, port: int) -> None:
    """Blocking entry point for `gateway emulate openml`; prints the API root."""

    run_forever(lambda: start_emulator(config, host, port), "openml")
