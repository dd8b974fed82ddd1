"""Bad answers from pytupli (wrong types, missing fields, HTML pages, the bare 500s the real server sends, hangs)
reach the caller as the taxonomy, with pytupli's own message kept, never as a crash. Faults are injected into the
emulator over HTTP (``POST /_emulator/faults``); every call goes through the real client and HTTP layer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from adapters.pytupli.client import PytupliClient
from adapters.pytupli.emulator import EmulatorConfig, RunningEmulator, start_emulator
from adapters.pytupli.filters import eq
from gateway.errors import (
    BackendError,
    BackendUnavailableError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)
from gateway.http import BackendHTTP, HTTPPolicy
from gateway.settings import BackendSettings

PASSWORD = "pytupli-admin"


@pytest_asyncio.fixture(scope="module")
async def emu() -> AsyncIterator[RunningEmulator]:
    running = await start_emulator(EmulatorConfig(admin_password=PASSWORD))
    try:
        yield running
    finally:
        await running.close()


@pytest_asyncio.fixture
async def session(emu: RunningEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
        async with client.delete(f"{emu.url}/_emulator/faults") as resp:
            assert resp.status == 200


async def inject(session: aiohttp.ClientSession, emu: RunningEmulator, **fault: Any) -> None:
    async with session.post(f"{emu.url}/_emulator/faults", json=fault) as resp:
        assert resp.status == 200, await resp.text()


def make_client(emu: RunningEmulator, *, retries: int = 0, timeout: float = 5.0, user: str | None = "admin",
                ) -> PytupliClient:
    http = BackendHTTP("pytupli", emu.url, HTTPPolicy(retries=retries, total_timeout=timeout, breaker_failures=1000))
    settings = BackendSettings(url=emu.url, username=user, password=PASSWORD if user else None)
    return PytupliClient(http, settings)


def ids(emu: RunningEmulator) -> dict[str, str]:
    store = emu.state.store
    return {"benchmark": store.benchmarks[0]["id"], "episode": store.episodes[0]["id"],
            "artifact": store.artifacts[-1].metadata["id"]}


Call = Callable[[PytupliClient, dict[str, str]], Awaitable[Any]]


async def _refresh(client: PytupliClient) -> Any:
    pair = await client.login("admin", PASSWORD)
    return await client.refresh(pair.refresh or "")


CASES: list[tuple[str, dict[str, Any], Call, type[GatewayError], str]] = [
    ("wrong-types-list", {"prefix": "/benchmarks/list", "kind": "wrong_types"},
     lambda c, i: c.list_benchmarks(None, None), BackendError, "malformed benchmark list"),
    ("missing-fields-load", {"prefix": "/benchmarks/load", "kind": "missing_fields"},
     lambda c, i: c.get_benchmark(i["benchmark"], None), BackendError, "malformed benchmark"),
    ("wrong-types-episodes", {"prefix": "/episodes/list", "kind": "wrong_types"},
     lambda c, i: c.list_episodes(None, None), BackendError, "malformed episode list"),
    ("missing-fields-artifacts", {"prefix": "/artifacts/list", "kind": "missing_fields"},
     lambda c, i: c.list_artifacts(None, None), BackendError, "malformed artifact list"),
    ("html-502", {"prefix": "/artifacts/list", "kind": "html", "status": 502},
     lambda c, i: c.list_artifacts(None, None), BackendError, "HTTP 502 with an HTML page"),
    ("html-200", {"prefix": "/benchmarks/list", "kind": "html", "status": 200},
     lambda c, i: c.list_benchmarks(None, None), BackendError, "HTML page instead of JSON"),
    ("plain-500", {"prefix": "/benchmarks/create", "kind": "plain500"},
     lambda c, i: c.create_benchmark("x", "{}", None), BackendError, "Internal Server Error"),
    ("known-500", {"prefix": "/benchmarks/list", "kind": "status", "status": 500,
                   "message": "Failed to list benchmarks: $in must be followed by an array"},
     lambda c, i: c.list_benchmarks(None, None), BackendError, "Failed to list benchmarks: $in must be"),
    ("truncated", {"prefix": "/benchmarks/list", "kind": "malformed"},
     lambda c, i: c.list_benchmarks(None, None), BackendError, "invalid JSON"),
    ("empty-200", {"prefix": "/benchmarks/load", "kind": "empty"},
     lambda c, i: c.get_benchmark(i["benchmark"], None), BackendError, "empty body"),
    ("publish-not-null", {"prefix": "/episodes/publish", "kind": "not_json", "body": "{\"ok\": true}"},
     lambda c, i: c.publish("episode", i["episode"], "global", None), BackendError, "malformed null"),
    ("download-without-metadata", {"prefix": "/artifacts/download", "kind": "no_metadata_header"},
     lambda c, i: c.download_artifact(i["artifact"], None), BackendError, "no x-metadata header"),
    ("download-bad-metadata", {"prefix": "/artifacts/download", "kind": "wrong_types"},
     lambda c, i: c.download_artifact(i["artifact"], None), BackendError, "malformed artifact"),
    ("login-flat-token", {"prefix": "/access/users/token", "kind": "wrong_types"},
     lambda c, i: c.login("admin", PASSWORD), BackendError, "malformed tokens"),
    ("refresh-missing-token", {"prefix": "/access/users/refresh-token", "kind": "missing_fields"},
     lambda c, i: _refresh(c), BackendError, "malformed access token"),
    ("proxy-401-html", {"prefix": "/benchmarks/list", "kind": "html", "status": 401},
     lambda c, i: c.list_benchmarks(None, "caller-token"), UnauthenticatedError, "HTTP 401 with an HTML page"),
    ("404-json", {"prefix": "/artifacts/download", "kind": "status", "status": 404, "message": "Gone away"},
     lambda c, i: c.download_artifact(i["artifact"], None), NotFoundError, "Gone away"),
    ("429", {"prefix": "/episodes/list", "kind": "status", "status": 429},
     lambda c, i: c.list_episodes(None, None), BackendUnavailableError, "Too Many Requests"),
]


@pytest.mark.parametrize(("fault", "call", "error", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_pytupli_bad_answers_map_to_the_taxonomy(emu: RunningEmulator, session: aiohttp.ClientSession,
                                                        fault: dict[str, Any], call: Call, error: type[GatewayError],
                                                        message: str) -> None:
    client = make_client(emu)
    try:
        known = ids(emu)
        await client.list_benchmarks(None, None)  # log the service account in before the fault
        await inject(session, emu, **fault)
        with pytest.raises(error) as info:
            await call(client, known)
        assert type(info.value) is error and info.value.backend == "pytupli"
        assert message in info.value.message
        assert PASSWORD not in repr(info.value) and "caller-token" not in info.value.message
    finally:
        await client.http.close()


async def test_pytupli_batch_getters_put_a_bad_answer_on_every_id(emu: RunningEmulator,
                                                                   session: aiohttp.ClientSession) -> None:
    client = make_client(emu)
    try:
        wanted = [b["id"] for b in emu.state.store.benchmarks[:3]]
        await inject(session, emu, prefix="/benchmarks/list", kind="wrong_types", times=1)
        got = await client.get_benchmarks(wanted, None)
        assert list(got) == wanted and all(isinstance(v, BackendError) for v in got.values())
        episodes = [e["id"] for e in emu.state.store.episodes[:2]]
        await inject(session, emu, prefix="/episodes/list", kind="html", status=503, times=1)
        got_episodes = await client.get_episodes(episodes, None)
        assert all(isinstance(v, BackendError) and v.backend_code == "503" for v in got_episodes.values())
    finally:
        await client.http.close()


async def test_pytupli_hang_is_backend_unavailable(emu: RunningEmulator, session: aiohttp.ClientSession) -> None:
    client = make_client(emu, timeout=0.5)
    try:
        await client.list_benchmarks(None, None)
        await inject(session, emu, prefix="/benchmarks/load", kind="hang", times=1)
        with pytest.raises(BackendUnavailableError):
            await client.get_benchmark(emu.state.store.benchmarks[0]["id"], None)
        await inject(session, emu, prefix="/benchmarks/list", kind="delay", delay_ms=100, times=1)
        assert len(await client.list_benchmarks(eq("metadata.name", "taxi-v3"), None)) == 1
    finally:
        await client.http.close()


async def test_pytupli_reads_are_retried_but_writes_never(emu: RunningEmulator,
                                                          session: aiohttp.ClientSession) -> None:
    client = make_client(emu, retries=2)
    try:
        await client.list_benchmarks(None, None)
        emu.state.reset_calls()
        await inject(session, emu, prefix="/benchmarks/list", kind="plain500", times=1)
        assert len(await client.list_benchmarks(None, None)) > 20
        assert emu.state.count("/benchmarks/list") == 2
        await inject(session, emu, prefix="/episodes/record", kind="plain500", times=1)
        bench = emu.state.store.benchmarks[0]["id"]
        with pytest.raises(BackendError, match="Internal Server Error"):
            await client.record_episode(bench, [{"state": 0, "action": 0, "reward": 0}], None)
        assert emu.state.count("/episodes/record") == 1
    finally:
        await client.http.close()


async def test_pytupli_service_token_is_renewed_once_after_a_refusal(emu: RunningEmulator,
                                                                      session: aiohttp.ClientSession) -> None:
    client = make_client(emu)
    try:
        await client.list_benchmarks(None, None)
        await inject(session, emu, prefix="/benchmarks/list", kind="status", status=401,
                     message="Could not validate credentials", times=1)
        assert len(await client.list_benchmarks(None, None)) > 20
        assert client.service_token is not None and client.service_token.logins == 2
        await inject(session, emu, prefix="/benchmarks/list", kind="status", status=401, times=2)
        with pytest.raises(UnauthenticatedError):  # refused again with a fresh token: give up
            await client.list_benchmarks(None, None)
    finally:
        await client.http.close()


async def test_pytupli_emulator_refuses_unknown_fault_kinds(emu: RunningEmulator,
                                                            session: aiohttp.ClientSession) -> None:
    async with session.post(f"{emu.url}/_emulator/faults", json={"prefix": "/", "kind": "explode"}) as resp:
        assert resp.status == 400 and "unknown fault kind" in (await resp.json())["error"]
