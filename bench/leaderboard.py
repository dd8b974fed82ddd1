"""Scenario 1, "leaderboard": the newest runs of three tasks with flow, task and dataset names and accuracy.

Side by side in one run at the same injected latency: the gateway cold (record cache off) and warm, the
gateway with dataloaders switched off (one backend call per field), and openml-python as a user writes it
(a get per run, flow and task, datasets through the task).
"""

from __future__ import annotations

import tempfile
from typing import Any

from bench import _procs
from bench._client import post, timed

TASKS = (31, 56, 1029)
QUERY = """query Leaderboard($tasks: [ID!], $n: Int) {
  runs(filter: {taskIds: $tasks}, first: $n) {
    edges { node { id ... on OpenMLRun {
      flow { id name }
      task { name ... on OpenMLTask { dataset { name } } }
      evaluation(measure: "predictive_accuracy") { value }
    } } }
  }
}"""


def variables(n: int, tasks: tuple[int, ...] = TASKS) -> dict[str, Any]:
    return {"tasks": [f"openml:task:{t}" for t in tasks], "n": n}


def rows_of(body: dict[str, Any]) -> list[tuple[str, str, str, float | None]]:
    out = []
    for edge in body["data"]["runs"]["edges"]:
        node = edge["node"]
        value = node["evaluation"]["value"] if node["evaluation"] else None
        out.append((node["id"], node["flow"]["name"], node["task"]["dataset"]["name"], value))
    return out


def flow_ids_of(body: dict[str, Any]) -> set[str]:
    return {edge["node"]["flow"]["id"] for edge in body["data"]["runs"]["edges"]}


def openml_python(emulator_url: str, n: int, tasks: tuple[int, ...] = TASKS) -> list[tuple[str, str, str, Any]]:
    """The same rows the way an openml-python user assembles them."""
    import openml

    openml.config.server = emulator_url
    openml.config.apikey = ""
    openml.config.set_root_cache_directory(tempfile.mkdtemp(prefix="bench-openml-"))
    runs = openml.runs.list_runs(task=list(tasks), output_format="dataframe")
    newest = sorted(runs["run_id"].tolist(), reverse=True)[:n]
    out = []
    for run_id in newest:
        run = openml.runs.get_run(run_id)
        flow = openml.flows.get_flow(run.flow_id)
        task = openml.tasks.get_task(run.task_id, download_splits=False, download_data=False,
                                     download_qualities=False, download_features_meta_data=False)
        dataset = openml.datasets.get_dataset(task.dataset_id, download_data=False, download_qualities=False,
                                              download_features_meta_data=False)
        accuracy = (run.evaluations or {}).get("predictive_accuracy")
        out.append((f"openml:run:{run_id}", flow.name, dataset.name, accuracy))
    return out


def run(latency_ms: float = 20.0, n: int = 100, repeats: int = 3, include_openml_python: bool = True) -> dict[str, Any]:
    """Figures of the leaderboard: seconds and backend calls per path, and the ratios between them."""
    with _procs.emulator(latency_ms) as emu, _procs.gateway(emu.url, cache_enabled="false") as cold, \
            _procs.gateway(emu.url) as warm, \
            _procs.gateway(emu.url, cache_enabled="false", dataloaders="false") as unbatched:
        result: dict[str, Any] = {"scenario": "leaderboard", "rows": n, "latency_ms": latency_ms}
        for label, url in [("gateway_cold", cold.url), ("gateway_unbatched", unbatched.url)]:
            post(url, QUERY, variables(2))  # process warm-up (imports, connection pools)
            _procs.reset_calls(emu.url)
            seconds, body = timed(lambda u=url: post(u, QUERY, variables(n)), repeats)
            result[label + "_s"] = seconds
            result[label + "_calls"] = len(_procs.emulator_calls(emu.url)) // repeats
            result[label + "_rows"] = rows_of(body)
            result["distinct_flows"] = len(flow_ids_of(body))
        post(warm.url, QUERY, variables(n))
        _procs.reset_calls(emu.url)
        result["gateway_warm_s"], _ = timed(lambda: post(warm.url, QUERY, variables(n)), repeats)
        result["gateway_warm_calls"] = len(_procs.emulator_calls(emu.url)) // repeats
        if include_openml_python:
            _procs.reset_calls(emu.url)
            result["openml_python_s"], python_rows = timed(lambda: openml_python(emu.url, n), 1)
            result["openml_python_calls"] = len(_procs.emulator_calls(emu.url))
            assert [r[:3] for r in python_rows] == [r[:3] for r in result["gateway_cold_rows"]], "paths disagree"
            result["speedup_cold_vs_openml_python"] = result["openml_python_s"] / result["gateway_cold_s"]
    assert result["gateway_cold_rows"] == result["gateway_unbatched_rows"]
    result["speedup_cold_vs_unbatched"] = result["gateway_unbatched_s"] / result["gateway_cold_s"]
    result["speedup_warm_vs_cold"] = result["gateway_cold_s"] / result["gateway_warm_s"]
    del result["gateway_cold_rows"], result["gateway_unbatched_rows"]
    return result
