"""Scenario 2, "dataset page": one dataset with 100+ features, all qualities, its tasks and their best runs."""

from __future__ import annotations

from typing import Any

from bench import _procs
from bench._client import post, timed

QUERY = """query DatasetPage($id: ID!) {
  dataset(id: $id) {
    name version description tags creators
    features { index name dataType nominalValues isTarget numberOfMissingValues }
    qualities { name value }
    tasks(first: 10) { edges { node { id name ... on OpenMLTask {
      estimationProcedure { type numberFolds }
      runs(first: 5, orderBy: {measure: "predictive_accuracy"}) { edges { node { id ... on OpenMLRun {
        flow { name } evaluation(measure: "predictive_accuracy") { value } } } } }
    } } } }
  }
}"""


def pick_dataset(url: str) -> int:
    """A dataset with at least 100 features and some tasks (the emulator has several)."""
    body = post(url, "{ datasets(first: 200) { edges { node { nativeId } } } }")
    for edge in body["data"]["datasets"]["edges"]:
        did = edge["node"]["nativeId"]
        page = post(url, 'query($id: ID!) { dataset(id: $id) { features { index } tasks(first: 1) { totalCount } } }',
                    {"id": f"openml:dataset:{did}"})
        dataset = page["data"]["dataset"]
        if len(dataset["features"]) >= 100 and dataset["tasks"]["totalCount"]:
            return int(did)
    raise RuntimeError("no dataset with 100 features and tasks in the emulator")


def run(latency_ms: float = 20.0, repeats: int = 3) -> dict[str, Any]:
    with _procs.emulator(latency_ms) as emu, _procs.gateway(emu.url, cache_enabled="false") as cold, \
            _procs.gateway(emu.url) as warm:
        did = pick_dataset(warm.url)
        variables = {"id": f"openml:dataset:{did}"}
        post(cold.url, QUERY, variables)
        _procs.reset_calls(emu.url)
        cold_s, body = timed(lambda: post(cold.url, QUERY, variables), repeats)
        calls = _procs.emulator_calls(emu.url)
        post(warm.url, QUERY, variables)
        _procs.reset_calls(emu.url)
        warm_s, _ = timed(lambda: post(warm.url, QUERY, variables), repeats)
        warm_calls = len(_procs.emulator_calls(emu.url)) // repeats
    dataset = body["data"]["dataset"]
    kinds: dict[str, int] = {}
    for path in calls[: len(calls) // repeats]:
        kind = "/".join(path.split("/")[:2]) if "list" in path else path.split("/")[0] + "/{id}"
        kinds[kind] = kinds.get(kind, 0) + 1
    return {"scenario": "dataset_page", "dataset": did, "features": len(dataset["features"]),
            "qualities": len(dataset["qualities"]), "tasks": len(dataset["tasks"]["edges"]),
            "latency_ms": latency_ms, "gateway_cold_s": cold_s, "gateway_cold_calls": len(calls) // repeats,
            "calls_by_endpoint": kinds, "gateway_warm_s": warm_s, "gateway_warm_calls": warm_calls}
