"""Deterministic seed data for MLTE: one plan of API calls, replayed into the emulator and into the real server.

The plan creates a regular user (``alice``) and, as ``admin``, three documented models (``credit-risk`` on
OpenML dataset 31, ``spam-filter`` on 44, ``clinical/diabetes-risk`` on 37, whose ``/`` exercises the ``---``
path quirk) plus ``extra_models`` smaller ones, each with versions, a negotiation card whose ``data[].source``
names its OpenML dataset (``"openml:dataset:31"``; MLTE's card schema has no free-form field and drops unknown
keys), test suites (model level), evidence and test results (version level). ``credit-risk``/``v2`` lists
more than twenty artifacts, so pages of 10 and 20 are full. ``alice`` creates ``alice-sandbox`` herself.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ADMIN",
    "DOCUMENTED_MODELS",
    "REGULAR_USERS",
    "SeedCall",
    "SeedUser",
    "seed_plan",
]


@dataclass(frozen=True, slots=True)
class SeedUser:
    """A user of the seed: who logs in with what, and which MLTE role it has."""

    username: str
    password: str
    role: str


@dataclass(frozen=True, slots=True)
class SeedCall:
    """One API call of the seed, made as ``user``; ``path`` is under the API root, segments already encoded."""

    user: str
    method: str
    path: str
    json: dict[str, Any]


ADMIN = SeedUser("admin", "admin1234", "admin")
REGULAR_USERS = (SeedUser("alice", "alice-pass-1", "regular"),)
DOCUMENTED_MODELS = ("credit-risk", "spam-filter", "clinical/diabetes-risk")

_MEASUREMENT = "mlte.measurement.external_measurement.ExternalMeasurement"
_EVIDENCE = {  # test case id -> (value type, unit, goal, quality attribute of the card's QAS it serves)
    "accuracy": ("real", None, "Accuracy of at least 0.70 on the held-out split", "Functional Correctness"),
    "roc-auc": ("real", None, "ROC AUC of at least 0.75", "Functional Correctness"),
    "f1": ("real", None, "F1 of the positive class of at least 0.60", "Functional Correctness"),
    "fairness-gap": ("real", None, "Accuracy gap between age groups below 0.05", "Fairness"),
    "latency-p95": ("real", "ms", "95th percentile inference latency under 50 ms", "Time Behavior"),
    "model-size": ("integer", "MB", "Serialized model under 200 MB", "Resource Utilization"),
    "train-rows": ("integer", None, "Training rows recorded", "Reproducibility"),
    "confusion": ("array", None, "Confusion matrix recorded", "Functional Correctness"),
    "feature-importance": ("opaque", None, "Feature importances recorded", "Explainability"),
    "notes": ("string", None, "Reviewer notes recorded", "Understandability"),
}
_CASES = list(_EVIDENCE)
_STABILITY = [f"stability-{i:02d}" for i in range(1, 10)]
_EVIDENCE.update({case: ("real", None, f"Prediction stability on resample {case[-2:]} of at least 0.90",
                         "Reliability") for case in _STABILITY})


def _card(dataset: int, dataset_name: str, task: str, qualities: list[str], classification: str) -> dict[str, Any]:
    return {
        "artifact_type": "card",
        "system": {
            "goals": [{"description": f"Predict {task} reliably enough to support human review",
                       "metrics": [{"description": "ROC AUC on a held-out split", "baseline": "0.75"}]}],
            "problem_type": "Classification",
            "task": task,
            "usage_context": "Analysts triage cases before a manual decision",
            "risks": ["False negatives let risky cases through", "Disparate impact on protected groups"],
        },
        "data": [{
            "description": f"OpenML dataset {dataset_name}",
            "purpose": "Training and evaluation",
            "source": f"openml:dataset:{dataset}",
            "classification": classification,
            "access": "Public OpenML download",
            "labeling_method": "Historical outcomes",
            "labels": [{"name": "positive", "description": "The outcome of interest", "percentage": 30.0},
                       {"name": "negative", "description": "Everything else", "percentage": 70.0}],
            "fields": [{"name": "class", "description": "Target", "type": "nominal"}],
            "rights": "CC-BY 4.0",
            "policies": "No re-identification of individuals",
        }],
        "model": {
            "development_compute_resources": {"cpu": "4 cores", "main_memory": "16 GB"},
            "deployment_platform": "Kubernetes",
            "model_source": "scikit-learn HistGradientBoostingClassifier",
            "input_specification": [{"name": "record", "type": "tabular", "description": f"{dataset_name} features"}],
            "output_specification": [{"name": "score", "type": "probability", "expected_values": "0..1"}],
        },
        "system_requirements": [
            {"quality": q, "stimulus": "A scoring request", "source": "The review service",
             "environment": "Normal operation", "response": "The model answers",
             "measure": f"{q} stays within the agreed bound"} for q in qualities
        ],
    }


def _value(kind: str, unit: str | None, rng: random.Random) -> dict[str, Any]:
    if kind == "real":
        real = round(rng.uniform(12.0, 48.0), 2) if unit == "ms" else round(rng.uniform(0.62, 0.93), 4)
        return {"evidence_type": "real", "real": real, "unit": unit}
    if kind == "integer":
        return {"evidence_type": "integer", "integer": rng.randint(40, 180) if unit else rng.randint(500, 900),
                "unit": unit}
    if kind == "array":
        return {"evidence_type": "array", "data": [[rng.randint(80, 140), rng.randint(5, 40)],
                                                   [rng.randint(5, 40), rng.randint(30, 90)]]}
    if kind == "opaque":
        return {"evidence_type": "opaque",
                "data": {"checking_status": round(rng.uniform(0.1, 0.3), 3), "duration": round(rng.uniform(0, 0.2), 3)}}
    return {"evidence_type": "string", "string": f"Reviewed; {rng.choice(['no blockers', 'minor drift', 'ok'])}"}


def _evidence(case: str, rng: random.Random) -> dict[str, Any]:
    kind, unit, _, _ = _EVIDENCE[case]
    output = f"mlte.evidence.types.{kind}.{kind.capitalize()}"
    return {"header": {"identifier": f"evidence.{case}", "type": "evidence"},
            "body": {"artifact_type": "evidence",
                     "metadata": {"test_case_id": case, "measurement": {"measurement_class": _MEASUREMENT,
                                                                        "output_class": output}},
                     "evidence_class": output, "value": _value(kind, unit, rng)}}


def _suite(cases: list[str], qualities: list[str]) -> dict[str, Any]:
    test_cases = []
    for case in cases:
        quality = _EVIDENCE[case][3]
        qas = [f"card.default-qas_{qualities.index(quality) + 1:03d}"] if quality in qualities else []
        test_cases.append({"identifier": case, "goal": _EVIDENCE[case][2], "qas_list": qas,
                           "note": "Measured externally and recorded as evidence"})
    return {"artifact_type": "suite", "test_cases": test_cases}


def _results(suite_id: str, suite: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    results = {}
    for case in suite["test_cases"]:
        ok = rng.random() < 0.8
        kind = _EVIDENCE[case["identifier"]][0]
        results[case["identifier"]] = {
            "type": "Success" if ok else "Failure",
            "message": f"{case['goal']}: {'met' if ok else 'not met'}", "additional_data": "",
            "evidence_metadata": {"test_case_id": case["identifier"], "measurement": {
                "measurement_class": _MEASUREMENT, "output_class": f"mlte.evidence.types.{kind}.{kind.capitalize()}"}},
        }
    return {"artifact_type": "results", "test_suite_id": suite_id, "test_suite": suite, "results": results}


def _write(user: str, model: str, version: str, artifact: dict[str, Any]) -> SeedCall:
    path = f"model/{model.replace('/', '---')}/version/{version.replace('/', '---')}/artifact"
    return SeedCall(user, "POST", path, {"artifact": artifact, "force": False, "parents": False})


_EXTRA = (  # (model, OpenML dataset id, dataset name as the OpenML emulator has it, task)
    ("adult-income", 5, "adult", "income above 50K"), ("blood-donation", 7, "blood-transfusion-service-center",
                                                        "a repeat donation"),
    ("defect-pc4", 22, "pc4", "defective modules"), ("bioresponse", 23, "Bioresponse", "a biological response"),
    ("phishing-detector", 25, "PhishingWebsites", "phishing sites"), ("thyroid-sick", 39, "sick", "thyroid disease"),
    ("breast-cancer", 41, "wdbc", "malignant tumours"), ("nomao-dedup", 42, "nomao", "duplicate places"),
    ("haberman-survival", 53, "haberman", "five-year survival"), ("contraceptive-choice", 55, "cmc",
                                                                   "the contraceptive method"),
    ("defect-jm1", 58, "jm1", "defective modules"), ("ozone-alert", 60, "ozone-level-8hr", "ozone alert days"),
    ("steel-faults", 62, "steel-plates-fault", "plate faults"), ("chess-endgame", 3, "kr-vs-kp", "a won endgame"),
    ("anneal-quality", 1, "anneal", "the steel class"), ("liver-ilpd", 6, "ilpd", "liver patients"),
    ("yeast-localization", 17, "yeast", "the protein localization site"),
    ("lymph-diagnosis", 33, "lymph", "the lymphography diagnosis"), ("vote-party", 34, "vote", "the party"),
    ("liver-disorders", 30, "liver-disorders", "alcohol consumption"), ("ecoli-sites", 35, "ecoli",
                                                                        "the localization site"),
)


def _model_calls(model: str, dataset: int, dataset_name: str, task: str, versions: dict[str, list[str]],
                 suites: dict[str, list[str]], with_results: set[str], classification: str) -> Iterator[SeedCall]:
    qualities = ["Functional Correctness", "Fairness", "Time Behavior"]
    yield SeedCall("admin", "POST", "model", {"identifier": model})
    for version in versions:
        yield SeedCall("admin", "POST", f"model/{model.replace('/', '---')}/version", {"identifier": version})
    first = next(iter(versions))
    card = {"header": {"identifier": "card.default", "type": "card"},
            "body": _card(dataset, dataset_name, task, qualities, classification)}
    yield _write("admin", model, first, card)
    for version, cases in versions.items():
        rng = random.Random(f"{model}/{version}")
        suite_cases = suites.get(version)
        if suite_cases:
            suite_id = "suite.default" if len(suites) == 1 else f"suite.{version}-acceptance"
            suite = _suite(suite_cases, qualities)
            yield _write("admin", model, version, {"header": {"identifier": suite_id, "type": "suite"}, "body": suite})
        for case in cases:
            yield _write("admin", model, version, _evidence(case, rng))
        if version in with_results and suite_cases:
            yield _write("admin", model, version, {"header": {"identifier": "results.default", "type": "results"},
                                                   "body": _results(suite_id, suite, rng)})


def seed_plan(extra_models: int = len(_EXTRA)) -> list[SeedCall]:
    """Return the seed as API calls, in order (same arguments -> the same calls, byte for byte)."""
    calls = [SeedCall("admin", "POST", "user", {"username": u.username, "password": u.password, "role": u.role,
                                                 "groups": []}) for u in REGULAR_USERS]
    many = [c for c in _CASES if c != "notes"] + _STABILITY
    calls += _model_calls(
        "credit-risk", 31, "credit-g", "credit risk (good or bad)",
        {"v1": _CASES[:5], "v2": many, "v3": ["accuracy", "roc-auc", "notes"]},
        {"v1": ["accuracy", "roc-auc", "fairness-gap"], "v2": ["accuracy", "fairness-gap", "latency-p95"],
         "v3": ["accuracy", "roc-auc"]}, {"v1", "v2"}, "PII")
    calls += _model_calls(
        "spam-filter", 44, "spambase", "spam e-mail",
        {"2024.1": ["accuracy", "f1", "latency-p95"], "2024.2": ["accuracy", "f1", "latency-p95", "model-size"]},
        {"2024.1": ["accuracy", "f1", "latency-p95"]}, {"2024.1"}, "Unclassified")
    calls += _model_calls(
        "clinical/diabetes-risk", 37, "diabetes", "onset of diabetes",
        {"v1": ["accuracy", "fairness-gap"], "v1.1": ["accuracy", "fairness-gap", "confusion"]},
        {"v1": ["accuracy", "fairness-gap"]}, set(), "PHI")
    for model, dataset, name, task in _EXTRA[:extra_models]:
        calls += _model_calls(model, dataset, name, task, {"v1": ["accuracy", "roc-auc"]},
                              {"v1": ["accuracy", "roc-auc"]}, {"v1"}, "Unclassified")
    calls.append(SeedCall("alice", "POST", "model", {"identifier": "alice-sandbox"}))
    calls.append(SeedCall("alice", "POST", "model/alice-sandbox/version", {"identifier": "draft"}))
    calls.append(_write("alice", "alice-sandbox", "draft", _evidence("accuracy", random.Random("alice"))))
    return calls
