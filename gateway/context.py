"""App-lifetime services and the per-request Context (credentials, request id, loaders).

``Services`` owns one HTTP session per configured backend, the adapters and the record cache; it is
made in the app lifespan and closed there. ``Context`` is made per request in ``get_context``: it
reads the caller's credentials from headers and builds fresh loaders, so nothing per-request is shared.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.mlte.client import MLTEClient
from adapters.openml_v1.client import OpenMLV1Client
from adapters.openml_v2.client import OpenMLV2Client
from adapters.pytupli.client import PytupliClient
from adapters.vantage6.client import Vantage6Client
from gateway.cache import RecordCache
from gateway.http import BackendHTTP
from gateway.observability import REQUEST_ID, Telemetry, counter_family, gauge_family, telemetry_from_settings
from gateway.redis_cache import RedisL2
from gateway.settings import BACKENDS, Settings
from schema.loaders import Loaders, OpenMLLoaders
from schema.loaders_mlte import MLTELoaders
from schema.loaders_pytupli import PytupliLoaders
from schema.loaders_vantage6 import Vantage6Loaders

__all__ = ["CREDENTIAL_HEADERS", "Context", "Credentials", "Services"]

CREDENTIAL_HEADERS = {
    "openml": "x-openml-api-key",
    "mlte": "x-mlte-token",
    "vantage6": "x-vantage6-token",
    "pytupli": "x-pytupli-token",
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True, slots=True)
class Credentials:
    """The caller's own credential per backend (None when the header is absent or empty)."""

    openml: str | None = None
    mlte: str | None = None
    vantage6: str | None = None
    pytupli: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Credentials:
        """Read the credential headers of design.md; blank values count as absent."""
        values = {name: (headers.get(header) or "").strip() or None for name, header in CREDENTIAL_HEADERS.items()}
        return cls(**values)

    def __repr__(self) -> str:
        present = [name for name in CREDENTIAL_HEADERS if getattr(self, name)]
        return f"Credentials(present={present})"


@dataclass(slots=True)
class Services:
    """What lives as long as the app: settings, the cache, HTTP sessions and adapters."""

    settings: Settings
    cache: RecordCache
    telemetry: Telemetry = field(default_factory=Telemetry)
    http: dict[str, BackendHTTP] = field(default_factory=dict)
    openml: OpenMLV1Client | None = None
    openml_v2: OpenMLV2Client | None = None
    mlte: MLTEClient | None = None
    pytupli: PytupliClient | None = None
    vantage6: Vantage6Client | None = None

    @classmethod
    def create(cls, settings: Settings, *, telemetry: Telemetry | None = None) -> Services:
        """Build the services of ``settings`` (sessions open lazily inside the running loop).

        ``telemetry`` may be passed in (tests use an in-memory span exporter); else it follows settings.
        """
        l2 = None
        if settings.redis_url and settings.cache_enabled:
            secret = settings.redis_secret or hashlib.sha256(settings.redis_url.encode()).hexdigest()
            l2 = RedisL2(settings.redis_url, secret)
        cache = RecordCache(
            max_entries=settings.cache_max_entries, enabled=settings.cache_enabled,
            negative_ttl=settings.cache_ttl_not_found, l2=l2,
        )
        services = cls(settings=settings, cache=cache, telemetry=telemetry or telemetry_from_settings(settings))
        for name in BACKENDS:
            backend = settings.backend(name)
            if backend.url:
                services.http[name] = BackendHTTP(name, backend.url, backend.http_policy(), services.telemetry)
        services.telemetry.watch(services._state_metrics)
        if "openml" in services.http:
            services.openml = OpenMLV1Client(services.http["openml"], batch_size=settings.openml.batch_size)
        if settings.openml_v2_url:
            v2 = BackendHTTP("openml", settings.openml_v2_url, settings.openml.http_policy(), services.telemetry)
            services.http["openml_v2"] = v2
            services.openml_v2 = OpenMLV2Client(v2, batch_size=settings.openml.batch_size)
        if "mlte" in services.http:
            services.mlte = MLTEClient(services.http["mlte"], settings.mlte)
        if "pytupli" in services.http:
            services.pytupli = PytupliClient(services.http["pytupli"], settings.pytupli)
        if "vantage6" in services.http:
            services.vantage6 = Vantage6Client(services.http["vantage6"], settings.vantage6)
        return services

    def _state_metrics(self) -> list[Any]:
        stats = self.cache.stats
        states = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
        families = [
            counter_family("gateway_cache_hits", "Record cache hits (L1).", [], [([], stats.hits)]),
            counter_family("gateway_cache_misses", "Record cache misses (L1).", [], [([], stats.misses)]),
            counter_family("gateway_cache_coalesced", "Misses served by a concurrent identical fetch.", [],
                           [([], stats.coalesced)]),
            gauge_family("gateway_breaker_state", "Circuit breaker per backend: 0 closed, 1 half-open, 2 open.",
                         ["backend"], [([n], states[h.breaker.state]) for n, h in sorted(self.http.items())]),
        ]
        if self.cache.l2 is not None:
            l2 = self.cache.l2
            families += [
                counter_family("gateway_cache_l2_hits", "Shared (Redis) cache hits.", [], [([], l2.hits)]),
                counter_family("gateway_cache_l2_misses", "Shared (Redis) cache misses.", [], [([], l2.misses)]),
                counter_family("gateway_cache_l2_errors", "Redis calls that failed (served as misses).", [],
                               [([], l2.errors)]),
            ]
        return families

    def backend_calls(self) -> dict[str, int]:
        """Return how many calls reached each backend since start."""
        return {name: http.stats.calls for name, http in self.http.items()}

    async def start(self) -> None:
        """Start background work (the Redis invalidation listener); call inside the running loop."""
        if self.cache.l2 is not None:
            self.cache.l2.listen(self.cache.apply_remote_invalidation)

    async def close(self) -> None:
        """Close every HTTP session and the Redis connections."""
        for http in self.http.values():
            await http.close()
        if self.cache.l2 is not None:
            await self.cache.l2.close()
        self.telemetry.shutdown()


@dataclass(slots=True)
class Context:
    """Everything a resolver may use for one request."""

    services: Services
    credentials: Credentials
    request_id: str
    loaders: Loaders
    request: Any = None
    response: Any = None
    partial_errors: list[tuple[tuple[Any, ...], Any]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        """The process settings."""
        return self.services.settings

    @classmethod
    def create(cls, services: Services, headers: Mapping[str, str], request: Any = None,
               response: Any = None) -> Context:
        """Build the context of one request from its headers."""
        credentials = Credentials.from_headers(headers)
        incoming = headers.get("x-request-id") or ""
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        REQUEST_ID.set(request_id)
        loaders = Loaders(
            openml=OpenMLLoaders(services.openml, services.cache, services.settings,
                                 caller_key=credentials.openml, request_id=request_id, v2=services.openml_v2),
            mlte=MLTELoaders(services.mlte, services.cache, services.settings, caller_token=credentials.mlte),
            pytupli=PytupliLoaders(services.pytupli, services.cache, services.settings,
                                   caller_token=credentials.pytupli),
            vantage6=Vantage6Loaders(services.vantage6, services.cache, services.settings,
                                     caller_token=credentials.vantage6),
        )
        return cls(services=services, credentials=credentials, request_id=request_id, loaders=loaders,
                   request=request, response=response)
