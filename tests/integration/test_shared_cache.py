"""Replicas share one Redis: reads served across replicas, mutations visible everywhere, private data never crosses."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from adapters.openml_v1.emulator import RunningEmulator
from tests.helpers import gateway_process, running_gateway, settings_for

pytest_plugins = ["tests.backends.redis_server"]

ALICE, BOB = "demo-key-alice", "demo-key-bob"


async def _post(session: aiohttp.ClientSession, url: str, query: str, variables: dict[str, Any] | None = None,
                key: str | None = None) -> dict[str, Any]:
    headers = {"X-OpenML-Api-Key": key} if key else {}
    async with session.post(url, json={"query": query, "variables": variables or {}}, headers=headers) as resp:
        assert resp.status == 200
        return await resp.json()


@pytest.fixture
async def clean_redis(redis_url: str) -> str:
    client = aioredis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    return redis_url


async def test_shared_cache_read_through_a_served_to_b(openml_emulator: RunningEmulator, clean_redis: str) -> None:
    env = {"GATEWAY_OPENML_URL": openml_emulator.url, "GATEWAY_REDIS_URL": clean_redis}
    query = '{ dataset(id: "openml:dataset:40945") { name description tags } }'
    async with gateway_process(env) as a, gateway_process(env) as b, aiohttp.ClientSession() as session:
        openml_emulator.state.reset_calls()
        first = await _post(session, a, query)
        calls_after_a = len(openml_emulator.state.calls)
        second = await _post(session, b, query)
    assert first == second and first["data"]["dataset"]["name"] == "Titanic"
    assert calls_after_a >= 2 and len(openml_emulator.state.calls) == calls_after_a  # B made no backend call


async def test_shared_cache_mutation_through_a_visible_through_b(
    openml_emulator: RunningEmulator, clean_redis: str,
) -> None:
    env = {"GATEWAY_OPENML_URL": openml_emulator.url, "GATEWAY_REDIS_URL": clean_redis}
    read = '{ dataset(id: "openml:dataset:61") { tags } }'
    tag = 'mutation { addTag(id: "openml:dataset:61", tag: "replica-test") }'
    untag = 'mutation { removeTag(id: "openml:dataset:61", tag: "replica-test") }'
    async with gateway_process(env) as a, gateway_process(env) as b, aiohttp.ClientSession() as session:
        before = await _post(session, b, read)  # B caches the tags in L1 and Redis
        assert "replica-test" not in before["data"]["dataset"]["tags"]
        assert "replica-test" in (await _post(session, a, tag, key=ALICE))["data"]["addTag"]
        after = await _post(session, b, read)
        assert "replica-test" in after["data"]["dataset"]["tags"]
        await _post(session, b, untag, key=ALICE)
        assert "replica-test" not in (await _post(session, a, read))["data"]["dataset"]["tags"]


async def test_shared_cache_private_reads_never_cross_callers(
    openml_emulator: RunningEmulator, clean_redis: str,
) -> None:
    settings = settings_for(openml_emulator.url, redis_url=clean_redis)
    query = '{ dataset(id: "openml:dataset:2") { name description } }'
    async with running_gateway(settings) as gw:
        openml_emulator.state.reset_calls()
        await gw.query(query, headers={"X-OpenML-Api-Key": ALICE})
        with_alice = [c.query.get("api_key") for c in openml_emulator.state.calls]
        openml_emulator.state.reset_calls()
        await gw.query(query, headers={"X-OpenML-Api-Key": BOB})
        with_bob = [c.query.get("api_key") for c in openml_emulator.state.calls]
        openml_emulator.state.reset_calls()
        await gw.query(query)
        anonymous = [c.query.get("api_key") for c in openml_emulator.state.calls]
        openml_emulator.state.reset_calls()
        await gw.query(query, headers={"X-OpenML-Api-Key": ALICE})
        alice_again = openml_emulator.state.calls
    assert with_alice and set(with_alice) == {ALICE}
    assert with_bob and set(with_bob) == {BOB}  # not served from Alice's entries
    assert anonymous and set(anonymous) == {None}
    assert alice_again == []  # Alice's own entries serve Alice
    client = aioredis.from_url(clean_redis)
    keys = [k.decode() for k in await client.keys("*")]
    values = b"".join([v for v in await client.mget(keys) if v is not None]) if keys else b""
    await client.aclose()
    assert keys and all(ALICE not in k and BOB not in k and "127.0.0.1" not in k for k in keys)
    assert ALICE.encode() not in values and BOB.encode() not in values


async def test_shared_cache_redis_down_is_only_a_miss(openml_emulator: RunningEmulator) -> None:
    settings = settings_for(openml_emulator.url, redis_url="redis://127.0.0.1:1/0")
    async with running_gateway(settings) as gw:
        body = await gw.query('{ dataset(id: "openml:dataset:61") { name } }')
        assert body == {"data": {"dataset": {"name": "iris"}}}
        assert gw.services.cache.l2 is not None and gw.services.cache.l2.errors >= 1


async def test_shared_cache_persisted_queries_reach_every_replica(
    openml_emulator: RunningEmulator, clean_redis: str,
) -> None:
    import hashlib

    env = {"GATEWAY_OPENML_URL": openml_emulator.url, "GATEWAY_REDIS_URL": clean_redis}
    query = '{ dataset(id: "openml:dataset:61") { name } }'
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    async with gateway_process(env) as a, gateway_process(env) as b, aiohttp.ClientSession() as session:
        async with session.post(b, json={"extensions": extensions}) as resp:
            unknown = await resp.json()
        assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        async with session.post(a, json={"query": query, "extensions": extensions}) as resp:
            assert (await resp.json()) == {"data": {"dataset": {"name": "iris"}}}
        async with session.post(b, json={"extensions": extensions}) as resp:
            assert (await resp.json()) == {"data": {"dataset": {"name": "iris"}}}  # registered through A
