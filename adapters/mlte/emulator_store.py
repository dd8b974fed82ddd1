"""The MLTE emulator's store: models, versions, artifacts, and what MLTE 2.7 does to an artifact on write.

Mirrors ``mlte.store.artifact.underlying.memory`` (insertion-ordered dicts, model-level artifacts listed before
version-level ones, list slicing with Python semantics) and the artifact classes' round trip on write:
identifier rewriting (``evidence.<test_case_id>``, a ``<type>.`` prefix, a time suffix for reports), levels
set by type, ``evidence_class`` set from the value type, QAS ids assigned, and the cross validators (custom
lists, QAS references, results covering every test case) whose failures are 500s upstream.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ArtifactStore", "Conflict", "Missing", "ServerFault", "StoreError"]

CLASSIFICATIONS = frozenset({"CUI", "Classified", "PHI", "PII", "Unclassified"})
PROBLEM_TYPES = frozenset({"Analysis", "Classification", "Clustering", "Control", "Forecasting", "Generative Model",
                           "Object Detection", "Outlier Detection", "Translation"})
QUALITY_ATTRIBUTES = frozenset({
    "Analyzability", "Compliance", "Deployability", "Domain Adaptability", "Economic Risk Consideration",
    "Explainability", "Fairness", "Functional Correctness", "Health and Safety Risk Consideration", "Inclusivity",
    "Interpretability", "Maintainability", "Modifiability", "Monitorability", "Portability", "Privacy",
    "Reliability", "Repeatability", "Replaceability", "Reproducibility", "Resilience", "Resistance",
    "Resource Utilization", "Retrainability", "Reusability", "Robustness", "Societal and Ethical Risk Consideration",
    "Testability", "Time Behavior", "Understandability",
})
EVIDENCE_CLASSES = {kind: f"mlte.evidence.types.{kind}.{kind.capitalize()}"
                    for kind in ("integer", "real", "opaque", "image", "array", "string")}
# pint's canonical names for the units MLTE users write most (MLTE stores str(Unit(text)))
UNITS = {"ms": "millisecond", "s": "second", "sec": "second", "min": "minute", "h": "hour", "us": "microsecond",
         "B": "byte", "kB": "kilobyte", "MB": "megabyte", "GB": "gigabyte", "%": "percent",
         "W": "watt", "J": "joule", "Hz": "hertz"}
RESULT_TYPES = frozenset({"Success", "Failure", "Info"})
MODEL_LEVEL = frozenset({"card", "suite"})
_REPORT_SUFFIX = re.compile(r"-\d{8}-\d{6}$")


class StoreError(Exception):
    """An error MLTE reports as ``{"detail": "<message>"}`` with ``status``."""

    status = 500

    def __init__(self, message: str = "Internal server error.") -> None:
        super().__init__(message)
        self.message = message


class Missing(StoreError):
    """``ErrorNotFound``: the endpoint answers 404 ``"<what> not found."``."""

    status = 404


class Conflict(StoreError):
    """``ErrorAlreadyExists``: 409 ``"<what> already exists."``."""

    status = 409


class ServerFault(StoreError):
    """Any other exception inside an endpoint: 500 ``{"detail": "Internal server error."}``."""


def full_id(prefix: str, base: str | None) -> str:
    """``Artifact.build_full_id``: ``<prefix>.<base>`` unless already prefixed; ``default`` when empty."""
    base = base or "default"
    return base if base.startswith(f"{prefix}.") else f"{prefix}.{base}"


@dataclass
class ModelEntry:
    """One model: its model-level artifacts and, per version, its version-level artifacts."""

    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


class ArtifactStore:
    """MLTE's in-memory artifact store with the server's write semantics."""

    def __init__(self) -> None:
        self.models: dict[str, ModelEntry] = {}

    # ---------------------------------------------------------------------------------------- models, versions

    def _model(self, model_id: str) -> ModelEntry:
        if model_id not in self.models:
            raise Missing(f"Model {model_id}")
        return self.models[model_id]

    def create_model(self, model_id: str) -> dict[str, Any]:
        if model_id in self.models:
            raise Conflict(f"Model {model_id}")
        self.models[model_id] = ModelEntry()
        return {"identifier": model_id, "versions": []}

    def read_model(self, model_id: str) -> dict[str, Any]:
        entry = self._model(model_id)
        return {"identifier": model_id, "versions": [{"identifier": v} for v in entry.versions]}

    def delete_model(self, model_id: str) -> dict[str, Any]:
        model = self.read_model(model_id)
        del self.models[model_id]
        return model

    def create_version(self, model_id: str, version_id: str) -> dict[str, Any]:
        entry = self._model(model_id)
        if version_id in entry.versions:
            raise Conflict(f"Version {version_id}")
        entry.versions[version_id] = {}
        return {"identifier": version_id}

    def read_version(self, model_id: str, version_id: str) -> dict[str, Any]:
        if version_id not in self._model(model_id).versions:
            raise Missing(f"Version {version_id} for model {model_id}")
        return {"identifier": version_id}

    def list_versions(self, model_id: str) -> list[str]:
        return list(self._model(model_id).versions)

    def delete_version(self, model_id: str, version_id: str) -> dict[str, Any]:
        version = self.read_version(model_id, version_id)
        del self.models[model_id].versions[version_id]
        return version

    # ---------------------------------------------------------------------------------------- artifacts

    def list_artifacts(self, model_id: str, version_id: str) -> list[dict[str, Any]]:
        """Model-level artifacts, then the version's; Missing("Version v") as the memory store words it."""
        entry = self._model(model_id)
        if version_id not in entry.versions:
            raise Missing(f"Version {version_id}")
        merged = dict(entry.artifacts)
        merged.update(entry.versions[version_id])
        return list(merged.values())

    def read_artifact(self, model_id: str, version_id: str, artifact_id: str) -> dict[str, Any]:
        entry = self._model(model_id)
        if version_id not in entry.versions:
            raise Missing(f"Version: {version_id} for model {model_id}")
        found = entry.artifacts.get(artifact_id) or entry.versions[version_id].get(artifact_id)
        if found is None:
            raise Missing(f"Artifact: {artifact_id} for version {version_id} and model {model_id}")
        return found

    def delete_artifact(self, model_id: str, version_id: str, artifact_id: str) -> dict[str, Any]:
        artifact = self.read_artifact(model_id, version_id, artifact_id)
        entry = self.models[model_id]
        if artifact["header"]["level"] == "version":
            del entry.versions[version_id][artifact_id]
        else:
            del entry.artifacts[artifact_id]
        return artifact

    def search(self, model_id: str, version_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        """``search``: the first 100 listed artifacts (MLTE's default list limit) that match the filter."""
        return [a for a in self.list_artifacts(model_id, version_id)[:100] if _matches(query["filter"], a)]

    def write_artifact(self, model_id: str, version_id: str, request: dict[str, Any], *, user: str, now: int,
                       local_now: datetime) -> dict[str, Any]:
        """Store a validated write request as MLTE does and return the stored artifact."""
        artifact = _round_trip(copy.deepcopy(request["artifact"]))
        if request["parents"]:
            if model_id not in self.models:
                self.create_model(model_id)
            if version_id not in self.models[model_id].versions:
                self.create_version(model_id, version_id)
        kind = artifact["header"]["type"]
        if kind == "suite":
            self._check_qas_references(model_id, version_id, artifact["body"])
        elif kind == "report":
            base = _REPORT_SUFFIX.sub("", artifact["header"]["identifier"])
            artifact["header"]["identifier"] = f"{base}-{local_now.strftime('%Y%m%d-%H%M%S')}"
        artifact["header"]["timestamp"] = now
        artifact["header"]["creator"] = user
        if kind == "card":
            _validate_card(artifact["body"])
        identifier = artifact["header"]["identifier"]
        try:
            self.read_artifact(model_id, version_id, identifier)
        except Missing as exc:
            if "Artifact" not in exc.message:
                raise
        else:
            if not request["force"]:
                raise Conflict(f"Artifact '{identifier}' (force param prevents overwriting it)")
        entry = self.models[model_id]
        target = entry.artifacts if artifact["header"]["level"] == "model" else entry.versions[version_id]
        target[identifier] = artifact
        return artifact

    def _check_qas_references(self, model_id: str, version_id: str, body: dict[str, Any]) -> None:
        cards = [a for a in self.list_artifacts(model_id, version_id)[:100] if a["header"]["type"] == "card"]
        known = {q.get("identifier") for card in cards for q in card["body"]["system_requirements"]}
        for case in body["test_cases"]:
            if case["qas_list"] and not set(case["qas_list"]) & known:  # MLTE wants one known id per case
                raise ServerFault()  # "Quality Attribute Scenario with id ... was not found on any NegotiationCard"


def _matches(spec: dict[str, Any], artifact: dict[str, Any]) -> bool:
    kind = spec["type"]
    if kind == "all":
        return True
    if kind == "none":
        return False
    if kind == "identifier":
        return bool(artifact["header"]["identifier"] == spec["id"])
    if kind == "type":
        return bool(artifact["header"]["type"] == spec["item_type"])
    if kind == "and":
        return all(_matches(inner, artifact) for inner in spec["filters"])
    if kind == "or":
        return any(_matches(inner, artifact) for inner in spec["filters"])
    raise ServerFault()  # tag/property filters read attributes an artifact lacks: MLTE fails with a 500


def _suite_cases(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for case in cases:
        if case["identifier"] in seen:
            raise ServerFault()  # "Found repeated test case id"
        seen.add(case["identifier"])
        measurement = case.get("measurement")
        if measurement and not str(measurement.get("measurement_class", "")).startswith("mlte."):
            raise ServerFault()  # MLTE imports the measurement class; only its own are importable here
    return cases


def _round_trip(artifact: dict[str, Any]) -> dict[str, Any]:
    """``ArtifactFactory.from_model(...).to_model()``: what MLTE makes of a validated artifact."""
    header, body = artifact["header"], artifact["body"]
    kind = body["artifact_type"]
    if header["type"] != kind:
        raise ServerFault()  # from_model asserts the header type
    header["level"] = "model" if kind in MODEL_LEVEL else "version"
    if kind == "evidence":
        header["identifier"] = full_id("evidence", body["metadata"]["test_case_id"])
        body["evidence_class"] = EVIDENCE_CLASSES[body["value"]["evidence_type"]]
        if "unit" in body["value"]:
            unit = body["value"]["unit"]
            body["value"]["unit"] = UNITS.get(unit, unit) if unit else None
    elif kind == "card":
        header["identifier"] = full_id("card", header["identifier"])
        scenarios = body["system_requirements"]
        named = sorted((q["identifier"] for q in scenarios if q["identifier"] is not None), reverse=True)
        try:
            position = int(named[0][named[0].find("qas_") + 4:]) if named else 0
        except ValueError:
            raise ServerFault() from None  # an explicit QAS id MLTE cannot number after
        for scenario in scenarios:
            if scenario["identifier"] is None:
                position += 1
                scenario["identifier"] = f"{header['identifier']}-qas_{position:03d}"
    elif kind == "suite":
        header["identifier"] = full_id("suite", header["identifier"])
        _suite_cases(body["test_cases"])
    elif kind == "results":
        header["identifier"] = full_id("results", header["identifier"])
        body["test_suite_id"] = full_id("suite", body["test_suite_id"])
        cases = _suite_cases(body["test_suite"]["test_cases"])
        if any(case["identifier"] not in body["results"] for case in cases):
            raise ServerFault()  # "Test Case '...' does not have a result."
        if any(result["type"] not in RESULT_TYPES for result in body["results"].values()):
            raise ServerFault()
    else:
        header["identifier"] = full_id("report", header["identifier"])
    return artifact


def _validate_card(body: dict[str, Any]) -> None:
    """The custom-list cross validators: unknown values are RuntimeErrors, i.e. 500s."""
    if any(d["classification"] and d["classification"] not in CLASSIFICATIONS for d in body["data"]):
        raise ServerFault()
    if body["system"]["problem_type"] and body["system"]["problem_type"] not in PROBLEM_TYPES:
        raise ServerFault()
    if any(q["quality"] and q["quality"] not in QUALITY_ATTRIBUTES for q in body["system_requirements"]):
        raise ServerFault()
