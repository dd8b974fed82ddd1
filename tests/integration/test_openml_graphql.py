"""Every OpenML query of the contract over real HTTP: the gateway under uvicorn, the emulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from adapters.openml_v1.emulator import RunningEmulator
from tests.helpers import RunningGateway, running_gateway, settings_for


@pytest.fixture
async def gateway(openml_emulator: RunningEmulator) -> AsyncIterator[RunningGateway]:
    """A fresh gateway (cold cache) in front of the shared emulator; recorded calls reset."""
    openml_emulator.state.clear_faults()
    async with running_gateway(settings_for(openml_emulator.url)) as gw:
        openml_emulator.state.reset_calls()
        yield gw


README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _calls(emulator: RunningEmulator) -> list[str]:
    """API paths the emulator served since the last reset, without the /api/v1/xml/ root."""
    return [c.path.split("/api/v1/xml/", 1)[-1] for c in emulator.state.calls]


def _errors(body: dict) -> list[dict]:
    return body.get("errors") or []


async def test_dataset_by_id_is_typed(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ dataset(id: "openml:dataset:61") { id source nativeId name version format status
        uploadDate creators tags defaultTargetAttribute md5Checksum collectionDate } }""")
    assert not _errors(body)
    d = body["data"]["dataset"]
    assert d["id"] == "openml:dataset:61" and d["source"] == "OPENML" and d["nativeId"] == "61"
    assert d["name"] == "iris" and d["version"] == 1 and d["format"] == "arff" and d["status"] == "active"
    assert d["uploadDate"] == "2014-04-06T23:23:39"
    assert d["creators"] == ["R.A. Fisher"] and len(d["tags"]) == 15 and d["collectionDate"] == "1936"
    datetime.fromisoformat(d["uploadDate"])


async def test_dataset_not_found_keeps_openml_code(gateway: RunningGateway) -> None:
    body = await gateway.query('{ dataset(id: "openml:dataset:999999") { name } }')
    assert body["data"] == {"dataset": None}
    (error,) = _errors(body)
    assert error["extensions"] == {"code": "NOT_FOUND", "backend": "openml", "backendCode": "111"}
    assert error["path"] == ["dataset"]


async def test_unknown_ids_of_every_kind_are_not_found(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ t: task(id: "openml:task:99999999") { id }
        f: flow(id: "openml:flow:99999999") { id }
        r: run(id: "openml:run:99999999") { id } s: setup(id: "openml:setup:99999999") { id } }""")
    assert body["data"] == {"t": None, "f": None, "r": None, "s": None}
    codes = {e["path"][0]: e["extensions"]["code"] for e in _errors(body)}
    assert codes == {"t": "NOT_FOUND", "f": "NOT_FOUND", "r": "NOT_FOUND", "s": "NOT_FOUND"}
    flow_error = next(e for e in _errors(body) if e["path"] == ["f"])
    assert flow_error["extensions"]["backendCode"] == "181"


async def test_malformed_ids_and_first_are_bad_user_input(gateway: RunningGateway, openml_emulator) -> None:
    body = await gateway.query("""{ a: dataset(id: "61") { id } b: dataset(id: "openml:run:1") { id }
        c: runs(filter: {taskIds: ["openml:task:31"]}, first: 1000) { totalCount } }""")
    assert {e["path"][0]: e["extensions"]["code"] for e in _errors(body)} == {
        "a": "BAD_USER_INPUT", "b": "BAD_USER_INPUT", "c": "BAD_USER_INPUT"}
    assert _calls(openml_emulator) == []


async def test_features_and_qualities_only_when_selected(gateway: RunningGateway, openml_emulator) -> None:
    await gateway.query('{ dataset(id: "openml:dataset:2") { name } }')
    assert not any(p.startswith(("data/features", "data/qualities")) for p in _calls(openml_emulator))
    body = await gateway.query("""{ dataset(id: "openml:dataset:2") { features { index name dataType nominalValues
        isTarget numberOfMissingValues } qualities(names: ["ClassCount"]) { name value } } }""")
    assert not _errors(body)
    d = body["data"]["dataset"]
    assert len(d["features"]) == 39 and d["features"][0]["index"] == 0
    assert sum(f["isTarget"] for f in d["features"]) == 1
    assert d["qualities"] == [{"name": "ClassCount", "value": 6.0}]


async def test_datasets_pagination_newest_first(gateway: RunningGateway) -> None:
    query = """query($after: String) { datasets(first: 7, after: $after) { totalCount
        pageInfo { hasNextPage endCursor } edges { cursor node { nativeId name version } } } }"""
    first = (await gateway.query(query))["data"]["datasets"]
    second = (await gateway.query(query, {"after": first["pageInfo"]["endCursor"]}))["data"]["datasets"]
    ids1 = [int(e["node"]["nativeId"]) for e in first["edges"]]
    ids2 = [int(e["node"]["nativeId"]) for e in second["edges"]]
    assert len(ids1) == len(ids2) == 7 and first["pageInfo"]["hasNextPage"]
    assert ids1 == sorted(ids1, reverse=True) and max(ids2) < min(ids1)
    assert first["totalCount"] >= 400


async def test_empty_lists_are_empty_not_errors(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ datasets(filter: {tags: ["no-such-tag"]}) { totalCount edges { cursor } }
        flows(filter: {tags: ["no-such-tag"]}) { edges { cursor } pageInfo { hasNextPage endCursor } }
        runs(filter: {taskIds: []}) { totalCount edges { cursor } } }""")
    assert not _errors(body)
    assert body["data"]["datasets"] == {"totalCount": 0, "edges": []}
    assert body["data"]["flows"] == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    assert body["data"]["runs"]["edges"] == []


async def test_task_with_dataset_and_procedure(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ task(id: "openml:task:31") { id name ... on OpenMLTask { taskType taskTypeId
        targetName evaluationMeasure tags dataset { name } estimationProcedure { type numberFolds numberRepeats }
        runs(first: 3) { totalCount edges { node { id } } } } } }""")
    assert not _errors(body)
    task = body["data"]["task"]
    assert task["name"] == "Task 31: credit-g (Supervised Classification)"
    assert task["taskType"] == "Supervised Classification" and task["taskTypeId"] == 1
    assert task["dataset"]["name"] == "credit-g" and task["targetName"] == "class"
    assert task["estimationProcedure"]["type"] == "crossvalidation"
    assert task["runs"]["totalCount"] >= 200 and len(task["runs"]["edges"]) == 3


async def test_tasks_of_dataset(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ tasks(filter: {datasetIds: ["openml:dataset:31"]}) { edges { node {
        ... on OpenMLTask { dataset { nativeId } } } } } dataset(id: "openml:dataset:31") { tasks(first: 50) {
        totalCount } } }""")
    assert not _errors(body)
    edges = body["data"]["tasks"]["edges"]
    assert edges and all(e["node"]["dataset"]["nativeId"] == "31" for e in edges)


async def test_flow_components_come_from_the_tree(gateway: RunningGateway, openml_emulator) -> None:
    body = await gateway.query("""{ flow(id: "openml:flow:5270") { name version uploadDate parameters { name }
        components { identifier flow { id name version parameters { name } } } } }""")
    assert not _errors(body)
    flow = body["data"]["flow"]
    assert flow["version"] == "1" and flow["uploadDate"] == "2016-09-06T19:03:23"
    (component,) = flow["components"]
    assert component["identifier"] == "randomForest" and component["flow"]["id"] == "openml:flow:5271"
    assert component["flow"]["parameters"]
    assert _calls(openml_emulator) == ["flow/5270"]  # the subflow is in the tree: no second call


async def test_flows_list_costs_one_call(gateway: RunningGateway, openml_emulator) -> None:
    body = await gateway.query("{ flows(first: 10) { totalCount edges { node { id name version fullName } } } }")
    assert not _errors(body)
    assert len(body["data"]["flows"]["edges"]) == 10 and body["data"]["flows"]["totalCount"] >= 300
    assert [p.split("/")[0] + "/" + p.split("/")[1] for p in _calls(openml_emulator)] == ["flow/list"]


async def test_run_with_evaluations_files_setup_and_uploader(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ run(id: "openml:run:100") { id status createdAt task { id } ... on OpenMLRun {
        uploadDate flow { name } dataset { name } uploader { name } setup { id parameters { name value } }
        evaluation(measure: "predictive_accuracy") { value perFold { repeat fold value } }
        evaluations(measures: ["area_under_roc_curve"]) { measure value arrayData }
        files { id name kind url format run { id } } parameterSettings { name value } } } }""")
    assert not _errors(body), body
    run = body["data"]["run"]
    assert run["task"]["id"] == "openml:task:28" and run["flow"]["name"] == "weka.BayesNet_K2"
    accuracy = run["evaluation"]
    assert accuracy["value"] == pytest.approx(0.922242) and len(accuracy["perFold"]) == 10
    (auc,) = run["evaluations"]
    assert auc["measure"] == "area_under_roc_curve" and auc["value"] == pytest.approx(0.990288)
    assert [f["name"] for f in run["files"]] == ["description", "predictions"]
    assert run["files"][1]["id"] == "openml:runfile:100/262" and run["files"][1]["format"] == "arff"
    assert run["uploader"]["name"] and run["status"] == "completed"
    assert isinstance(run["setup"]["parameters"], list)


async def test_leaderboard_call_count_is_batched(gateway: RunningGateway, openml_emulator) -> None:
    """runs(first: 50) with task { dataset { name } }, flow { name } and evaluations: at most 5 calls plus one
    per distinct flow (flows have no batch filter), never one per run. Flow names come from the batched
    evaluation rows (which name each run's flow), so no flow/{id} call is needed at all; dataset names come
    from the task list rows (which name each task's dataset), so no data/list call either."""
    body = await gateway.query("""{ runs(filter: {taskIds: ["openml:task:31"]}, first: 50) { edges { node {
        id ... on OpenMLRun { flow { id name } task { ... on OpenMLTask { dataset { name } } }
        evaluations { measure value arrayData } } } } } }""")
    assert not _errors(body)
    edges = body["data"]["runs"]["edges"]
    assert len(edges) == 50
    flows = {e["node"]["flow"]["id"] for e in edges}
    calls = _calls(openml_emulator)
    kinds = [p if p.startswith("flow/") else "/".join(p.split("/")[:2]) for p in calls]
    assert sorted(k for k in kinds if not k.startswith("flow/")) == ["evaluation/list", "run/list", "task/list"]
    assert not [k for k in kinds if k.startswith("flow/")]
    assert len(calls) == 3 <= 5 + len(flows)
    assert not any(p.startswith("evaluation/list/function") for p in calls)  # `evaluations` wants every measure
    sample = sorted(flows)[:3]
    named = {e["node"]["flow"]["id"]: e["node"]["flow"]["name"] for e in edges}
    direct = await gateway.query("{ " + " ".join(f'f{i}: flow(id: "{f}") {{ id name }}' for i, f in enumerate(sample))
                                 + " }")
    assert {v["id"]: v["name"] for v in direct["data"].values()} == {f: named[f] for f in sample}
    per_class = [ev["arrayData"] for e in edges for ev in e["node"]["evaluations"]
                 if ev["measure"] == "area_under_roc_curve"]
    # credit-g has 2 classes: the per-class array has 2 values
    assert per_class and all(isinstance(values, list) and len(values) == 2 for values in per_class)


async def test_best_runs_ordered_by_measure(gateway: RunningGateway, openml_emulator) -> None:
    query = """query($after: String) { runs(filter: {taskIds: ["openml:task:31"]}, first: 10, after: $after,
        orderBy: {measure: "predictive_accuracy", direction: DESC}) { pageInfo { hasNextPage endCursor }
        edges { node { ... on OpenMLRun { flow { name } evaluation(measure: "predictive_accuracy") { value } } } } }
    }"""
    page1 = (await gateway.query(query))["data"]["runs"]
    page2 = (await gateway.query(query, {"after": page1["pageInfo"]["endCursor"]}))["data"]["runs"]
    values = [e["node"]["evaluation"]["value"] for e in page1["edges"] + page2["edges"]]
    assert len(values) == 20 and values == sorted(values, reverse=True)
    assert all(e["node"]["flow"]["name"] for e in page1["edges"] + page2["edges"])
    # one ordered evaluation list per page: its rows are the runs, their values and their flows' names
    calls = _calls(openml_emulator)
    assert len(calls) == 2 and all(p.startswith("evaluation/list/task/31/function/predictive_accuracy/")
                                   for p in calls)
    assert all("sort_order/desc" in p for p in calls)


async def test_runs_pagination_is_stable_and_disjoint(gateway: RunningGateway) -> None:
    query = """query($after: String) { runs(filter: {taskIds: ["openml:task:31"]}, first: 100, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { nativeId } } } }"""
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page = (await gateway.query(query, {"after": after}))["data"]["runs"]
        seen += [int(e["node"]["nativeId"]) for e in page["edges"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == page["totalCount"]
    assert pages == -(-len(seen) // 100)


async def test_node_resolves_every_kind(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ d: node(id: "openml:dataset:61") { id ... on Dataset { name } }
        t: node(id: "openml:task:31") { id } f: node(id: "openml:flow:5270") { id ... on Flow { name } }
        r: node(id: "openml:run:100") { id } s: node(id: "openml:setup:12") { id }
        a: node(id: "openml:runfile:100/262") { id ... on OpenMLRunFile { name } } }""")
    assert not _errors(body), body
    data = body["data"]
    assert data["d"]["name"] == "iris" and data["f"]["name"] == "mlr.classif.randomForest.filtered"
    assert data["t"]["id"] == "openml:task:31" and data["a"]["name"] == "predictions"


async def test_artifacts_of_runs(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ artifacts(filter: {runIds: ["openml:run:100"]}) { totalCount edges { node {
        id name kind ... on OpenMLRunFile { url run { id } } } } } }""")
    assert not _errors(body)
    nodes = [e["node"] for e in body["data"]["artifacts"]["edges"]]
    assert {n["name"] for n in nodes} == {"description", "predictions"}


async def test_runs_by_flow_and_setup(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ flow(id: "openml:flow:5270") { runs(first: 5) { edges { node { ... on OpenMLRun {
        flow { id } } } } } } runs(filter: {setupIds: ["openml:setup:12"]}) { edges { node { ... on OpenMLRun {
        setup { id } } } } } }""")
    assert not _errors(body)
    for edge in body["data"]["flow"]["runs"]["edges"]:
        assert edge["node"]["flow"]["id"] == "openml:flow:5270"
    for edge in body["data"]["runs"]["edges"]:
        assert edge["node"]["setup"]["id"] == "openml:setup:12"


async def test_caller_api_key_is_forwarded_only_when_given(gateway: RunningGateway, openml_emulator) -> None:
    await gateway.query('{ dataset(id: "openml:dataset:61") { name } }')
    assert all("api_key" not in c.query for c in openml_emulator.state.calls)
    openml_emulator.state.reset_calls()
    await gateway.query('{ dataset(id: "openml:dataset:40945") { name } }',
                        headers={"X-OpenML-Api-Key": "demo-key-alice"})
    assert openml_emulator.state.calls and all(c.query.get("api_key") == "demo-key-alice"
                                               for c in openml_emulator.state.calls)


async def test_invalid_caller_key_is_unauthenticated(gateway: RunningGateway) -> None:
    body = await gateway.query('{ dataset(id: "openml:dataset:61") { name } }', headers={"X-OpenML-Api-Key": "bogus"})
    (error,) = _errors(body)
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "backend": "openml", "backendCode": "103"}
    assert "bogus" not in str(body)


async def test_one_measure_costs_one_row_per_run_and_names_the_flows(gateway: RunningGateway, openml_emulator) -> None:
    """`evaluation(measure:)` asks `evaluation/list/function/<measure>/run/...` (a row per run, not one per
    measure); those rows also name each run's flow. The same values as the run's whole evaluation list."""
    query = """{ runs(filter: {taskIds: ["openml:task:31"]}, first: 30) { edges { node { id ... on OpenMLRun {
        flow { id name version fullName } evaluation(measure: "predictive_accuracy") { measure value } } } } } }"""
    body = await gateway.query(query)
    assert not _errors(body)
    calls = _calls(openml_emulator)
    assert ["/".join(p.split("/")[:2]) for p in calls] == ["run/list", "evaluation/list"]
    assert calls[1].startswith("evaluation/list/function/predictive_accuracy/run/")
    assert len(calls[1].split("/run/")[1].split("/")[0].split(",")) == 30
    nodes = [e["node"] for e in body["data"]["runs"]["edges"]]
    assert all(n["evaluation"]["measure"] == "predictive_accuracy" for n in nodes)
    assert all(n["flow"]["fullName"] == f'{n["flow"]["name"]}({n["flow"]["version"]})' for n in nodes)
    whole = await gateway.query(query.replace('evaluation(measure: "predictive_accuracy") { measure value }',
                                              "evaluations { measure value }"))
    by_run = {e["node"]["id"]: {ev["measure"]: ev["value"] for ev in e["node"]["evaluations"]}
              for e in whole["data"]["runs"]["edges"]}
    assert {n["id"]: n["evaluation"]["value"] for n in nodes} == {
        i: measures["predictive_accuracy"] for i, measures in by_run.items()}
    openml_emulator.state.reset_calls()
    assert await gateway.query(query) == body and _calls(openml_emulator) == []  # warm: flow names cached too


async def test_a_measure_no_run_has_is_null_and_flow_names_fall_back(gateway: RunningGateway, openml_emulator) -> None:
    """No row for the measure ("no results" from OpenML): every evaluation is null, and flow names come from
    `flow/{id}`, one call per distinct flow, with the same names the flows have."""
    body = await gateway.query("""{ runs(filter: {taskIds: ["openml:task:31"]}, first: 10) { edges { node {
        ... on OpenMLRun { flow { id name } evaluation(measure: "no_such_measure") { value } } } } } }""")
    assert not _errors(body)
    nodes = [e["node"] for e in body["data"]["runs"]["edges"]]
    assert all(n["evaluation"] is None for n in nodes)
    flows = {n["flow"]["id"] for n in nodes}
    calls = _calls(openml_emulator)
    assert sorted(p for p in calls if p.startswith("flow/")) == sorted(f"flow/{f.split(':')[2]}" for f in flows)
    assert len(calls) == 2 + len(flows)
    direct = await gateway.query("{ " + " ".join(f'f{i}: flow(id: "{f}") {{ id name }}' for i, f in enumerate(flows))
                                 + " }")
    assert {v["id"]: v["name"] for v in direct["data"].values()} == {n["flow"]["id"]: n["flow"]["name"] for n in nodes}


async def test_whole_list_and_one_measure_share_one_call(gateway: RunningGateway, openml_emulator) -> None:
    body = await gateway.query("""{ runs(filter: {taskIds: ["openml:task:31"]}, first: 20) { edges { node {
        ... on OpenMLRun { flow { name } evaluations { measure value }
        evaluation(measure: "predictive_accuracy") { value } } } } } }""")
    assert not _errors(body)
    calls = [p for p in _calls(openml_emulator) if p.startswith("evaluation/list")]
    assert len(calls) == 1 and not calls[0].startswith("evaluation/list/function")
    for edge in body["data"]["runs"]["edges"]:
        node = edge["node"]
        accuracy = next(e["value"] for e in node["evaluations"] if e["measure"] == "predictive_accuracy")
        assert node["evaluation"]["value"] == accuracy


async def test_look_ahead_follows_variables_aliases_and_skip(gateway: RunningGateway, openml_emulator) -> None:
    """The page's loads are asked before the page completes, from the selection as executed: a variable's
    measure, one call per aliased measure, nothing for a skipped field; never a call the fields would not make."""
    query = """query($m: String!, $skip: Boolean!) { runs(filter: {taskIds: ["openml:task:31"]}, first: 15) {
        edges { node { ... on OpenMLRun { a: evaluation(measure: $m) @skip(if: $skip) { value }
        b: evaluation(measure: "area_under_roc_curve") { value } } } } } }"""
    body = await gateway.query(query, {"m": "predictive_accuracy", "skip": False})
    assert not _errors(body)
    measures = sorted(p.split("/")[3] for p in _calls(openml_emulator) if p.startswith("evaluation/list"))
    assert measures == ["area_under_roc_curve", "predictive_accuracy"]
    assert all(e["node"]["a"]["value"] != e["node"]["b"]["value"] for e in body["data"]["runs"]["edges"])
    openml_emulator.state.reset_calls()
    async with running_gateway(settings_for(openml_emulator.url)) as cold:
        skipped = await cold.query(query, {"m": "f1", "skip": True})
    assert not _errors(skipped) and all("a" not in e["node"] for e in skipped["data"]["runs"]["edges"])
    measures = [p.split("/")[3] for p in _calls(openml_emulator) if p.startswith("evaluation/list")]
    assert measures == ["area_under_roc_curve"]


async def test_readme_leaderboard_costs_what_the_readme_says(gateway: RunningGateway, openml_emulator) -> None:
    """The README's first query: 2 calls per page without perFold (the ordered evaluation list and task/list),
    and one run/{id} per run for perFold (the per-fold list variant loses the repeat and fold numbers)."""
    query = README.split("```graphql\n", 1)[1].split("```", 1)[0]
    assert "perFold { repeat fold value }" in query and "first: 50" in query
    body = await gateway.query(query.replace(" perFold { repeat fold value }", ""))
    assert not _errors(body) and len(body["data"]["runs"]["edges"]) == 50
    assert sorted("/".join(p.split("/")[:2]) for p in _calls(openml_emulator)) == ["evaluation/list", "task/list"]
    openml_emulator.state.reset_calls()
    async with running_gateway(settings_for(openml_emulator.url)) as cold:
        body = await cold.query(query)
    assert not _errors(body)
    calls = _calls(openml_emulator)
    assert len([p for p in calls if p.startswith("run/")]) == 50 and len(calls) == 52
    assert all(len(e["node"]["evaluation"]["perFold"]) == 10 for e in body["data"]["runs"]["edges"])


async def test_flow_names_come_from_flow_records_the_query_loads_anyway(gateway: RunningGateway,
                                                                      openml_emulator) -> None:
    """`flow { name description }` loads each flow's record for the description: the name comes from it, not
    from an evaluation list loaded only for names."""
    body = await gateway.query("""{ runs(filter: {taskIds: ["openml:task:31"]}, first: 8) { edges { node {
        ... on OpenMLRun { flow { id name description } } } } } }""")
    assert not _errors(body)
    flows = {e["node"]["flow"]["id"] for e in body["data"]["runs"]["edges"]}
    calls = _calls(openml_emulator)
    assert sorted(p for p in calls if not p.startswith("run/list")) == sorted(
        f"flow/{f.split(':')[2]}" for f in flows)
    assert all(e["node"]["flow"]["name"] for e in body["data"]["runs"]["edges"])
