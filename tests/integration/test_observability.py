"""Metrics agree with the emulator's own count, spans nest per operation, request ids reach backends and logs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys

import aiohttp
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.openml_v1.emulator import RunningEmulator
from gateway.observability import Telemetry
from tests.helpers import free_port, running_gateway, settings_for

LEADERBOARD = """query Leaderboard { runs(filter: {taskIds: ["openml:task:31"]}, first: 30) { edges { node {
    id ... on OpenMLRun { flow { name } task { ... on OpenMLTask { dataset { name } } } evaluations { value } }
} } } }"""


def _samples(text: str, name: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


async def test_metrics_count_what_the_emulator_saw(openml_emulator: RunningEmulator) -> None:
    async with running_gateway(settings_for(openml_emulator.url)) as gw:
        openml_emulator.state.reset_calls()
        body = await gw.query(LEADERBOARD)
        assert "errors" not in body
        await gw.query(LEADERBOARD)  # warm: served by the cache
        await gw.query('{ dataset(id: "openml:dataset:999999") { name } }')
        text = await (await gw.session.get(gw.base_url + "/metrics")).text()
    calls = _samples(text, "gateway_backend_calls_total")
    assert sum(calls.values()) == len(openml_emulator.state.calls)
    assert any('endpoint="run/list"' in k and 'status="2xx"' in k for k in calls)
    requests = _samples(text, "gateway_graphql_requests_total")
    assert requests['gateway_graphql_requests_total{operation="Leaderboard",outcome="ok"}'] == 2
    assert requests['gateway_graphql_requests_total{operation="anonymous",outcome="error"}'] == 1
    assert _samples(text, "gateway_cache_hits_total")["gateway_cache_hits_total"] > 0
    assert _samples(text, "gateway_breaker_state")['gateway_breaker_state{backend="openml"}'] == 0
    assert "gateway_backend_call_seconds_bucket" in text and "gateway_graphql_request_seconds_count" in text


async def test_traces_one_span_per_operation_with_backend_children(openml_emulator: RunningEmulator) -> None:
    exporter = InMemorySpanExporter()
    async with running_gateway(settings_for(openml_emulator.url), telemetry=Telemetry(exporter)) as gw:
        openml_emulator.state.reset_calls()
        await gw.query(LEADERBOARD)
    spans = exporter.get_finished_spans()
    operations = [s for s in spans if s.name == "graphql Leaderboard"]
    assert len(operations) == 1
    backend = [s for s in spans if s.name.startswith("openml ")]
    assert len(backend) == len(openml_emulator.state.calls)
    assert all(s.parent is not None and s.parent.span_id == operations[0].context.span_id for s in backend)
    assert {s.attributes["gateway.endpoint"] for s in backend} == {"run/list", "task/list", "evaluation/list"}


async def test_request_id_is_sent_to_every_backend_call(openml_emulator: RunningEmulator) -> None:
    async with running_gateway(settings_for(openml_emulator.url)) as gw:
        openml_emulator.state.reset_calls()
        await gw.query(LEADERBOARD, headers={"X-Request-Id": "dashboard-123"})
        given = {c.headers.get("x-request-id") for c in openml_emulator.state.calls}
        openml_emulator.state.reset_calls()
        await asyncio.gather(gw.query('{ dataset(id: "openml:dataset:2") { name } }'),
                             gw.query('{ dataset(id: "openml:dataset:40945") { name } }'))
        generated = [c.headers.get("x-request-id") for c in openml_emulator.state.calls]
    assert given == {"dataset-123".replace("dataset", "dashboard")}
    assert len(generated) == 2 and all(generated) and generated[0] != generated[1]


async def test_json_logs_carry_the_request_id(openml_emulator: RunningEmulator) -> None:
    port = free_port()
    env = {**os.environ, "GATEWAY_OPENML_URL": openml_emulator.url, "GATEWAY_LOG_LEVEL": "info"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            async with session.post(f"http://127.0.0.1:{port}/graphql", headers={"X-Request-Id": "trace-me-42"},
                                    json={"query": '{ dataset(id: "openml:dataset:999999") { name } }'}) as resp:
                assert resp.status == 200
    finally:
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    lines = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    assert lines, output.decode()[-2000:]
    mine = [entry for entry in lines if entry.get("request_id") == "trace-me-42"]
    assert mine and any(re.search("NOT_FOUND", entry["message"]) for entry in mine)
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in lines)
