"""Test helpers: the gateway under uvicorn on 127.0.0.1 and a small GraphQL client (real HTTP only)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import uvicorn

from gateway.app import create_app
from gateway.context import Services
from gateway.observability import Telemetry
from gateway.settings import Settings, load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningGateway:
    url: str
    base_url: str
    services: Services
    session: aiohttp.ClientSession

    async def query(
        self, document: str, variables: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"query": document}
        if variables is not None:
            payload["variables"] = dict(variables)
        async with self.session.post(self.url, json=payload, headers=dict(headers or {})) as resp:
            body = await resp.json(content_type=None)
            assert resp.status == 200, (resp.status, body)
            return body


def settings_for(openml_url: str | None, **overrides: str) -> Settings:
    environ = {"GATEWAY_OPENML_URL": openml_url} if openml_url else {}
    environ.update({f"GATEWAY_{k.upper()}": v for k, v in overrides.items()})
    return load_settings(environ)


@contextlib.asynccontextmanager
async def running_gateway(settings: Settings, telemetry: Telemetry | None = None) -> AsyncIterator[RunningGateway]:
    """Serve the gateway app for ``settings`` under uvicorn on a free loopback port."""
    services = Services.create(settings, telemetry=telemetry)
    await services.start()
    app = create_app(settings, services=services)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    try:
        yield RunningGateway(url=f"http://127.0.0.1:{port}/graphql", base_url=f"http://127.0.0.1:{port}",
                             services=services, session=session)
    finally:
        await session.close()
        server.should_exit = True
        await task
        await services.close()


@contextlib.asynccontextmanager
async def gateway_process(env: Mapping[str, str]) -> AsyncIterator[str]:
    """`gateway serve` as its own process (a replica) with GATEWAY_* ``env``; yields its /graphql URL."""
    import os
    import signal
    import sys

    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--log-level", "warning",
        env={**os.environ, **env}, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                if process.returncode is not None:
                    raise RuntimeError(f"gateway exited with {process.returncode}")
                try:
                    async with session.get(base + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        yield base + "/graphql"
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
