"""Scenario 3, "federated join": the leaderboard through @apollo/gateway composing our subgraph with a second
one that extends OpenMLRun (reviewNote), against the same query sent to our gateway directly."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from adapters.openml_v1.emulator import EmulatorConfig, start_emulator
from tests.federation.subprocesses import npm_ci, run_node, start_node
from tests.helpers import running_gateway, settings_for

PROJECT = Path(__file__).resolve().parents[1] / "tests" / "federation"
QUERY = """query Federated { runs(filter: {taskIds: ["openml:task:31"]}, first: 100) { edges { node { id
  ... on OpenMLRun { flow { name } task { name } evaluation(measure: "predictive_accuracy") { value } %s } } } } }"""


async def _median(session: aiohttp.ClientSession, url: str, query: str, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        async with session.post(url, json={"query": query}) as response:
            body = await response.json(content_type=None)
        samples.append(time.perf_counter() - started)
        if body.get("errors"):
            raise RuntimeError(body["errors"][:2])
    samples.sort()
    return samples[len(samples) // 2]


async def _run(latency_ms: float, repeats: int) -> dict[str, Any]:
    await npm_ci(PROJECT)
    emulator = await start_emulator(EmulatorConfig(latency_ms=latency_ms))
    try:
        async with running_gateway(settings_for(emulator.url)) as gateway, \
                start_node(PROJECT, "reviews-subgraph.mjs", ready_prefix="reviews: ") as reviews:
            out = Path(tempfile.mkdtemp(prefix="bench-supergraph-")) / "supergraph.graphql"
            await run_node(PROJECT, "compose.mjs", "--out", str(out), f"openml={gateway.url}",
                           f"reviews={reviews.ready}", within=60)
            async with start_node(PROJECT, "supergraph.mjs", "--supergraph", str(out),
                                  ready_prefix="supergraph: ") as served, aiohttp.ClientSession() as session:
                await _median(session, gateway.url, QUERY % "", 1)  # warm the record cache: compare overheads
                await _median(session, served.ready, QUERY % "reviewNote", 1)
                direct = await _median(session, gateway.url, QUERY % "", repeats)
                joined = await _median(session, served.ready, QUERY % "reviewNote", repeats)
    finally:
        await emulator.close()
    return {"scenario": "federated", "rows": 100, "direct_s": direct, "supergraph_s": joined,
            "ratio": joined / direct}


def run(latency_ms: float = 20.0, repeats: int = 5) -> dict[str, Any]:
    return asyncio.run(_run(latency_ms, repeats))
