"""MLTE loaders of one request: models, versions and artifacts, batched per model and version."""

from __future__ import annotations

from typing import Any

from adapters.mlte.client import MLTEClient
from adapters.records.mlte import MLTEArtifactRecord, MLTEModelRecord, MLTEVersionRecord
from gateway.cache import RecordCache
from gateway.settings import Settings
from schema.keyed import KeyedLoader
from schema.loaders_json import SourceLoaders

__all__ = ["MLTELoaders"]

ArtifactKey = tuple[str, str | None, str]
PageKey = tuple[str, str, int, int]


class MLTELoaders(SourceLoaders):
    """Per-request MLTE loaders; keys are identifiers as MLTE spells them (``/`` kept, not ``---``)."""

    backend = "mlte"

    def __init__(self, client: MLTEClient | None, cache: RecordCache, settings: Settings, *,
                 caller_token: str | None) -> None:
        super().__init__(client, cache, settings, caller_token=caller_token)
        self.model: KeyedLoader[str, MLTEModelRecord] = self.make(
            "model", lambda ids: self.client.get_models(ids, self.token))
        self.version: KeyedLoader[tuple[str, str], MLTEVersionRecord] = self.make(
            "version", lambda keys: self.client.get_versions(keys, self.token))
        self.artifact: KeyedLoader[ArtifactKey, MLTEArtifactRecord] = self.make(
            "artifact", lambda keys: self.client.get_artifacts(keys, self.token))
        self.models: KeyedLoader[str, tuple[str, ...]] = self.listing(
            "models", lambda _key: self.client.list_models(self.token))
        self.pages: KeyedLoader[PageKey, Any] = self.listing(
            "page", lambda key: self.client.list_artifacts(key[0], key[1], key[2], key[3], self.token))
