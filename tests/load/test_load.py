"""A bounded load run against `gateway demo` on loopback, with faults injected on one backend.

60 s at concurrency 50 (stops by itself): zero 5xx, every response matches its request (ids echo back), the
faulty backend's fields fail alone, and the process's memory stays flat after warm-up. The figures are written
to test-output/load.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("GATEWAY_LOAD_SECONDS", "60"))
CONCURRENCY = 50

DATASET = 'query($id: ID!) { dataset(id: $id) { id name version description } }'
RUNS = '''query($task: ID!) { runs(filter: {taskIds: [$task]}, first: 10) { edges { node { id
    ... on OpenMLRun { task { id } flow { name } evaluation(measure: "predictive_accuracy") { value } } } } } }'''
MODEL = 'query($id: ID!) { model(id: $id) { id name versions { name } } }'


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def _start_demo() -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "demo", "--port", str(port), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "GATEWAY_LOG_LEVEL": "warning"})
    urls: dict[str, str] = {}
    assert process.stdout is not None
    while "pytupli" not in urls:
        line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
        if not line:
            raise RuntimeError("the demo exited before printing its URLs")
        name, _, url = line.strip().partition(": ")
        if url.startswith("http"):
            urls[name] = url
    return process, urls


def _check(kind: str, variables: dict[str, Any], body: dict[str, Any]) -> str:
    """Return "ok", "partial" (the faulty backend's fields failed alone) or raise on a mixed-up response."""
    data = body.get("data") or {}
    errors = body.get("errors") or []
    if kind == "dataset":
        node = data.get("dataset")
        assert node is not None and node["id"] == variables["id"] and not errors, (variables, body)
    elif kind == "runs":
        edges = data["runs"]["edges"]
        assert edges and all(e["node"]["task"]["id"] == variables["task"] for e in edges), (variables, body)
        assert not errors, errors
    else:  # the faulty backend: its field is null with a clear error naming it
        assert data.get("model") is None, body
        (error,) = errors
        assert error["extensions"]["backend"] == "mlte" and error["path"] == ["model"], body
        assert error["extensions"]["code"] in {"BACKEND_ERROR", "BACKEND_UNAVAILABLE"}, body
    return "partial" if errors else "ok"


async def test_load_sixty_seconds_with_a_faulty_backend() -> None:
    process, urls = await _start_demo()
    graphql = urls["gateway"]
    outcomes: dict[str, int] = {"ok": 0, "partial": 0}
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    rss: list[tuple[float, int]] = []
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.post(graphql, json={"query": "{ __typename }"}) as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            # MLTE answers every model read with a 503 (and its breaker opens): OpenML's fields stay whole
            mlte_root = urls["mlte"].split("/api", 1)[0]
            async with session.post(f"{mlte_root}/_emulator/faults",
                                    json={"prefix": "model", "kind": "status", "status": 503}) as resp:
                assert resp.status in (200, 201), await resp.text()
            models = ["credit-risk", "spam-filter", "clinical%2Fdiabetes-risk"]
            rng = random.Random(7)
            started = time.monotonic()
            deadline = started + SECONDS

            async def worker(seed: int) -> None:
                local = random.Random(seed)
                while time.monotonic() < deadline:
                    kind = local.choice(("dataset", "runs", "model"))
                    if kind == "dataset":
                        query, variables = DATASET, {"id": f"openml:dataset:{local.choice([2, 31, 44, 61, 40945])}"}
                    elif kind == "runs":
                        query, variables = RUNS, {"task": f"openml:task:{local.choice([31, 56, 1029, 3])}"}
                    else:
                        query, variables = MODEL, {"id": f"mlte:model:{local.choice(models)}"}
                    t0 = time.perf_counter()
                    async with session.post(graphql, json={"query": query, "variables": variables}) as resp:
                        body = await resp.json(content_type=None)
                        statuses[resp.status] = statuses.get(resp.status, 0) + 1
                    latencies.append(time.perf_counter() - t0)
                    outcomes[_check(kind, variables, body)] += 1

            async def sampler() -> None:
                while time.monotonic() < deadline:
                    rss.append((time.monotonic() - started, _rss_kib(process.pid)))
                    await asyncio.sleep(1.0)

            await asyncio.gather(sampler(), *(worker(rng.randrange(10**9)) for _ in range(CONCURRENCY)))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    total = sum(statuses.values())
    warm = [kib for t, kib in rss if t >= SECONDS / 4]
    figures = {
        "seconds": SECONDS, "concurrency": CONCURRENCY, "requests": total, "rps": total / SECONDS,
        "statuses": statuses, "outcomes": outcomes,
        "p50_ms": statistics.median(latencies) * 1000, "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000,
        "rss_mib_after_warmup": warm[0] / 1024, "rss_mib_end": warm[-1] / 1024, "rss_mib_max": max(warm) / 1024,
    }
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    assert total > 0 and set(statuses) == {200}, statuses  # zero 5xx (and zero 4xx)
    assert outcomes["partial"] > 0 and outcomes["ok"] > 0
    assert warm[-1] - warm[0] < 64 * 1024, figures  # memory flat after warm-up (no growth with requests)
