"""Scale-out on one machine: docker/nginx.conf round robin in front of two `gateway serve` processes sharing Redis.

What compose (docker/compose.yaml) would run, with processes instead of containers: a real nginx running the
shipped nginx.conf (only the upstream addresses and the listen port rewritten to loopback), two replicas sharing
a real redis-server, the OpenML emulator as backend. A bounded load run (300 requests, 16 at a time) shows both
replicas serve, records read by one replica are served to the other from Redis with no backend call, no 5xx,
and a mutation through one replica is visible through the other on the next read.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from adapters.openml_v1.emulator import RunningEmulator
from tests.deploy.support import ServeProcess, gateway_serve, metric_total, running_nginx, scrape

pytest_plugins = ["tests.backends.redis_server"]

ALICE = "demo-key-alice"
READ = "query Dataset($id: ID!) { dataset(id: $id) { id name version status tags } }"
TAGS = "query Tags($id: ID!) { dataset(id: $id) { tags } }"
ADD_TAG = "mutation AddTag($id: ID!, $tag: String!) { addTag(id: $id, tag: $tag) }"
REMOVE_TAG = "mutation RemoveTag($id: ID!, $tag: String!) { removeTag(id: $id, tag: $tag) }"
LOAD_REQUESTS = 300
LOAD_CONCURRENCY = 16
# 39 distinct records read in turn, ~8 times each: an odd cycle, so round robin sends successive reads of one
# record to alternating replicas (with an even cycle every read of a record would land on the same one).
LOAD_IDS = [f"openml:dataset:{n}" for n in range(1, 40)]


@dataclass
class Cluster:
    """The running stack: nginx's URL and the two replicas behind it (by their loopback address)."""

    edge: str
    replicas: dict[str, ServeProcess]
    session: aiohttp.ClientSession
    emulator: RunningEmulator

    async def post(self, query: str, variables: dict[str, Any], headers: dict[str, str] | None = None,
                   ) -> tuple[int, str, dict[str, Any]]:
        """POST through nginx; return (status, the replica that answered, body)."""
        async with self.session.post(self.edge + "/graphql", json={"query": query, "variables": variables},
                                     headers=headers or {}) as resp:
            body = await resp.json(content_type=None)
            return resp.status, resp.headers.get("X-Upstream", ""), body

    async def post_via(self, replica: str, query: str, variables: dict[str, Any],
                       headers: dict[str, str] | None = None) -> dict[str, Any]:
        """POST through nginx until round robin hands it to ``replica`` (at most 4 tries); return the body.

        Only reads are sent this way: a read that lands on the other replica changes nothing that is asserted.
        """
        for _ in range(4):
            status, upstream, body = await self.post(query, variables, headers)
            assert status == 200, (status, body)
            if upstream == replica:
                return body
        raise AssertionError(f"round robin never reached {replica} in 4 requests")

    async def metric(self, replica: str, sample: str) -> float:
        return metric_total(await scrape(self.session, self.replicas[replica].base_url), sample)


@pytest.fixture
async def cluster(openml_emulator: RunningEmulator, redis_url: str) -> AsyncIterator[Cluster]:
    client = aioredis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    env = {"GATEWAY_OPENML_URL": openml_emulator.url, "GATEWAY_REDIS_URL": redis_url,
           "GATEWAY_REDIS_SECRET": "scale-out-test-secret", "GATEWAY_LOG_LEVEL": "warning"}
    async with gateway_serve(env) as a, gateway_serve(env) as b:
        replicas = {f"127.0.0.1:{a.port}": a, f"127.0.0.1:{b.port}": b}
        with running_nginx(list(replicas)) as nginx:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                yield Cluster(edge=nginx.url, replicas=replicas, session=session, emulator=openml_emulator)
            log = nginx.access_log()
        assert log and not [row for row in log if row[0] >= 500], f"nginx logged a 5xx: {log}"


async def test_scale_out_edge_routes_probes_and_hides_metrics(cluster: Cluster) -> None:
    for path in ("/healthz", "/readyz"):
        async with cluster.session.get(cluster.edge + path) as resp:
            assert resp.status == 200, path
    async with cluster.session.get(cluster.edge + "/readyz") as resp:
        assert (await resp.json())["backends"] == {"openml": "up"}
    async with cluster.session.get(cluster.edge + "/metrics") as resp:
        assert resp.status == 404  # scraped per replica, never through the balancer


async def test_scale_out_record_read_through_one_replica_served_to_the_other_from_redis(cluster: Cluster) -> None:
    variables = {"id": "openml:dataset:61"}
    cluster.emulator.state.reset_calls()
    status, first_replica, first = await cluster.post(READ, variables)
    cold_calls = len(cluster.emulator.state.calls)
    assert status == 200 and first["data"]["dataset"]["name"] == "iris" and cold_calls >= 1
    (other,) = set(cluster.replicas) - {first_replica}
    hits_before = await cluster.metric(other, "gateway_cache_l2_hits_total")
    second = await cluster.post_via(other, READ, variables)
    assert second == first
    assert len(cluster.emulator.state.calls) == cold_calls  # the other replica made no backend call
    assert await cluster.metric(other, "gateway_cache_l2_hits_total") > hits_before


async def test_scale_out_request_id_from_the_caller_reaches_the_backend(cluster: Cluster) -> None:
    request_id = uuid.uuid4().hex
    cluster.emulator.state.reset_calls()
    status, _, _ = await cluster.post(READ, {"id": "openml:dataset:62"}, {"X-Request-Id": request_id})
    assert status == 200
    seen = {call.headers.get("x-request-id") for call in cluster.emulator.state.calls}
    assert seen == {request_id}


async def test_scale_out_bounded_load_uses_both_replicas_and_the_shared_cache(cluster: Cluster) -> None:
    cluster.emulator.state.reset_calls()
    status, _, _ = await cluster.post(READ, {"id": "openml:dataset:100"})  # the backend cost of one cold read
    per_record = len(cluster.emulator.state.calls)
    assert status == 200 and per_record >= 1
    before = {r: await scrape(cluster.session, p.base_url) for r, p in cluster.replicas.items()}
    cluster.emulator.state.reset_calls()
    queue = [LOAD_IDS[i % len(LOAD_IDS)] for i in range(LOAD_REQUESTS)]
    statuses: Counter[int] = Counter()
    served: Counter[str] = Counter()
    failures: list[Any] = []

    async def worker() -> None:
        while queue:
            gid = queue.pop()
            status, upstream, body = await cluster.post(READ, {"id": gid})
            statuses[status] += 1
            served[upstream] += 1
            if status != 200 or "errors" in body or body["data"]["dataset"]["id"] != gid:
                failures.append((status, body))

    started = time.perf_counter()
    async with asyncio.timeout(120):
        await asyncio.gather(*(worker() for _ in range(LOAD_CONCURRENCY)))
    seconds = time.perf_counter() - started
    backend_calls = len(cluster.emulator.state.calls)
    after = {r: await scrape(cluster.session, p.base_url) for r, p in cluster.replicas.items()}

    def delta(replica: str, sample: str) -> float:
        return metric_total(after[replica], sample) - metric_total(before[replica], sample)

    requests = {r: delta(r, "gateway_graphql_requests_total") for r in cluster.replicas}
    l2_hits = sum(delta(r, "gateway_cache_l2_hits_total") for r in cluster.replicas)
    print(f"\nscale-out load: {LOAD_REQUESTS} requests in {seconds:.2f} s ({LOAD_REQUESTS / seconds:.0f}/s), "
          f"per replica {dict(requests)}, backend calls {backend_calls}, L2 hits {l2_hits:g}")

    assert failures == [] and statuses == {200: LOAD_REQUESTS}  # zero 5xx (and zero 4xx)
    assert sum(served.values()) == LOAD_REQUESTS and set(served) == set(cluster.replicas)
    # Each replica's own counters agree with what nginx says it sent there, and round robin shares the load.
    assert {r: int(n) for r, n in requests.items()} == dict(served)
    assert min(requests.values()) >= 0.3 * LOAD_REQUESTS
    # 39 records, 300 reads: a record is fetched from the backend by the replica that reads it first, and the
    # other replica's first read of it is a Redis hit (unless the two first reads race); later reads hit L1.
    # Without the caches this run would cost LOAD_REQUESTS * per_record backend calls.
    assert l2_hits >= len(LOAD_IDS) // 2, l2_hits
    assert backend_calls <= 2 * per_record * len(LOAD_IDS), (backend_calls, per_record)


async def test_scale_out_mutation_through_one_replica_visible_through_the_other(cluster: Cluster) -> None:
    gid, tag = "openml:dataset:61", f"scale-out-{uuid.uuid4().hex[:8]}"
    one, other = sorted(cluster.replicas)
    for replica in (one, other):  # both replicas hold the tags in L1 (and Redis) before the change
        body = await cluster.post_via(replica, TAGS, {"id": gid})
        assert tag not in body["data"]["dataset"]["tags"]
    changed_by = ""
    try:
        status, changed_by, body = await cluster.post(ADD_TAG, {"id": gid, "tag": tag}, {"X-OpenML-Api-Key": ALICE})
        assert status == 200 and "errors" not in body and tag in body["data"]["addTag"], body
        (reader,) = set(cluster.replicas) - {changed_by}
        assert tag in (await cluster.post_via(reader, TAGS, {"id": gid}))["data"]["dataset"]["tags"]
    finally:
        status, _, body = await cluster.post(REMOVE_TAG, {"id": gid, "tag": tag}, {"X-OpenML-Api-Key": ALICE})
    assert status == 200 and "errors" not in body and tag not in body["data"]["removeTag"], body
    for replica in (one, other):
        assert tag not in (await cluster.post_via(replica, TAGS, {"id": gid}))["data"]["dataset"]["tags"]
