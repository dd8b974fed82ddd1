"""Automatic persisted queries (Apollo's protocol) and the optional allow-list of registered documents.

A client sends ``extensions.persistedQuery = {"version": 1, "sha256Hash": <hex>}``, first without the query
text. The answers, as Apollo Server and Apollo Router give them:

```
hash only, known                        -> the stored document runs
hash only, unknown                      -> 200, PERSISTED_QUERY_NOT_FOUND ("PersistedQueryNotFound");
                                           the client retries with hash + text
hash + text, sha256(text) == hash       -> runs; stored once it parsed and validated
hash + text, mismatch                   -> 400 BAD_REQUEST "provided sha does not match query"; not stored
version other than 1, malformed hash    -> 400 BAD_REQUEST
APQ switched off                        -> 200, PERSISTED_QUERY_NOT_SUPPORTED (clients fall back to full text)
```
With an allow-list (Apollo Router's safelisting), only registered documents run and nothing is stored:
an unknown hash is 404 ``PERSISTED_QUERY_NOT_IN_LIST``; text whose hash is not registered is 403
``QUERY_NOT_IN_SAFELIST``. Registered text sent without its hash runs.

``APQStore`` is the tiny async interface a shared (Redis) store implements; ``InMemoryAPQStore`` is the
bounded per-process LRU. Stored text is re-hashed on the way out, so a poisoned shared store cannot make a
hash run another document.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gateway.settings import Settings, SettingsError

__all__ = [
    "APQStore",
    "InMemoryAPQStore",
    "PersistedQueries",
    "PersistedQueryError",
    "RedisAPQStore",
    "Resolved",
    "load_allowlist",
    "query_hash",
]

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_NO_CACHE = {"Cache-Control": "private, no-cache, must-revalidate"}


def query_hash(query: str) -> str:
    """Return the lower-case hex SHA-256 of ``query``'s UTF-8 bytes (what Apollo clients send)."""
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


class APQStore(Protocol):
    """Where persisted documents live: hash -> query text. Implementations must be safe to share per process."""

    async def get(self, sha256_hash: str) -> str | None:
        """Return the document stored under ``sha256_hash``, or None."""
        ...

    async def set(self, sha256_hash: str, query: str) -> None:
        """Store ``query`` under its (already verified) ``sha256_hash``."""
        ...


class InMemoryAPQStore:
    """A per-process LRU bounded in entries and in bytes of stored text (documents over the byte bound are skipped)."""

    def __init__(self, *, max_entries: int = 10_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    async def get(self, sha256_hash: str) -> str | None:
        """Return the stored document and mark it recently used."""
        item = self._items.get(sha256_hash)
        if item is None:
            return None
        self._items.move_to_end(sha256_hash)
        return item[0]

    async def set(self, sha256_hash: str, query: str) -> None:
        """Store ``query``, evicting the least recently used documents past either bound."""
        size = len(query.encode("utf-8", "surrogatepass"))
        if size > self.max_bytes or self.max_entries <= 0:
            return
        old = self._items.pop(sha256_hash, None)
        if old is not None:
            self._bytes -= old[1]
        self._items[sha256_hash] = (query, size)
        self._bytes += size
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, evicted) = self._items.popitem(last=False)
            self._bytes -= evicted


class PersistedQueryError(Exception):
    """A persisted-query refusal: its HTTP status, ``extensions.code``, message and extra response headers."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document to run; ``store_hash`` is set when it should be stored after it validates."""

    query: str | None
    store_hash: str | None = None


def load_allowlist(path: Path) -> dict[str, str]:
    """Read the allow-list: a JSON object ``{sha256: query}`` or a directory of ``*.graphql`` files.

    A file's hash is the SHA-256 of its exact text (trailing newline included), as a client would send it.
    Raises SettingsError naming ``GATEWAY_APQ_ALLOWLIST`` for an unreadable source or a hash that does not
    match its document.
    """
    where = f"GATEWAY_APQ_ALLOWLIST={path}"
    try:
        if path.is_dir():
            texts = [p.read_text(encoding="utf-8") for p in sorted(path.rglob("*.graphql"))]
            return {query_hash(text): text for text in texts}
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SettingsError(f"{where}: cannot read the allow-list ({exc})") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise SettingsError(f"{where}: expected a JSON object of sha256 hash -> query text")
    documents: dict[str, str] = {}
    for key, text in raw.items():
        if not _HEX64.match(key) or query_hash(text) != key.lower():
            raise SettingsError(f"{where}: {key!r} is not the sha256 of its query text")
        documents[key.lower()] = text
    return documents


class PersistedQueries:
    """Turns a request's ``query`` and ``extensions`` into the document to run, per the rules atop this module."""

    def __init__(self, store: APQStore | None, allowlist: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.allowlist = dict(allowlist) if allowlist is not None else None

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedQueries:
        """Build the store (or the allow-list) that ``settings`` ask for; reads the allow-list now.

        With ``redis_url`` the store is Redis, shared by every replica and worker (in front of a small
        per-process LRU); otherwise it is per process.
        """
        if settings.apq_allowlist:
            return cls(None, load_allowlist(Path(settings.apq_allowlist)))
        if not settings.apq_enabled:
            return cls(None)
        local = InMemoryAPQStore(max_entries=settings.apq_max_entries, max_bytes=settings.apq_max_bytes)
        if settings.redis_url:
            return cls(RedisAPQStore(settings.redis_url, local))
        return cls(local)

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> Resolved:
        """Return the document to run. Raises PersistedQueryError for every refusal in the module's table."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.allowlist is not None and query is not None and query_hash(query) not in self.allowlist:
                raise PersistedQueryError(403, "QUERY_NOT_IN_SAFELIST",
                                          "The operation is not in the allow-list of this server.")
            return Resolved(query)
        if self.store is None and self.allowlist is None:
            raise PersistedQueryError(200, "PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported", _NO_CACHE)
        sha = _checked_hash(persisted)
        if query is not None:
            if query_hash(query) != sha:
                raise PersistedQueryError(400, "BAD_REQUEST", "provided sha does not match query")
            if self.allowlist is not None:
                if sha not in self.allowlist:
                    raise _not_in_list(sha)
                return Resolved(query)
            return Resolved(query, store_hash=sha)
        if self.allowlist is not None:
            if sha not in self.allowlist:
                raise _not_in_list(sha)
            return Resolved(self.allowlist[sha])
        assert self.store is not None
        stored = await self.store.get(sha)
        if stored is None or query_hash(stored) != sha:
            raise PersistedQueryError(200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound", _NO_CACHE)
        return Resolved(stored)

    async def remember(self, resolved: Resolved) -> None:
        """Store a document that parsed and validated (no-op unless it came as hash + text in APQ mode)."""
        if self.store is not None and resolved.store_hash is not None and resolved.query is not None:
            await self.store.set(resolved.store_hash, resolved.query)


def _checked_hash(persisted: Any) -> str:
    if not isinstance(persisted, dict):
        raise PersistedQueryError(400, "BAD_REQUEST", "`extensions.persistedQuery` must be an object.")
    version = persisted.get("version")
    if version != 1 or isinstance(version, bool):
        raise PersistedQueryError(400, "BAD_REQUEST", "Unsupported persisted query version (only 1 is supported).")
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or not _HEX64.match(sha):
        raise PersistedQueryError(400, "BAD_REQUEST",
                                  "`extensions.persistedQuery.sha256Hash` must be a SHA-256 in 64 hex digits.")
    return sha.lower()


def _not_in_list(sha: str) -> PersistedQueryError:
    return PersistedQueryError(404, "PERSISTED_QUERY_NOT_IN_LIST",
                               f"Persisted query '{sha}' not found in the allow-list of this server.")


class RedisAPQStore:
    """Persisted documents in Redis (``gw:apq:<hash>``), shared by replicas, in front of a per-process LRU.

    Redis trouble is a miss (the client resends the query text, as the protocol allows), never a failure.
    Documents are verified against their hash when read back, so a foreign value is ignored.
    """

    def __init__(self, url: str, local: InMemoryAPQStore, *, ttl_s: int = 7 * 24 * 3600) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._local = local
        self._ttl = ttl_s
        self.errors = 0

    async def get(self, sha256_hash: str) -> str | None:
        found = await self._local.get(sha256_hash)
        if found is not None:
            return found
        try:
            raw = await self._redis.get(f"gw:apq:{sha256_hash}")
        except Exception:
            self.errors += 1
            return None
        if raw is None:
            return None
        text = raw.decode("utf-8", errors="replace")
        if query_hash(text) != sha256_hash:
            return None
        await self._local.set(sha256_hash, text)
        return text

    async def set(self, sha256_hash: str, query: str) -> None:
        await self._local.set(sha256_hash, query)
        try:
            await self._redis.set(f"gw:apq:{sha256_hash}", query.encode("utf-8"), ex=self._ttl)
        except Exception:
            self.errors += 1
