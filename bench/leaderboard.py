"""Scenario "leaderboard": the 50 best runs of task 31 with flow, task and dataset names and accuracy.

Compared side by side in one run, at the same injected backend latency:
- gateway cold (record cache off: every request goes to the backend, batched by the dataloaders);
- gateway warm (record cache on, second and later requests);
- openml-python as a user writes it (one get per run, flow and task, datasets through the task).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import urllib.request
from typing import Any

from bench import _procs

QUERY = """query($task: ID!, $n: Int) {
  runs(filter: {taskIds: [$task]}, first: $n, orderBy: {measure: "predictive_accuracy", direction: DESC}) {
    edges { node { id ... on OpenMLRun {
      flow { name }
      task { name ... on OpenMLTask { dataset { name } } }
      evaluation(measure: "predictive_accuracy") { value }
    } } }
  }
}"""


def post(url: str, variables: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps({"query": QUERY, "variables": variables}).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        body = json.loads(response.read())
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body


def rows_of(body: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    out = []
    for edge in body["data"]["runs"]["edges"]:
        node = edge["node"]
        out.append((node["id"], node["flow"]["name"], node["task"]["dataset"]["name"], node["evaluation"]["value"]))
    return out


def openml_python(emulator_url: str, task_id: int, n: int) -> list[tuple[str, str, str, float]]:
    """The same data the way an openml-python user assembles it: one get per run, flow and task."""
    import openml

    openml.config.server = emulator_url
    openml.config.apikey = ""
    openml.config.set_root_cache_directory(tempfile.mkdtemp(prefix="bench-openml-"))
    evaluations = openml.evaluations.list_evaluations(
        "predictive_accuracy", tasks=[task_id], sort_order="desc", size=n, output_format="object")
    out = []
    for run_id, evaluation in evaluations.items():
        run = openml.runs.get_run(run_id)
        flow = openml.flows.get_flow(run.flow_id)
        task = openml.tasks.get_task(run.task_id, download_splits=False, download_data=False,
                                     download_qualities=False, download_features_meta_data=False)
        dataset = openml.datasets.get_dataset(task.dataset_id, download_data=False, download_qualities=False,
                                              download_features_meta_data=False)
        out.append((f"openml:run:{run_id}", flow.name, dataset.name, float(evaluation.value)))
    return out


def measure(fn: Any, repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run(latency_ms: float = 20.0, n: int = 50, repeats: int = 3, task_id: int = 31) -> dict[str, Any]:
    """Run the scenario and return its figures (seconds, backend calls, ratios)."""
    variables = {"task": f"openml:task:{task_id}", "n": n}
    with _procs.emulator(latency_ms) as emu, _procs.gateway(emu.url, cache_enabled="false") as cold, \
            _procs.gateway(emu.url) as warm:
        post(cold.url, variables)  # import and connection warm-up; the record cache is off on this one
        _procs.reset_calls(emu.url)
        cold_s, cold_body = measure(lambda: post(cold.url, variables), repeats)
        cold_calls = len(_procs.emulator_calls(emu.url)) // repeats
        post(warm.url, variables)
        _procs.reset_calls(emu.url)
        warm_s, _ = measure(lambda: post(warm.url, variables), repeats)
        warm_calls = len(_procs.emulator_calls(emu.url)) // repeats
        _procs.reset_calls(emu.url)
        python_s, python_rows = measure(lambda: openml_python(emu.url, task_id, n), 1)
        python_calls = len(_procs.emulator_calls(emu.url))
    gateway_rows = rows_of(cold_body)
    flows = {row[1] for row in gateway_rows}
    assert [(r[0], r[1].split("(")[0], r[2]) for r in gateway_rows] == [
        (r[0], r[1].split("(")[0], r[2]) for r in python_rows], "both paths must return the same leaderboard"
    return {
        "scenario": "leaderboard", "rows": n, "latency_ms": latency_ms,
        "gateway_cold_s": cold_s, "gateway_cold_calls": cold_calls,
        "gateway_warm_s": warm_s, "gateway_warm_calls": warm_calls,
        "openml_python_s": python_s, "openml_python_calls": python_calls,
        "distinct_flows": len(flows),
        "speedup_cold_vs_openml_python": python_s / cold_s, "speedup_warm_vs_cold": cold_s / warm_s,
    }
