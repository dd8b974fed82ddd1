"""One aiohttp session per backend: timeouts, retries for idempotent reads, a concurrency cap, a size cap.

Every backend call of the gateway goes through ``BackendHTTP.request``. It is the ONE place where
aiohttp's exceptions become the taxonomy (most specific first, ``raise ... from exc``):

- a timeout (connect or total) -> BackendUnavailableError, never retried (the backend may be working);
- a refused or dropped connection -> BackendUnavailableError, retried for idempotent reads;
- a truncated payload or a body over the size cap -> BackendError;
- an open circuit -> BackendUnavailableError before any connection attempt.

A circuit breaker per backend opens after ``breaker_failures`` consecutive failures (timeouts, connection
errors, 5xx) and stays open for ``breaker_reset`` seconds; then ONE half-open probe is let through: its success
closes the circuit, its failure opens it again. A timeout on a non-idempotent call (a mutation) is reported
with ``extensions.outcome = "unknown"``: the backend may have done it.

HTTP statuses are returned to the adapter, which alone knows the backend's error bodies; 5xx and 429 are
retried for idempotent reads (``Retry-After`` respected), and an adapter may add its own retry predicate
(OpenML's code 107, say).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from gateway.errors import BackendError, BackendUnavailableError, GatewayError
from gateway.observability import REQUEST_ID, Telemetry

__all__ = ["BackendHTTP", "BackendResponse", "CallStats", "CircuitBreaker", "HTTPPolicy"]


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
    breaker_failures: int = 5
    breaker_reset: float = 30.0


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


RetryPredicate = Callable[[BackendResponse], bool]


class CircuitBreaker:
    """Closed -> open after N consecutive failures -> half-open (one probe) after ``reset`` seconds."""

    def __init__(self, failures: int, reset: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = max(1, failures)
        self.reset = reset
        self._clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        if self.opened_at is None:
            return "closed"
        return "half_open" if self._clock() >= self.opened_at + self.reset else "open"

    def allow(self) -> bool:
        """Return True when a call may go out now (claims the probe slot when half-open)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def success(self) -> None:
        """A call succeeded: close the circuit."""
        self.failures = 0
        self.opened_at = None
        self._probe_in_flight = False

    def failure(self) -> None:
        """A call failed: count it, and open (or re-open) the circuit when due."""
        self.failures += 1
        if self._probe_in_flight or self.failures >= self.threshold:
            self.opened_at = self._clock()
        self._probe_in_flight = False

    def release(self) -> None:
        """A call ended without telling anything about the backend's health (a client-side error)."""
        self._probe_in_flight = False


def _default_retryable(response: BackendResponse) -> bool:
    return response.status >= 500 or response.status == 429


class BackendHTTP:
    """The HTTP client of one backend; create it in the app lifespan and close it there."""

    def __init__(self, backend: str, base_url: str, policy: HTTPPolicy | None = None,
                 telemetry: Telemetry | None = None) -> None:
        self.backend = backend
        self.telemetry = telemetry or Telemetry()
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HTTPPolicy()
        self.stats = CallStats()
        self.breaker = CircuitBreaker(self.policy.breaker_failures, self.policy.breaker_reset)
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
            # aiohttp silently re-sends an idempotent request once after a dropped connection; our own
            # retry policy (counted, backed off, breaker-aware) is the only one, so calls stay countable.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
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
        last: BackendResponse | None = None
        for attempt in range(attempts):
            if not self.breaker.allow():
                self.telemetry.backend_errors.labels(self.backend, endpoint, "CIRCUIT_OPEN").inc()
                raise BackendUnavailableError(
                    f"The {self.backend} backend is failing; calls are paused for up to "
                    f"{self.policy.breaker_reset:g} s (circuit open).", backend=self.backend,
                )
            try:
                last = await self._once(method, path, endpoint, params, data, json, headers)
            except BackendUnavailableError as exc:
                self.breaker.failure()
                timed_out = bool(exc.extra.pop("timeout", None))
                if timed_out and not idempotent:
                    exc.extra["outcome"] = "unknown"
                if timed_out or attempt + 1 >= attempts:
                    raise
                await asyncio.sleep(self._backoff(attempt, None))
                continue
            except BaseException:
                self.breaker.release()
                raise
            unhealthy = _default_retryable(last) or (retry_if is not None and retry_if(last))
            if unhealthy:
                self.breaker.failure()
            else:
                self.breaker.success()
            if attempt + 1 < attempts and unhealthy:
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
        request_id = REQUEST_ID.get()
        if request_id and not (headers and "X-Request-Id" in headers):
            headers = {**(headers or {}), "X-Request-Id": request_id}
        async with self._semaphore:
            self.stats.calls += 1
            self.stats.by_endpoint[endpoint] += 1
            with self.telemetry.backend_call(self.backend, endpoint, method) as outcome:
                try:
                    return await self._send(session, method, url, data, json, headers, outcome)
                except GatewayError as exc:
                    outcome["code"] = exc.code
                    raise

    async def _send(
        self, session: aiohttp.ClientSession, method: str, url: URL, data: Any, json: Any,
        headers: Mapping[str, str] | None, outcome: dict[str, Any],
    ) -> BackendResponse:
        try:
            async with session.request(method, url, data=data, json=json, headers=headers) as resp:
                outcome["status"] = resp.status
                body = await self._read_capped(resp)
                return BackendResponse(resp.status, body, resp.headers)
        except TimeoutError as exc:
            raise BackendUnavailableError(
                f"The {self.backend} backend did not answer within {self.policy.total_timeout:g} s.",
                backend=self.backend, extra={"timeout": True},
            ) from exc
        except aiohttp.ClientPayloadError as exc:
            raise BackendError(f"The {self.backend} backend sent a truncated body.", backend=self.backend) from exc
        except aiohttp.ClientResponseError as exc:
            raise BackendError(
                f"The {self.backend} backend sent an invalid HTTP response ({exc.status}).", backend=self.backend
            ) from exc
        except (aiohttp.ClientConnectionError, OSError) as exc:
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
