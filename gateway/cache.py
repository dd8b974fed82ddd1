"""In-process record cache (L1): TTL + LRU bounded in entries, with coalescing of concurrent misses.

cachetools is only the container; the async logic is ours (``cachetools.cached`` on a coroutine would
cache the coroutine object). Keys are tuples that the caller builds with ``record_key``: the backend's
base URL (ids are per server), a credential scope (``public`` or a hash of the caller's credential, so
private records never cross callers), the entity kind and the id.

``load_many`` is what batch functions call: hits come from the cache, keys another request is already
fetching are awaited (one backend call for 100 concurrent identical misses), the rest are looked up in
the shared L2 (Redis, when configured), and only what is still missing is fetched, in one call to ``fetch``.

``invalidate_entity`` drops an entity's records (every credential scope) and every cached list page of
its backend from L1 and L2, and tells the other replicas through Redis to do the same. A kind may carry a
qualifier after a colon (``evaluation:predictive_accuracy``: one measure of a run); it belongs to the family
before the colon, and invalidating the family drops every qualified kind of the entity.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import TLRUCache

from gateway.errors import GatewayError, NotFoundError
from gateway.redis_cache import RedisL2

__all__ = ["LIST_KINDS", "CacheStats", "RecordCache", "credential_scope", "record_key"]

PUBLIC = "public"
LIST_KINDS = frozenset({"scan", "page"})  # cached list calls: invalidated wholesale by any mutation


def is_list_kind(kind: object) -> bool:
    """List calls (``scan``, ``page``, ``scan:<name>``) are dropped wholesale by any mutation of their backend."""
    return kind in LIST_KINDS or (isinstance(kind, str) and kind.startswith("scan:"))


def kind_family(kind: object) -> str:
    """The kind an entity's invalidation names: ``evaluation`` for ``evaluation:<measure>``."""
    return str(kind).partition(":")[0]


def credential_scope(credential: str | None) -> str:
    """Return ``public`` without a caller credential, else a hash of it (never the credential itself)."""
    if not credential:
        return PUBLIC
    return "k:" + hashlib.sha256(credential.encode("utf-8")).hexdigest()[:24]


def record_key(base_url: str, scope: str, kind: str, native: Hashable) -> tuple[Hashable, ...]:
    """Return the cache key of one record."""
    return (base_url, scope, kind, native)


@dataclass(slots=True)
class CacheStats:
    """Hit, miss and coalescing counters (exported as metrics)."""

    hits: int = 0
    misses: int = 0
    coalesced: int = 0


TTLFor = Callable[[Any], float]
Fetch = Callable[[list[Hashable]], Awaitable[Mapping[Hashable, Any]]]


class RecordCache:
    """A bounded TTL+LRU cache of normalized records; ``enabled=False`` keeps only coalescing off too."""

    def __init__(self, *, max_entries: int = 50_000, enabled: bool = True, negative_ttl: float = 10.0,
                 l2: RedisL2 | None = None) -> None:
        self.enabled = enabled
        self.l2 = l2 if enabled else None
        self.negative_ttl = negative_ttl
        self.stats = CacheStats()
        self._data: TLRUCache[Hashable, tuple[Any, float]] = TLRUCache(
            maxsize=max(1, max_entries), ttu=lambda _key, value, now: now + value[1], timer=time.monotonic
        )
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}
        self.listeners: list[Callable[[], None]] = []  # told about every invalidation (the response cache)

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """Return ``(True, value)`` on a hit, ``(False, None)`` on a miss."""
        if not self.enabled:
            return False, None
        entry = self._data.get(key)
        if entry is None:
            return False, None
        return True, entry[0]

    def set(self, key: Hashable, value: Any, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (nothing when ttl <= 0 or the cache is off)."""
        if self.enabled and ttl > 0:
            self._data[key] = (value, ttl)

    def invalidate(self, predicate: Callable[[Hashable], bool]) -> int:
        """Drop every entry whose key matches; return how many were dropped."""
        doomed = [key for key in list(self._data.keys()) if predicate(key)]
        for key in doomed:
            self._data.pop(key, None)
        return len(doomed)

    def clear(self) -> None:
        """Drop every entry."""
        self._data.clear()

    async def load_many(self, keys: Sequence[Hashable], fetch: Fetch, ttl_for: TTLFor) -> list[Any]:
        """Return one value (a record or a GatewayError instance) per key, in key order.

        Hits are served from the cache; keys being fetched by a concurrent caller are awaited; the
        rest go to ONE ``fetch(missing_keys)`` call that returns ``{key: record | GatewayError}``.
        Errors are cached only when they are NOT_FOUND (briefly); other errors are never cached.
        """
        results: dict[Hashable, Any] = {}
        waiting: dict[Hashable, asyncio.Future[Any]] = {}
        missing: list[Hashable] = []
        for key in dict.fromkeys(keys):
            hit, value = self.get(key)
            if hit:
                self.stats.hits += 1
                results[key] = value
            elif self.enabled and key in self._inflight:
                self.stats.coalesced += 1
                waiting[key] = self._inflight[key]
            else:
                self.stats.misses += 1
                missing.append(key)
        if missing:
            loop = asyncio.get_running_loop()
            mine = {key: loop.create_future() for key in missing}
            if self.enabled:
                self._inflight.update(mine)
            try:
                if self.l2 is not None:
                    shared = await self.l2.get_many(missing)
                    for key, (hit, value) in zip(list(missing), shared, strict=True):
                        if hit:
                            results[key] = value
                            mine[key].set_result(value)
                            self.set(key, value, ttl_for(value))
                    missing = [key for key in missing if key not in results]
                fetched = await fetch(missing) if missing else {}
            except BaseException as exc:
                for future in mine.values():
                    if future.done():
                        continue
                    if isinstance(exc, Exception):
                        future.set_exception(exc)
                        future.exception()  # retrieved here: waiters re-raise it, nobody else must
                    else:
                        future.cancel()
                raise
            finally:
                for key in mine:
                    if self._inflight.get(key) is mine[key]:
                        del self._inflight[key]
            shared_items: list[tuple[Hashable, Any, float, str]] = []
            for key in missing:
                value = fetched.get(key)
                if value is None:
                    value = NotFoundError("Not found.")
                results[key] = value
                mine[key].set_result(value)
                if isinstance(value, NotFoundError):
                    self.set(key, value, self.negative_ttl)
                elif not isinstance(value, GatewayError):
                    ttl = ttl_for(value)
                    self.set(key, value, ttl)
                    index = _index_of(key)
                    if self.l2 is not None and ttl > 0 and index is not None:
                        shared_items.append((key, value, ttl, RedisL2.entity_key(*index)))
            if shared_items and self.l2 is not None:
                await self.l2.set_many(shared_items)
        for key, future in waiting.items():
            try:
                results[key] = await asyncio.shield(future)
            except GatewayError as exc:
                results[key] = exc
        return [results[key] for key in keys]

    def _entity_predicate(self, base_url: str, kinds: frozenset[str], native: Hashable) -> Callable[[Hashable], bool]:
        def matches(key: Hashable) -> bool:
            if not (isinstance(key, tuple) and len(key) == 4 and key[0] == base_url):
                return False
            return is_list_kind(key[2]) or (kind_family(key[2]) in kinds and key[3] == native)

        return matches

    async def invalidate_entity(self, base_url: str, kinds: Sequence[str], native: Hashable) -> None:
        """Forget one entity (every scope, the given record kinds) and all cached lists of its backend,
        here, in Redis, and on every other replica."""
        wanted = frozenset(kinds)
        self.invalidate(self._entity_predicate(base_url, wanted, native))
        for listener in self.listeners:
            listener()
        if self.l2 is not None:
            indexes = [RedisL2.entity_key(base_url, kind, native) for kind in sorted(wanted)]
            indexes.append(RedisL2.entity_key(base_url, "scan", "*"))  # every list kind is indexed as "scan"
            message = {"base": base_url, "kinds": sorted(wanted), "native": native}
            await self.l2.invalidate(indexes, message)

    def apply_remote_invalidation(self, message: dict[str, Any]) -> None:
        """Apply another replica's invalidation (a message from the Redis channel) to this L1."""
        native = message["native"]
        self.invalidate(self._entity_predicate(str(message["base"]), frozenset(message["kinds"]), native))
        for listener in self.listeners:
            listener()


def _index_of(key: Hashable) -> tuple[str, str, Hashable] | None:
    """The entity a record key belongs to: (base URL, kind, id); list calls share one index per kind."""
    if not (isinstance(key, tuple) and len(key) == 4):
        return None
    base, _scope, kind, native = key
    return (str(base), "scan" if is_list_kind(kind) else kind_family(kind), "*" if is_list_kind(kind) else native)
