"""Shared plumbing of the JSON backends' per-request loaders: cache-backed keyed loaders and list calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from gateway.cache import RecordCache, credential_scope
from gateway.errors import BackendUnavailableError, GatewayError
from gateway.settings import Settings
from schema.keyed import KeyedLoader, each

__all__ = ["SourceLoaders"]


class SourceLoaders:
    """Base of a JSON backend's loaders: builds KeyedLoaders that fail cleanly when the backend is absent."""

    backend = ""

    def __init__(self, client: Any, cache: RecordCache, settings: Settings, *, caller_token: str | None) -> None:
        self.client = client
        self.token = caller_token  # None: the client falls back to the service credential, else anonymous
        self.settings = settings
        self._cache = cache
        self._scope = credential_scope(caller_token)
        self._base = client.base_url if client is not None else f"{self.backend}:unconfigured"

    def unavailable(self) -> BackendUnavailableError:
        return BackendUnavailableError(f"The {self.backend} backend is not configured on this gateway.",
                                       backend=self.backend)

    def make(self, kind: str, fetch: Callable[[list[Any]], Awaitable[Mapping[Any, Any]]], *,
             ttl: float | None = None, max_batch: int | None = None, is_list: bool = False) -> KeyedLoader[Any, Any]:
        """A loader of ``kind`` whose batch calls ``fetch(keys) -> {key: record | error}``."""

        async def guarded(keys: list[Any]) -> Mapping[Any, Any]:
            if self.client is None:
                return dict.fromkeys(keys, self.unavailable())
            try:
                return await fetch(keys)
            except GatewayError as exc:
                return dict.fromkeys(keys, exc)

        full_kind = f"scan:{self.backend}-{kind}" if is_list else f"{self.backend}-{kind}"
        return KeyedLoader(kind=full_kind, cache=self._cache, base_url=self._base, scope=self._scope,
                           fetch=guarded, ttl=self.settings.cache_ttl if ttl is None else ttl,
                           batching=self.settings.dataloaders, max_batch_size=max_batch)

    def listing(self, kind: str, call: Callable[[Any], Awaitable[Any]]) -> KeyedLoader[Any, Any]:
        """A loader of whole list calls, one per distinct key (a filter), cached like records."""

        return self.make(kind, lambda keys: each(keys, call), is_list=True)

    async def invalidate(self, kinds: tuple[str, ...], native: Any) -> None:
        """Forget one entity (and every cached list of this backend) here, in Redis and on every replica."""
        await self._cache.invalidate_entity(self._base, tuple(f"{self.backend}-{k}" for k in kinds), native)
        for loader in vars(self).values():
            if isinstance(loader, KeyedLoader):
                loader.forget_all()
