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

from adapters.openml_v1.client import OpenMLV1Client
from gateway.cache import RecordCache
from gateway.http import BackendHTTP
from gateway.redis_cache import RedisL2
from gateway.settings import BACKENDS, Settings
from schema.loaders import Loaders, OpenMLLoaders

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
    http: dict[str, BackendHTTP] = field(default_factory=dict)
    openml: OpenMLV1Client | None = None

    @classmethod
    def create(cls, settings: Settings) -> Services:
        """Build the services of ``settings`` (sessions open lazily inside the running loop)."""
        l2 = None
        if settings.redis_url and settings.cache_enabled:
            secret = settings.redis_secret or hashlib.sha256(settings.redis_url.encode()).hexdigest()
            l2 = RedisL2(settings.redis_url, secret)
        cache = RecordCache(
            max_entries=settings.cache_max_entries, enabled=settings.cache_enabled,
            negative_ttl=settings.cache_ttl_not_found, l2=l2,
        )
        services = cls(settings=settings, cache=cache)
        for name in BACKENDS:
            backend = settings.backend(name)
            if backend.url:
                services.http[name] = BackendHTTP(name, backend.url, backend.http_policy())
        if "openml" in services.http:
            services.openml = OpenMLV1Client(services.http["openml"], batch_size=settings.openml.batch_size)
        return services

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


@dataclass(slots=True)
class Context:
    """Everything a resolver may use for one request."""

    services: Services
    credentials: Credentials
    request_id: str
    loaders: Loaders
    request: Any = None
    response: Any = None

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
        loaders = Loaders(
            openml=OpenMLLoaders(services.openml, services.cache, services.settings,
                                 caller_key=credentials.openml, request_id=request_id),
        )
        return cls(services=services, credentials=credentials, request_id=request_id, loaders=loaders,
                   request=request, response=response)
