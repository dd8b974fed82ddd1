"""Keyed loaders: per-request DataLoaders over the shared record cache, with a synchronous fast path.

A resolver asks ``loader.get(key, fn)``: when the record is already known in this request (primed from a
list call, or loaded by a sibling field) or sits in the shared in-process cache, ``fn(record)`` is returned
right away and the field resolves without an event-loop round trip; otherwise an awaitable is returned and
the key joins the DataLoader's next batch (one backend call for every key of the batch that the cache does
not hold). ``then`` chains such maybe-awaitable values. With dataloaders switched off (a benchmark
setting) there is no memo and no fast path: every field goes to the backend on its own.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader

from gateway.cache import RecordCache, record_key
from gateway.errors import GatewayError

__all__ = ["KeyedLoader", "MaybeAwaitable", "QualifiedLoader", "each", "then"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
A = TypeVar("A")
B = TypeVar("B")

MaybeAwaitable = A | Awaitable[A]


def then(value: MaybeAwaitable[A], fn: Callable[[A], MaybeAwaitable[B]]) -> MaybeAwaitable[B]:
    """Apply ``fn`` to ``value`` now if it is ready, else once it resolves (flattening awaitables)."""
    if inspect.isawaitable(value):
        return _then(value, fn)
    return fn(value)


async def _then(value: Awaitable[A], fn: Callable[[A], MaybeAwaitable[B]]) -> B:
    result = fn(await value)
    if inspect.isawaitable(result):
        return await result
    return result


class KeyedLoader(Generic[K, V]):
    """A DataLoader whose batch function goes through the record cache."""

    def __init__(
        self,
        *,
        kind: str,
        cache: RecordCache,
        base_url: str,
        scope: str,
        fetch: Callable[[list[K]], Awaitable[Mapping[K, V | GatewayError]]],
        ttl: float,
        batching: bool,
        max_batch_size: int | None = None,
    ) -> None:
        self.kind = kind
        self._cache = cache
        self._base_url = base_url
        self._scope = scope
        self._fetch = fetch
        self._ttl = ttl
        self._batching = batching
        self.memo: dict[K, V | GatewayError] = {}
        self.absent: set[K] = set()  # not in the L1 cache when first peeked; memo answers once loaded
        self.requested: set[K] = set()  # asked for in this request: loaded, loading or wanted
        self.loader: DataLoader[K, V] = DataLoader(
            self._batch, batch=batching, cache=batching, max_batch_size=max_batch_size
        )

    def cache_key(self, key: K) -> tuple[Hashable, ...]:
        """The shared cache's key of ``key``."""
        return record_key(self._base_url, self._scope, self.kind, key)

    async def _batch(self, keys: list[K]) -> list[V | Exception]:
        cache_keys = [self.cache_key(key) for key in keys]
        by_cache_key = dict(zip(cache_keys, keys, strict=True))

        async def fetch(missing: list[Hashable]) -> dict[Hashable, Any]:
            got = await self._fetch([by_cache_key[ck] for ck in missing])
            return {self.cache_key(key): value for key, value in got.items()}

        return await self._cache.load_many(cache_keys, fetch, lambda _value: self._ttl)

    def peek(self, key: K) -> tuple[bool, V | GatewayError | None]:
        """Return ``(True, record or error)`` when known without I/O (this request, or the L1 cache)."""
        if not self._batching:
            return False, None
        if key in self.memo:
            return True, self.memo[key]
        if key in self.absent:
            return False, None
        hit, value = self._cache.get(self.cache_key(key))
        if hit:
            self._cache.stats.hits += 1
            self.memo[key] = value
            return True, value
        self.absent.add(key)  # asked again by sibling fields: one L1 lookup per request, not one per field
        return False, None

    def get(self, key: K, fn: Callable[[V], MaybeAwaitable[A]]) -> MaybeAwaitable[A]:
        """``fn(record)``: now when the record is known, else after the next batch; raises its GatewayError."""
        hit, value = self.peek(key)
        if hit:
            if isinstance(value, BaseException):
                raise value
            return fn(value)  # type: ignore[arg-type]
        return then(self.load(key), fn)

    def want(self, key: K) -> asyncio.Future[V] | None:
        """Ask for ``key`` now without awaiting it (a list's look-ahead, see ``schema.lookahead``): the field
        that needs the record later joins the same pending load. None when the record is known already or
        dataloaders are off (then every field makes its own call, which is what that setting is for)."""
        if not self._batching or self.peek(key)[0]:
            return None
        self.requested.add(key)
        future = self.loader.load(key)
        future.add_done_callback(lambda done: self._settled(key, done))
        return future

    def _settled(self, key: K, done: asyncio.Future[V]) -> None:
        """A wanted record arrived: fields asking after this resolve without awaiting. A failure is left to
        the field that awaits it to report (retrieved here, so it is not logged as never retrieved)."""
        if not done.cancelled() and done.exception() is None:
            self.memo[key] = done.result()

    def load(self, key: K) -> Awaitable[V]:
        """Return the record for ``key``; raise its GatewayError.

        The key joins the batch NOW, not when the returned awaitable first runs: graphql-core starts the
        awaitables of a list's fields only after completing the whole list, so a batch dispatched from their
        first steps would wait for all of them; enqueued here, it dispatches as soon as this pass yields.
        """
        self.requested.add(key)
        return self._remember(key, self.loader.load(key))

    def asked(self, key: K) -> bool:
        """Whether this request has the record or has asked for it (so reading it costs no extra call)."""
        return key in self.memo or key in self.requested

    async def _remember(self, key: K, pending: Awaitable[V]) -> V:
        value = await pending
        if self._batching:
            self.memo[key] = value
        return value

    async def load_many(self, keys: Sequence[K]) -> list[V]:
        """Return the records for ``keys`` in order; raise the first GatewayError."""
        values = list(await self.loader.load_many(list(keys)))
        if self._batching:
            self.memo.update(zip(keys, values, strict=True))
        return values

    def prime(self, key: K, value: V) -> None:
        """Seed this request's loader with a record another call already returned."""
        self.loader.prime(key, value)
        if self._batching:
            self.memo[key] = value

    def forget(self, key: K) -> None:
        """Drop ``key`` from this request (after a mutation changed it)."""
        self.memo.pop(key, None)
        self.loader.clear(key)

    def forget_all(self) -> None:
        """Drop every key from this request."""
        self.memo.clear()
        self.loader.clear_all()


class QualifiedLoader(KeyedLoader[tuple[Hashable, str], V]):
    """A KeyedLoader whose keys are ``(entity id, qualifier)``, such as (run, measure).

    Each is cached as the entity's kind ``<kind>:<qualifier>``, so invalidating the entity's ``kind`` drops
    every qualifier of it (see ``gateway.cache.kind_family``).
    """

    def cache_key(self, key: tuple[Hashable, str]) -> tuple[Hashable, ...]:
        native, qualifier = key
        return record_key(self._base_url, self._scope, f"{self.kind}:{qualifier}", native)

    def forget(self, key: Hashable) -> None:
        """Drop every qualifier of entity ``key`` from this request."""
        for known in [k for k in self.memo if k[0] == key]:
            del self.memo[known]
        self.loader.clear_all()  # the DataLoader's own cache has no entity index: others load again if asked


async def each(keys: Sequence[Any], call: Callable[[Any], Awaitable[Any]]) -> dict[Any, Any]:
    """A batch function's body when the backend has no batch endpoint: one call per key, concurrently.

    A key whose call fails with a GatewayError maps to that error (the loader hands it to that key alone);
    any other exception is a bug and propagates.
    """
    results = await asyncio.gather(*(call(key) for key in keys), return_exceptions=True)
    out: dict[Any, Any] = {}
    for key, result in zip(keys, results, strict=True):
        if isinstance(result, BaseException) and not isinstance(result, GatewayError):
            raise result
        out[key] = result
    return out
