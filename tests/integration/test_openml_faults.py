"""A hostile, broken, slow or absent OpenML backend costs only the fields it serves (faults set at the emulator)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import pytest

from adapters.openml_v1.emulator import Fault, RunningEmulator
from tests.helpers import RunningGateway, free_port, running_gateway, settings_for

# One query touching two endpoints: the dataset description (data/61) and the task list (task/list).
MIXED = """{ dataset(id: "openml:dataset:61") { name description } task(id: "openml:task:31") { name } }"""


@pytest.fixture
async def gateway(openml_emulator: RunningEmulator) -> AsyncIterator[RunningGateway]:
    openml_emulator.state.clear_faults()
    async with running_gateway(settings_for(openml_emulator.url, openml_retries="0")) as gw:
        yield gw
    openml_emulator.state.clear_faults()


def _rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("kind", ["billion_laughs", "external_entity", "malformed", "html"])
async def test_hostile_bodies_become_backend_error_on_the_affected_field(
    gateway: RunningGateway, openml_emulator: RunningEmulator, kind: str,
) -> None:
    openml_emulator.state.add_fault(Fault(prefix="data/61", kind=kind, status=200))
    body = await gateway.query(MIXED)
    assert body["data"]["task"]["name"] == "Task 31: credit-g (Supervised Classification)"
    assert body["data"]["dataset"] is None or body["data"]["dataset"]["description"] is None
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"BACKEND_ERROR"}
    assert all(e["extensions"]["backend"] == "openml" for e in body["errors"])
    text = str(body)
    assert "/etc/passwd" not in text and "root:" not in text and "127.0.0.1" not in text
    async with gateway.session.get(gateway.base_url + "/healthz") as resp:
        assert resp.status == 200


async def test_oversized_body_is_refused_and_memory_stays_bounded(
    gateway: RunningGateway, openml_emulator: RunningEmulator,
) -> None:
    await gateway.query(MIXED)  # warm up imports and pools before measuring
    before = _rss_kib()
    openml_emulator.state.add_fault(Fault(prefix="data/40945", kind="huge", size_bytes=80_000_000))
    body = await gateway.query('{ dataset(id: "openml:dataset:40945") { description } }')
    assert body["errors"][0]["extensions"]["code"] == "BACKEND_ERROR"
    assert _rss_kib() - before < 150_000  # the 80 MB body was never held whole (cap: 64 MiB)


async def test_server_errors_are_backend_error_with_partial_data(
    gateway: RunningGateway, openml_emulator: RunningEmulator,
) -> None:
    openml_emulator.state.add_fault(Fault(prefix="data/61", kind="status", status=503))
    body = await gateway.query(MIXED)
    assert body["data"]["task"]["name"].startswith("Task 31")
    assert body["errors"][0]["extensions"]["code"] == "BACKEND_ERROR"
    assert body["errors"][0]["message"] and "Traceback" not in str(body)


async def test_overload_code_107_is_backend_unavailable(gateway: RunningGateway, openml_emulator) -> None:
    openml_emulator.state.add_fault(Fault(prefix="data/61", kind="oml_error", code=107))
    body = await gateway.query('{ dataset(id: "openml:dataset:61") { description } }')
    assert body["errors"][0]["extensions"] == {
        "code": "BACKEND_UNAVAILABLE", "backend": "openml", "backendCode": "107"}


async def test_slow_backend_times_out_and_other_fields_arrive(openml_emulator: RunningEmulator) -> None:
    openml_emulator.state.clear_faults()
    openml_emulator.state.add_fault(Fault(prefix="data/61", kind="hang"))
    settings = settings_for(openml_emulator.url, openml_timeout="1", openml_retries="0")
    async with running_gateway(settings) as gw:
        started = time.monotonic()
        body = await gw.query(MIXED)
        elapsed = time.monotonic() - started
    openml_emulator.state.clear_faults()
    assert body["data"]["task"]["name"].startswith("Task 31")
    assert body["errors"][0]["extensions"]["code"] == "BACKEND_UNAVAILABLE"
    assert elapsed < 1 + 5  # never an absolute speed claim: only that the timeout bounded the wait


async def test_dead_backend_is_backend_unavailable(openml_emulator: RunningEmulator) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/v1/xml"
    async with running_gateway(settings_for(dead, openml_retries="0")) as gw:
        body = await gw.query('{ dataset(id: "openml:dataset:61") { name } runs(filter: {taskIds: ["openml:task:31"]}) '
                              "{ totalCount } }")
    assert body["data"] is None or body["data"].get("dataset") is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BACKEND_UNAVAILABLE"}
    assert dead not in str(body)


async def test_unconfigured_backend_is_backend_unavailable_not_a_crash() -> None:
    async with running_gateway(settings_for(None)) as gw:
        body = await gw.query('{ dataset(id: "openml:dataset:61") { name } }')
        async with gw.session.get(gw.base_url + "/healthz") as resp:
            assert resp.status == 200
    assert body["data"] == {"dataset": None}
    assert body["errors"][0]["extensions"] == {"code": "BACKEND_UNAVAILABLE", "backend": "openml"}


async def test_concurrent_identical_cold_queries_share_backend_calls(
    gateway: RunningGateway, openml_emulator: RunningEmulator,
) -> None:
    openml_emulator.state.reset_calls()
    query = '{ dataset(id: "openml:dataset:40945") { name description } }'
    bodies = await asyncio.gather(*(gateway.query(query) for _ in range(100)))
    assert all(b["data"]["dataset"]["name"] == "Titanic" for b in bodies)
    paths = [c.path.split("/api/v1/xml/")[-1] for c in openml_emulator.state.calls]
    assert paths.count("data/40945") == 1 and sum(p.startswith("data/list") for p in paths) == 1


async def test_request_deadline_answers_504_with_a_graphql_error(openml_emulator: RunningEmulator) -> None:
    openml_emulator.state.clear_faults()
    openml_emulator.state.add_fault(Fault(prefix="data/61", kind="hang"))
    settings = settings_for(openml_emulator.url, request_deadline="0.5", openml_timeout="5", openml_retries="0")
    async with running_gateway(settings) as gw:
        async with gw.session.post(gw.url, json={"query": MIXED}) as resp:
            status, body = resp.status, await resp.json()
        async with gw.session.get(gw.base_url + "/healthz") as resp:
            assert resp.status == 200
    openml_emulator.state.clear_faults()
    assert status == 504 and body["errors"][0]["extensions"]["code"] == "BACKEND_UNAVAILABLE"


async def test_introspection_can_be_disabled() -> None:
    async with running_gateway(settings_for(None, introspection="false")) as gw:
        body = await gw.query("{ __schema { queryType { name } } }")
        allowed = await gw.query("{ __typename }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert allowed == {"data": {"__typename": "Query"}}


async def test_open_circuit_answers_without_connecting_until_the_probe() -> None:
    accepted = 0

    async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()  # a backend that is down: every connection dropped without an answer

    server = await asyncio.start_server(slam, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/v1/xml"
    settings = settings_for(url, openml_retries="0", openml_breaker_failures="3", openml_breaker_reset="0.5",
                            openml_timeout="2")
    query = '{ dataset(id: "openml:dataset:61") { name } }'
    try:
        async with running_gateway(settings) as gw:
            for _ in range(3):
                body = await gw.query(query)
                assert body["errors"][0]["extensions"]["code"] == "BACKEND_UNAVAILABLE"
            assert accepted == 3
            started = time.monotonic()
            for _ in range(5):
                body = await gw.query(query)
                assert "circuit open" in body["errors"][0]["message"]
            elapsed = time.monotonic() - started
            assert accepted == 3  # no connection attempt while open
            assert elapsed < 2  # far below one backend timeout: nothing waited on the network
            await asyncio.sleep(0.6)
            await gw.query(query)
            assert accepted == 4  # the half-open probe
            async with gw.session.get(gw.base_url + "/readyz") as resp:
                ready = await resp.json()
            assert resp.status == 503 and ready["backends"]["openml"] == "circuit_open"
    finally:
        server.close()
        await server.wait_closed()
