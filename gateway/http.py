"""One aiohttp session per backend: timeouts, retries for idempotent reads, a concurrency cap, a size cap.

Every backend call of the gateway goes through ``BackendHTTP.request``. It is the ONE place where
aiohttp's exceptions become the taxonomy (most specific first, ``raise ... from exc``):

- a timeout (connect or total) -> BackendUnavailableError, never retried (the backend may be working);
- a refused or dropped connection -> BackendUnavailableError, retried for idempotent reads;
- a truncated payload or a body over the size cap -> BackendError.

HTTP statuses are returned to the adapter, which alone knows the backend's error bodies; 5xx and 429 are
retried for idempotent reads (``Retry-After`` respected), and an adapter may add its own retry predicate
(OpenML's code 107, say).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from gateway.errors import BackendError, BackendUnavailableError

__all__ = ["BackendHTTP", "BackendResponse", "CallStats", "HTTPPolicy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class HTTPPolicy:
    """Per-backend limits; every value comes from settings."""

    connect_timeout: float = 2.0
    total_timeout: float = 5.0
    max_concurrency: int = 16
    max_response_bytes: int = 64 * 1024 * 1024
    retries: int = 2
    retry_backoff: float = 0.1
    retry_backoff_max: float = 2.0


@dataclass(frozen=True, slots=True)
class BackendResponse:
    """A backend's answer: status, the whole body (under the size cap) and headers."""

    status: int
    body: bytes
    headers: Mapping[str, str]


@dataclass(slots=True)
class CallStats:
    """Counts of calls that reached the network, in total and per endpoint kind."""

    calls: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    failures: int = 0


RetryPredicate = Callable[[BackendResponse], bool]


def _default_retryable(response: BackendResponse) -> bool:
    return response.status >= 500 or response.status == 429


class BackendHTTP:
    """The HTTP client of one backend; create it in the app lifespan and close it there."""

    def __init__(self, backend: str, base_url: str, policy: HTTPPolicy | None = None) -> None:
        self.backend = backend
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HTTPPolicy()
        self.stats = CallStats()
        self._semaphore = asyncio.Semaphore(self.policy.max_concurrency)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(
                total=self.policy.total_timeout, sock_connect=self.policy.connect_timeout
            )
            connector = aiohttp.TCPConnector(limit=self.policy.max_concurrency, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                timeout=timeout, connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": "ml-metadata-gateway/0.1"}, auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        """Close the session and its pooled connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def url(self, path: str) -> URL:
        """Return the absolute URL of ``path`` (already percent-encoded) under the base URL."""
        return URL(f"{self.base_url}/{path.lstrip('/')}", encoded=True)

    async def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, str] | None = None,
        data: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        retry_if: RetryPredicate | None = None,
    ) -> BackendResponse:
        """Send one request (plus retries for idempotent reads) and return the backend's response.

        ``endpoint`` names the kind of call for metrics (``run/list``). Raises BackendUnavailableError
        on timeouts and connection failures, BackendError on truncated or oversized bodies.
        """
        if idempotent is None:
            idempotent = method in {"GET", "HEAD", "OPTIONS"}
        attempts = 1 + (self.policy.retries if idempotent else 0)
        retryable = retry_if or _default_retryable
        last: BackendResponse | None = None
        for attempt in range(attempts):
            try:
                last = await self._once(method, path, endpoint, params, data, json, headers)
            except BackendUnavailableError as exc:
                if exc.extra.get("timeout") or attempt + 1 >= attempts:
                    exc.extra.pop("timeout", None)
                    raise
                await asyncio.sleep(self._backoff(attempt, None))
                continue
            if attempt + 1 < attempts and (_default_retryable(last) or retryable(last)):
                await asyncio.sleep(self._backoff(attempt, last.headers.get("Retry-After")))
                continue
            return last
        assert last is not None  # the loop either returned, raised or stored a response
        return last

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(float(retry_after), self.policy.retry_backoff_max * 4)
            except ValueError:
                pass
        base = min(self.policy.retry_backoff * (2**attempt), self.policy.retry_backoff_max)
        return base / 2 + random.uniform(0, base / 2)  # jitter, not cryptography

    async def _once(
        self,
        method: str,
        path: str,
        endpoint: str,
        params: Mapping[str, str] | None,
        data: Any,
        json: Any,
        headers: Mapping[str, str] | None,
    ) -> BackendResponse:
        session = self._get_session()
        url = self.url(path)
        if params:
            url = url.update_query(dict(params))
        async with self._semaphore:
            self.stats.calls += 1
            self.stats.by_endpoint[endpoint] += 1
            try:
                async with session.request(method, url, data=data, json=json, headers=headers) as resp:
                    body = await self._read_capped(resp)
                    return BackendResponse(resp.status, body, resp.headers)
            except TimeoutError as exc:
                self.stats.failures += 1
                raise BackendUnavailableError(
                    f"The {self.backend} backend did not answer within {self.policy.total_timeout:g} s.",
                    backend=self.backend, extra={"timeout": True},
                ) from exc
            except aiohttp.ClientPayloadError as exc:
                self.stats.failures += 1
                raise BackendError(f"The {self.backend} backend sent a truncated body.", backend=self.backend) from exc
            except aiohttp.ClientResponseError as exc:
                self.stats.failures += 1
                raise BackendError(
                    f"The {self.backend} backend sent an invalid HTTP response ({exc.status}).", backend=self.backend
                ) from exc
            except (aiohttp.ClientConnectionError, OSError) as exc:
                self.stats.failures += 1
                raise BackendUnavailableError(
                    f"The {self.backend} backend is unreachable ({type(exc).__name__}).", backend=self.backend
                ) from exc

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.policy.max_response_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise BackendError(f"The {self.backend} response exceeds {cap} bytes.", backend=self.backend)
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(256 * 1024):
            size += len(chunk)
            if size > cap:
                raise BackendError(f"The {self.backend} response exceeds {cap} bytes.", backend=self.backend)
            chunks.append(chunk)
        return b"".join(chunks)
