"""Serving plumbing shared by the backend emulators: bind an aiohttp app on loopback, or run one forever."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

__all__ = ["run_forever", "serve"]


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on ``host:port`` (0 picks a free port) in the running loop; returns the runner and base URL."""
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}"


def run_forever(start: Callable[[], Awaitable[Any]], label: str) -> None:
    """Blocking: start an emulator, print ``<label>: <url>``, serve until interrupted, then close it."""

    async def main() -> None:
        emulator = await start()
        print(f"{label}: {emulator.url}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await emulator.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
