"""pytupli records: benchmarks, recorded episodes (with their RL tuples on demand) and artifacts.

pytupli stores every object with ``id`` (a uuid4 hex string), ``created_by`` (a username), ``created_at`` (a naive
ISO timestamp: no zone is invented) and ``published_in`` (the groups that may read it; the owner's own group
first). Free-form maps (``extra``, episode ``metadata``, tuple ``info``) are kept verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["BenchmarkRecord", "EpisodeRecord", "EpisodeTupleRecord", "PytupliArtifactRecord"]

record = dataclass(frozen=True, slots=True, kw_only=True)


@record
class BenchmarkRecord:
    """A benchmark header (``BenchmarkHeader``) with its ``metadata`` fields flattened.

    ``serialized`` (the JSON of the configured environment, possibly large) is None unless the caller asked
    ``get_benchmark(..., include_serialized=True)``.
    """

    id: str
    hash: str
    name: str
    description: str | None = None
    difficulty: str | None = None
    version: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    published_in: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    serialized: str | None = None
    raw_extra: Mapping[str, Any] = field(default_factory=dict)


@record
class EpisodeTupleRecord:
    """One RL step of an episode: what the agent saw, did and got; ``terminal``/``timeout`` end the episode."""

    state: Any
    action: Any
    reward: Any
    info: Mapping[str, Any] = field(default_factory=dict)
    terminal: bool = False
    timeout: bool = False


@record
class EpisodeRecord:
    """A recorded episode (``EpisodeHeader``); ``tuples`` is None unless listed with ``include_tuples``."""

    id: str
    benchmark_id: str
    n_tuples: int
    terminated: bool
    timeout: bool
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created_by: str | None = None
    created_at: datetime | None = None
    published_in: tuple[str, ...] = ()
    tuples: tuple[EpisodeTupleRecord, ...] | None = None
    raw_extra: Mapping[str, Any] = field(default_factory=dict)


@record
class PytupliArtifactRecord:
    """An artifact's metadata (``ArtifactMetadataItem``); ``hash`` is sha256(content + uploader's username)."""

    id: str
    name: str
    description: str | None = None
    benchmark_id: str | None = None
    hash: str | None = None
    encoding: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    published_in: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    raw_extra: Mapping[str, Any] = field(default_factory=dict)
