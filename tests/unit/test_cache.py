"""The record cache: hits, TTLs, negative caching, coalescing of concurrent misses, credential scopes."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Mapping
from typing import Any

import pytest

from gateway.cache import RecordCache, credential_scope, record_key
from gateway.errors import BackendError, NotFoundError


class Backend:
    """A fetch function that counts calls and the keys it was asked for."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[list[Hashable]] = []
        self.delay = delay

    async def fetch(self, keys: list[Hashable]) -> Mapping[Hashable, Any]:
        self.calls.append(list(keys))
        await asyncio.sleep(self.delay)
        return {k: (NotFoundError("gone") if k == "missing" else f"value-{k}") for k in keys}


async def test_cache_hits_after_first_load() -> None:
    cache, backend = RecordCache(), Backend()
    assert await cache.load_many(["a", "b"], backend.fetch, lambda _v: 60) == ["value-a", "value-b"]
    assert await cache.load_many(["b", "a", "c"], backend.fetch, lambda _v: 60) == ["value-b", "value-a", "value-c"]
    assert backend.calls == [["a", "b"], ["c"]]
    assert (cache.stats.hits, cache.stats.misses) == (2, 3)


async def test_cache_ttl_expires() -> None:
    cache, backend = RecordCache(), Backend()
    await cache.load_many(["a"], backend.fetch, lambda _v: 0.05)
    await asyncio.sleep(0.1)
    await cache.load_many(["a"], backend.fetch, lambda _v: 0.05)
    assert len(backend.calls) == 2


async def test_cache_concurrent_misses_coalesce_into_one_fetch() -> None:
    cache, backend = RecordCache(), Backend(delay=0.05)
    results = await asyncio.gather(*(cache.load_many(["x", "y"], backend.fetch, lambda _v: 60) for _ in range(100)))
    assert all(r == ["value-x", "value-y"] for r in results)
    assert backend.calls == [["x", "y"]] and cache.stats.coalesced == 198


async def test_cache_not_found_cached_briefly_other_errors_never() -> None:
    cache = RecordCache(negative_ttl=60)
    calls = 0

    async def failing(keys: list[Hashable]) -> Mapping[Hashable, Any]:
        nonlocal calls
        calls += 1
        return {k: BackendError("boom", backend="openml") for k in keys}

    backend = Backend()
    first = await cache.load_many(["missing"], backend.fetch, lambda _v: 60)
    again = await cache.load_many(["missing"], backend.fetch, lambda _v: 60)
    assert isinstance(first[0], NotFoundError) and again[0] is first[0] and len(backend.calls) == 1
    await cache.load_many(["k"], failing, lambda _v: 60)
    await cache.load_many(["k"], failing, lambda _v: 60)
    assert calls == 2


async def test_cache_failed_fetch_releases_waiters() -> None:
    cache = RecordCache()

    async def explode(keys: list[Hashable]) -> Mapping[Hashable, Any]:
        await asyncio.sleep(0.02)
        raise BackendError("down", backend="openml")

    outcomes = await asyncio.gather(*(cache.load_many(["z"], explode, lambda _v: 60) for _ in range(5)),
                                    return_exceptions=True)
    assert all(isinstance(o, BackendError) or (isinstance(o, list) and isinstance(o[0], BackendError))
               for o in outcomes)


async def test_cache_bounded_in_entries() -> None:
    cache, backend = RecordCache(max_entries=10), Backend()
    await cache.load_many([str(i) for i in range(50)], backend.fetch, lambda _v: 60)
    assert len(cache) == 10


async def test_cache_disabled_fetches_every_time() -> None:
    cache, backend = RecordCache(enabled=False), Backend()
    await cache.load_many(["a"], backend.fetch, lambda _v: 60)
    await cache.load_many(["a"], backend.fetch, lambda _v: 60)
    assert len(backend.calls) == 2


@pytest.mark.parametrize("secret", ["demo-key-alice", "0" * 32])
def test_cache_credential_scope_never_holds_the_credential(secret: str) -> None:
    scope = credential_scope(secret)
    assert secret not in scope and scope != credential_scope(secret + "x") and scope == credential_scope(secret)
    assert credential_scope(None) == credential_scope("") == "public"
    key = record_key("http://x/api/v1/xml", scope, "dataset", 61)
    assert secret not in repr(key)


async def test_cache_invalidate_by_predicate() -> None:
    cache, backend = RecordCache(), Backend()
    await cache.load_many(["a", "b"], backend.fetch, lambda _v: 60)
    assert cache.invalidate(lambda k: k == "a") == 1
    await cache.load_many(["a", "b"], backend.fetch, lambda _v: 60)
    assert backend.calls[-1] == ["a"]


async def test_cache_invalidating_a_kind_drops_every_qualified_kind_of_that_entity() -> None:
    """``evaluation:<measure>`` belongs to the ``evaluation`` family: invalidating run 5's ``evaluation`` drops
    each measure of run 5, and nothing of run 6 or of other kinds."""
    cache, backend = RecordCache(), Backend()
    base = "http://x/api/v1/xml"
    keys = [record_key(base, "public", kind, native) for kind, native in [
        ("evaluation:predictive_accuracy", 5), ("evaluation:area_under_roc_curve", 5),
        ("evaluation:predictive_accuracy", 6), ("evaluations", 5), ("evaluationsx", 5)]]
    await cache.load_many(keys, backend.fetch, lambda _v: 60)
    await cache.invalidate_entity(base, ("evaluation",), 5)
    await cache.load_many(keys, backend.fetch, lambda _v: 60)
    assert backend.calls[-1] == keys[:2]
