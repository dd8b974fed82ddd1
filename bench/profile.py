"""`python -m bench.profile`: where one leaderboard request spends its time, cold and warm (pyinstrument).

The gateway runs in this process under uvicorn (uvloop), the OpenML emulator in its own process with the
benchmark's injected latency; the profiler samples only while the measured request is in flight. Prints
pyinstrument's call tree for each, trimmed to the frames that took at least ``--min-percent`` of the request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import aiohttp
import uvicorn
from pyinstrument import Profiler

from bench import _procs, leaderboard


async def _profile(app: Any, rows: int, warm: bool, min_percent: float) -> str:
    port = _procs.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    serving = asyncio.ensure_future(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()  # a failed start-up raises here
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}/graphql"
        body = {"query": leaderboard.QUERY, "variables": leaderboard.variables(rows)}
        async with aiohttp.ClientSession() as session:
            for variables in ([leaderboard.variables(2)] if not warm else []) + [body["variables"]] * 2:
                async with session.post(url, json={"query": leaderboard.QUERY, "variables": variables}) as r:
                    await r.read()  # imports, connection pools, caches (warm) or only the process (cold)
            profiler = Profiler(interval=0.0005, async_mode="enabled")
            with profiler:
                async with session.post(url, json=body) as response:
                    await response.read()
        return profiler.output_text(show_all=False, color=False, time="percent_of_total",
                                    processor_options={"filter_threshold": min_percent / 100})
    finally:
        server.should_exit = True
        await serving


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--min-percent", type=float, default=2.0)
    args = parser.parse_args(argv)
    import uvloop

    with _procs.emulator(args.latency_ms) as emulator:
        for warm in (False, True):
            os.environ.update({"GATEWAY_OPENML_URL": emulator.url, "GATEWAY_CACHE_ENABLED": str(warm).lower()})
            from gateway.cli import app_from_env

            print(f"\n=== leaderboard, {args.rows} rows, {'warm' if warm else 'cold'} ===")
            print(uvloop.run(_profile(app_from_env(), args.rows, warm, args.min_percent)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
