"""MLTE records: models, versions and artifacts (negotiation cards, evidence, suites, results, reports).

MLTE names things by string identifiers only: a model, a version inside it, an artifact inside a version.
Cards and suites live at the *model* level and MLTE shows them under every version of their model; an
artifact record keeps the version it was read through (``version``) and MLTE's ``level`` so the schema can
give a model-level artifact one id whatever version it was reached through. Global ids are formatted by the
schema, never here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ARTIFACT_LEVELS",
    "ARTIFACT_TYPES",
    "MLTEArtifactRecord",
    "MLTEModelRecord",
    "MLTEVersionRecord",
]

record = dataclass(frozen=True, slots=True, kw_only=True)

ARTIFACT_TYPES = ("card", "evidence", "suite", "results", "report")
"""The artifact types MLTE 2.7 knows (``header.type``); records keep unknown future types as given."""

ARTIFACT_LEVELS = ("model", "version")
"""Where MLTE stores an artifact: cards and suites at ``model`` level, everything else at ``version`` level."""


@record
class MLTEModelRecord:
    """A model (``GET /model/{id}``) with the identifiers of its versions, in server order."""

    identifier: str
    versions: tuple[str, ...] = ()
    raw_extra: Mapping[str, Any] = field(default_factory=dict)


@record
class MLTEVersionRecord:
    """A version of a model; MLTE stores nothing but its identifier."""

    model: str
    identifier: str
    raw_extra: Mapping[str, Any] = field(default_factory=dict)


@record
class MLTEArtifactRecord:
    """One artifact as MLTE stored it: the server-rewritten identifier, server-set level, creator and time.

    Attributes:
        model: the model it belongs to.
        version: the version it was listed or read under (for a model-level artifact: any version of the model
            it was reached through; use ``level`` to tell).
        identifier: MLTE's identifier after the server rewrote it (``evidence.<test_case_id>``, ``card.default``).
        type: ``card``, ``evidence``, ``suite``, ``results`` or ``report`` (lower-case, as MLTE writes it).
        level: ``model`` or ``version``.
        creator: the user who wrote it (MLTE overwrites any client-sent value), None if unknown.
        timestamp: when the server stored it, an aware UTC datetime (MLTE sends epoch seconds); None if unset.
        body: MLTE's ``body`` verbatim (JSON object), including its ``artifact_type``.
        raw_extra: unknown header or top-level fields, kept as sent.
    """

    model: str
    version: str
    identifier: str
    type: str
    level: str
    creator: str | None = None
    timestamp: datetime | None = None
    body: Mapping[str, Any] = field(default_factory=dict)
    raw_extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_model_level(self) -> bool:
        """True for artifacts MLTE stores once per model (cards, suites) and shows in every version."""
        return self.level == "model"
