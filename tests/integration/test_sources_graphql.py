"""MLTE, vantage6 and pytupli in the one schema, over HTTP against their emulators on 127.0.0.1.

Cross-source connections are ordered as design.md pins them (createdAt descending, unknown last, then source,
then native id descending) with opaque keyset cursors; a source that is down costs only its rows, plus one error
naming it. Backend calls are counted at the emulators.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.mlte import emulator as mlte
from adapters.openml_v1 import emulator as openml
from adapters.openml_v2 import emulator as openml_v2
from adapters.pytupli import emulator as pytupli
from adapters.pytupli.emulator_data import DEFAULT_ADMIN_PASSWORD
from adapters.vantage6 import emulator as vantage6
from tests.helpers import RunningGateway, free_port, running_gateway, settings_for


class Emulators:
    def __init__(self, **running: Any) -> None:
        self.__dict__.update(running)

    def settings(self, **overrides: str) -> Any:
        values = {
            "mlte_url": self.mlte.url, "mlte_username": "admin", "mlte_password": mlte.EmulatorConfig().admin_password,
            "pytupli_url": self.pytupli.url, "pytupli_username": "admin", "pytupli_password": DEFAULT_ADMIN_PASSWORD,
            "vantage6_url": self.vantage6.url, "vantage6_username": "root", "vantage6_password": "root",
        }
        values.update(overrides)
        return settings_for(self.openml.url, **values)

    def reset(self) -> None:
        for emulator in (self.openml, self.mlte, self.pytupli, self.vantage6):
            emulator.state.reset_calls()


@pytest.fixture(scope="module")
async def emulators() -> AsyncIterator[Emulators]:
    running = {
        "openml": await openml.start_emulator(openml.EmulatorConfig()),
        "mlte": await mlte.start_emulator(mlte.EmulatorConfig()),
        "pytupli": await pytupli.start_emulator(pytupli.EmulatorConfig()),
        "vantage6": await vantage6.start_emulator(vantage6.EmulatorConfig()),
    }
    try:
        yield Emulators(**running)
    finally:
        for emulator in running.values():
            await emulator.close()


@pytest.fixture
async def gateway(emulators: Emulators) -> AsyncIterator[RunningGateway]:
    async with running_gateway(emulators.settings()) as gw:
        emulators.reset()
        yield gw


def _ok(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body.get("errors")
    return body["data"]


def _order_key(node: dict[str, Any]) -> tuple[Any, ...]:
    created = node["createdAt"]
    stamp = None
    if created is not None:
        moment = datetime.fromisoformat(created)
        stamp = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    native = node["id"].split(":", 2)[2]
    return (stamp is None, -(stamp or 0.0), node["source"].lower(),
            (0, -int(native)) if native.isdigit() else (1, tuple(-ord(c) for c in native)))


async def test_sources_node_resolves_every_json_kind(gateway: RunningGateway) -> None:
    ids = {
        "model": "mlte:model:credit-risk", "version": "mlte:version:credit-risk/v1",
        "card": "mlte:artifact:credit-risk/card.default", "slash": "mlte:model:clinical%2Fdiabetes-risk",
        "collab": "vantage6:collaboration:1", "org": "vantage6:organization:2", "task": "vantage6:task:1",
    }
    query = "{ " + " ".join(f'{k}: node(id: "{v}") {{ id }}' for k, v in ids.items()) + " }"
    data = _ok(await gateway.query(query))
    assert {k: (v or {}).get("id") for k, v in data.items()} == ids
    detail = _ok(await gateway.query('''{ model(id: "mlte:model:clinical%2Fdiabetes-risk") { name nativeId
        versions { id name model { id } } } }'''))["model"]
    assert detail["name"] == "clinical/diabetes-risk" and detail["versions"]
    assert detail["versions"][0]["id"].startswith("mlte:version:clinical%2Fdiabetes-risk/")


async def test_sources_mlte_card_refers_to_an_openml_dataset(gateway: RunningGateway) -> None:
    data = _ok(await gateway.query('''{ artifact(id: "mlte:artifact:credit-risk/card.default") { id name kind
        createdAt ... on MLTEArtifact { level creator body model { name } version { id } } } }'''))["artifact"]
    assert data["kind"] == "card" and data["level"] == "model" and data["version"] is None
    sources = [d.get("source") for d in data["body"]["data"]]
    assert "openml:dataset:31" in sources
    dataset = _ok(await gateway.query(f'{{ node(id: "{sources[0]}") {{ ... on Dataset {{ name }} }} }}'))
    assert dataset["node"]["name"] == "credit-g"


async def test_sources_model_versions_with_artifacts_call_count(gateway: RunningGateway, emulators: Emulators) -> None:
    body = await gateway.query('''{ model(id: "mlte:model:credit-risk") { versions { name artifacts(first: 10) {
        pageInfo { hasNextPage endCursor } edges { node { id name kind ... on MLTEArtifact { level } } } } } } }''')
    versions = _ok(body)["model"]["versions"]
    assert len(versions) >= 2 and all(v["artifacts"]["edges"] for v in versions)
    card_ids = {e["node"]["id"] for v in versions for e in v["artifacts"]["edges"] if e["node"]["level"] == "model"}
    assert card_ids and all(i.count("/") == 1 for i in card_ids)  # one id whatever version it is reached through
    model_calls = [c.path for c in emulators.mlte.state.calls if "/model" in c.path]
    # one model read, then per version: its existence check (read once for all) and one artifact page
    artifact_pages = [p for p in model_calls if p.endswith("/artifact")]
    assert len(artifact_pages) == len(versions)
    assert len(model_calls) <= 1 + 2 * len(versions)


async def test_sources_mlte_artifact_pages_follow_cursors(gateway: RunningGateway) -> None:
    query = '''query($after: String) { node(id: "mlte:version:credit-risk/v2") { ... on ModelVersion {
        artifacts(first: 10, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } } } }'''
    first = _ok(await gateway.query(query))["node"]["artifacts"]
    assert first["pageInfo"]["hasNextPage"] and len(first["edges"]) == 10
    second = _ok(await gateway.query(query, {"after": first["pageInfo"]["endCursor"]}))["node"]["artifacts"]
    seen = {e["node"]["id"] for e in first["edges"]}
    assert second["edges"] and not {e["node"]["id"] for e in second["edges"]} & seen
    other = await gateway.query('''query($after: String) { node(id: "mlte:version:credit-risk/v1") {
        ... on ModelVersion { artifacts(after: $after) { edges { cursor } } } } }''',
                                {"after": first["pageInfo"]["endCursor"]})
    assert other["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # a cursor belongs to its own list


async def test_sources_vantage6_tasks_runs_results_calls_do_not_grow(gateway: RunningGateway,
                                                                     emulators: Emulators) -> None:
    query = '''query($n: Int) { tasks(filter: {sources: [VANTAGE6]}, first: $n) { edges { node { id name
        ... on Vantage6Task { status collaboration { name } } runs(first: 10) { edges { node { id status
        ... on Vantage6Run { organization { name } result resultRaw } } } } } } } }'''
    counts = {}
    for n in (5, 20):
        async with running_gateway(emulators.settings()) as gw:
            emulators.reset()
            data = _ok(await gw.query(query, {"n": n}))
            counts[n] = len([c for c in emulators.vantage6.state.calls if not c.path.endswith("/token/user")])
        tasks = data["tasks"]["edges"]
        assert len(tasks) == n
    runs = [r["node"] for t in tasks for r in t["node"]["runs"]["edges"]]
    assert len(runs) > 20
    finished = [r for r in runs if r["status"] == "completed"]
    assert finished and all(r["resultRaw"] for r in finished)
    assert any(r["result"] is not None for r in finished)
    assert counts[20] <= counts[5] + 1, counts  # runs and results of 20 tasks cost what 5 cost, not one per run


async def test_sources_runs_merge_in_the_pinned_order_across_pages(gateway: RunningGateway) -> None:
    query = '''query($after: String, $n: Int) { runs(filter: {sources: [VANTAGE6, OPENML],
        taskIds: ["openml:task:31", "vantage6:task:1", "vantage6:task:2", "vantage6:task:3"]}, first: $n,
        after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id source createdAt } } } }'''
    whole = _ok(await gateway.query(query, {"n": 60}))["runs"]
    nodes = [e["node"] for e in whole["edges"]]
    assert {n["source"] for n in nodes} == {"OPENML", "VANTAGE6"}
    assert nodes == sorted(nodes, key=_order_key)
    pages: list[dict[str, Any]] = []
    after = None
    while len(pages) < 60:
        page = _ok(await gateway.query(query, {"n": 25, "after": after}))["runs"]
        pages += [e["node"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert pages[:60] == nodes


async def test_sources_tasks_undated_sources_come_last(gateway: RunningGateway) -> None:
    data = _ok(await gateway.query('''{ tasks(filter: {sources: [OPENML, VANTAGE6]}, first: 45) { edges { node {
        id source createdAt } } } }'''))
    nodes = [e["node"] for e in data["tasks"]["edges"]]
    assert nodes == sorted(nodes, key=_order_key)
    sources = [n["source"] for n in nodes]
    assert sources.index("OPENML") > max(i for i, s in enumerate(sources) if s == "VANTAGE6")


async def test_sources_one_source_down_lists_the_others(emulators: Emulators) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api"
    async with running_gateway(emulators.settings(vantage6_url=dead, vantage6_retries="0")) as gw:
        body = await gw.query('''{ runs(filter: {sources: [OPENML, VANTAGE6], taskIds: ["openml:task:31",
            "vantage6:task:1"]}, first: 10) { totalCount edges { node { id source } } } }''')
    assert body["data"]["runs"]["edges"] and {e["node"]["source"] for e in body["data"]["runs"]["edges"]} == {"OPENML"}
    (error,) = body["errors"]
    assert error["extensions"]["backend"] == "vantage6" and error["extensions"]["code"] == "BACKEND_UNAVAILABLE"
    assert error["path"] == ["runs"] and dead not in str(body)


async def test_sources_pytupli_benchmarks_episodes_artifacts(gateway: RunningGateway) -> None:
    data = _ok(await gateway.query('''{ benchmarks(first: 5) { totalCount edges { node { id name createdAt
        publishedIn episodes(first: 3) { edges { node { id nTuples terminated benchmark { id } } } }
        artifacts(first: 3) { edges { node { id name ... on PytupliArtifact { hash benchmark { id } } } } } } } }
        artifacts(filter: {sources: [PYTUPLI]}, first: 5) { totalCount edges { node { id source name kind } } } }'''))
    benchmarks = [e["node"] for e in data["benchmarks"]["edges"]]
    assert len(benchmarks) == 5 and benchmarks == sorted(benchmarks, key=lambda b: b["createdAt"], reverse=True)
    for benchmark in benchmarks:
        for episode in benchmark["episodes"]["edges"]:
            assert episode["node"]["benchmark"]["id"] == benchmark["id"]
    assert data["artifacts"]["totalCount"] > 5 and {e["node"]["source"] for e in data["artifacts"]["edges"]} == {
        "PYTUPLI"}


async def test_sources_unconfigured_backend_is_unavailable_not_a_crash(emulators: Emulators) -> None:
    async with running_gateway(settings_for(emulators.openml.url)) as gw:
        body = await gw.query('{ model(id: "mlte:model:credit-risk") { name } benchmarks { totalCount } }')
    codes = {(tuple(e["path"]), e["extensions"]["code"], e["extensions"]["backend"]) for e in body["errors"]}
    assert codes == {(("model",), "BACKEND_UNAVAILABLE", "mlte"), (("benchmarks",), "BACKEND_UNAVAILABLE", "pytupli")}


async def test_sources_openml_v2_serves_the_selected_resources(emulators: Emulators) -> None:
    v2 = await openml_v2.start_emulator(openml.EmulatorConfig())
    query = '{ dataset(id: "openml:dataset:31") { name version format tags } task(id: "openml:task:31") { name } }'
    try:
        async with running_gateway(emulators.settings()) as gw:
            through_v1 = _ok(await gw.query(query))
        settings = emulators.settings(openml_v2_url=v2.url, openml_v2_resources="datasets,tasks")
        async with running_gateway(settings) as gw:
            emulators.reset()
            v2.state.reset_calls()
            through_v2 = _ok(await gw.query(query))
            v1_calls = list(emulators.openml.state.calls)
    finally:
        await v2.close()
    assert through_v2 == through_v1
    assert v2.state.calls and v1_calls == []
