"""Serving plumbing shared by the backend emulators: bind an aiohttp app on loopback, or run one forever."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from aiohttp import web

__all__ = ["RunningEmulator", "run_forever", "serve"]


@runtime_checkable
class _Hangs(Protocol):
    def release_hangs(self) -> None: ...


S = TypeVar("S")


@dataclass
class RunningEmulator(Generic[S]):
    """A served emulator: ``url`` is the backend URL clients are given, ``base_url`` the server root."""

    url: str
    base_url: str
    state: S
    runner: web.AppRunner

    async def close(self) -> None:
        """Cancel hanging handlers (for emulators with a hang fault) and stop the server."""
        if isinstance(self.state, _Hangs):
            self.state.release_hangs()
        await self.runner.cleanup()


async def serve(app: web.Application, host: str, port: int, **server_args: Any) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on ``host:port`` (0 picks a free port) in the running loop; returns the runner and base URL.

    ``server_args`` go to aiohttp's request handler (header size limits, for instance).
    """
    server_args.setdefault("handler_cancellation", True)
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None, **server_args)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}"


def run_forever(start: Callable[[], Awaitable[Any]], label: str) -> None:
    """Blocking: start an emulator, print ``<label>: <url>``, serve until SIGINT or SIGTERM, then close it.

    The handlers are installed on the loop explicitly: a process started as a background job inherits SIGINT
    ignored, and Python then never raises KeyboardInterrupt, so compose's ``stop_signal: SIGINT`` would hang.
    """

    async def main() -> None:
        emulator = await start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"{label}: {emulator.url}", flush=True)
        try:
            await stop.wait()
        finally:
            await emulator.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
