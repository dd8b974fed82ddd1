"""The shared (L2) record cache in Redis, and the invalidation channel that reaches every replica.

Layout (keys never hold a credential or a backend URL in clear):
- ``gw:r:<sha256 of the record key>``: a signed pickle of one record, with the record's TTL;
- ``gw:i:<sha256 of (base URL, kind, id)>``: a set of the record keys of one entity, over every credential
  scope, so a mutation can drop all of them;
- ``gw:invalidate``: a pub/sub channel; every replica drops the same entities from its L1 when told.

Entries are signed with HMAC-SHA256 (``GATEWAY_REDIS_SECRET``) and a bad signature is a miss, so a value
written by anything else is never unpickled. Redis being down is never a request failure: every call
here degrades to a miss, counted in ``errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import pickle
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["CHANNEL", "RedisL2"]

log = logging.getLogger("gateway.cache.redis")
CHANNEL = "gw:invalidate"
_DIGEST = 32


def _h(value: object) -> str:
    return hashlib.sha256(repr(value).encode("utf-8")).hexdigest()


class RedisL2:
    """Records shared by replicas; safe to call when Redis is unreachable (every failure is a miss)."""

    def __init__(self, url: str, secret: str, *, timeout: float = 0.5) -> None:
        self._redis = aioredis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._secret = secret.encode("utf-8")
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self._listener: asyncio.Task[None] | None = None

    @staticmethod
    def record_key(key: Hashable) -> str:
        return "gw:r:" + _h(key)

    @staticmethod
    def entity_key(base_url: str, kind: str, native: Hashable) -> str:
        return "gw:i:" + _h((base_url, kind, native))

    def _seal(self, value: Any) -> bytes:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return hmac.new(self._secret, payload, hashlib.sha256).digest() + payload

    def _open(self, blob: bytes) -> Any:
        mac, payload = blob[:_DIGEST], blob[_DIGEST:]
        if not hmac.compare_digest(mac, hmac.new(self._secret, payload, hashlib.sha256).digest()):
            raise ValueError("bad signature")
        return pickle.loads(payload)

    async def get_many(self, keys: Sequence[Hashable]) -> list[tuple[bool, Any]]:
        """Return ``(hit, value)`` per key; misses (and any Redis trouble) are ``(False, None)``."""
        if not keys:
            return []
        try:
            blobs = await self._redis.mget([self.record_key(k) for k in keys])
        except (RedisError, OSError) as exc:
            self.errors += 1
            log.warning("redis get failed: %s", type(exc).__name__)
            return [(False, None)] * len(keys)
        out: list[tuple[bool, Any]] = []
        for blob in blobs:
            if blob is None:
                self.misses += 1
                out.append((False, None))
                continue
            try:
                out.append((True, self._open(blob)))
                self.hits += 1
            except (ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
                self.errors += 1
                out.append((False, None))
        return out

    async def set_many(self, items: Sequence[tuple[Hashable, Any, float, str]]) -> None:
        """Store ``(key, value, ttl, entity index key)`` items; Redis trouble is logged, never raised."""
        if not items:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, value, ttl, index in items:
                    name = self.record_key(key)
                    seconds = max(1, int(ttl))
                    pipe.set(name, self._seal(value), ex=seconds)
                    pipe.sadd(index, name)
                    pipe.expire(index, seconds, gt=True)
                    pipe.expire(index, seconds, nx=True)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self.errors += 1
            log.warning("redis set failed: %s", type(exc).__name__)

    async def invalidate(self, indexes: Sequence[str], message: dict[str, Any]) -> None:
        """Drop every record of the given entity indexes and tell every replica (``message`` is published)."""
        try:
            members: set[bytes] = set()
            for index in indexes:
                members.update(await self._redis.smembers(index))
            if members or indexes:
                await self._redis.delete(*members, *indexes)
            await self._redis.publish(CHANNEL, json.dumps(message))
        except (RedisError, OSError) as exc:
            self.errors += 1
            log.warning("redis invalidation failed: %s", type(exc).__name__)

    def listen(self, on_message: Callable[[dict[str, Any]], None]) -> None:
        """Start the background subscriber that applies other replicas' invalidations to our L1."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(on_message), name="redis-invalidation-listener")

    async def _listen(self, on_message: Callable[[dict[str, Any]], None]) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        on_message(json.loads(message["data"]))
                    except (ValueError, TypeError, KeyError):
                        log.warning("ignored a malformed invalidation message")
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self.errors += 1
                log.warning("redis subscription lost (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1.0)

    async def ping(self) -> bool:
        """Return True when Redis answers."""
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        """Stop the subscriber and close the connections."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._listener
            self._listener = None
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()
