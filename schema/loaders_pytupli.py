"""pytupli loaders of one request: benchmarks, episodes and artifacts (batched by an IN filter on id)."""

from __future__ import annotations

import json
from typing import Any

from adapters.pytupli.client import PytupliClient
from adapters.records.pytupli import BenchmarkRecord, EpisodeRecord, PytupliArtifactRecord
from gateway.cache import RecordCache
from gateway.settings import Settings
from schema.keyed import KeyedLoader
from schema.loaders_json import SourceLoaders

__all__ = ["PytupliLoaders", "filter_key"]


def filter_key(value: dict[str, Any] | None) -> str:
    """A hashable key for a BaseFilter (pytupli lists take a filter body)."""
    return json.dumps(value, sort_keys=True) if value else ""


class PytupliLoaders(SourceLoaders):
    """Per-request pytupli loaders; lists are whole (pytupli does not paginate) and cached per filter."""

    backend = "pytupli"

    def __init__(self, client: PytupliClient | None, cache: RecordCache, settings: Settings, *,
                 caller_token: str | None) -> None:
        super().__init__(client, cache, settings, caller_token=caller_token)
        self.benchmark: KeyedLoader[str, BenchmarkRecord] = self.make(
            "benchmark", lambda ids: self.client.get_benchmarks(ids, self.token))
        self.episode: KeyedLoader[str, EpisodeRecord] = self.make(
            "episode", lambda ids: self.client.get_episodes(ids, self.token))
        self.artifact: KeyedLoader[str, PytupliArtifactRecord] = self.make(
            "artifact", lambda ids: self.client.get_artifacts(ids, self.token))
        self.benchmarks: KeyedLoader[str, tuple[BenchmarkRecord, ...]] = self.listing(
            "benchmarks", lambda key: self.client.list_benchmarks(json.loads(key) if key else None, self.token))
        self.episodes: KeyedLoader[str, tuple[EpisodeRecord, ...]] = self.listing(
            "episodes", lambda key: self.client.list_episodes(json.loads(key) if key else None, self.token))
        self.artifacts: KeyedLoader[str, tuple[PytupliArtifactRecord, ...]] = self.listing(
            "artifacts", lambda key: self.client.list_artifacts(json.loads(key) if key else None, self.token))


def _eq(key: str, value: Any) -> str:
    return filter_key({"type": "EQ", "key": key, "value": value})


def _by_benchmark(benchmark_id: str) -> str:
    return _eq("benchmark_id", benchmark_id)


PytupliLoaders.by_benchmark = staticmethod(_by_benchmark)  # type: ignore[attr-defined]
