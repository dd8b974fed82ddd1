"""Small synchronous and concurrent GraphQL clients for the benchmarks (loopback only, bounded)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import aiohttp


def post(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """One GraphQL request; raises on GraphQL errors."""
    data = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        body = json.loads(response.read())
    if body.get("errors"):
        raise RuntimeError(body["errors"][:3])
    return body


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls, and the last result."""
    samples = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


async def _hammer(url: str, payload: bytes, concurrency: int, seconds: float) -> tuple[int, int]:
    done = errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                async with session.post(url, data=payload, headers={"Content-Type": "application/json"}) as resp:
                    await resp.read()
                    if resp.status == 200:
                        done += 1
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, errors


def throughput(url: str, query: str, variables: dict[str, Any] | None, concurrency: int, seconds: float) -> float:
    """Requests per second at ``concurrency`` for ``seconds`` (after a short warm-up), loopback only."""
    payload = json.dumps({"query": query, "variables": variables or {}}).encode()
    asyncio.run(_hammer(url, payload, concurrency, min(1.0, seconds / 4)))
    done, errors = asyncio.run(_hammer(url, payload, concurrency, seconds))
    if errors:
        raise RuntimeError(f"{errors} failed requests during the throughput run")
    return done / seconds
