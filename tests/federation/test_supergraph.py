"""The gateway as a subgraph of a real supergraph: @apollo/composition, @apollo/gateway and a second node subgraph.

The second subgraph (reviews-subgraph.mjs) adds `reviewNote` to our OpenMLRun and returns OpenMLRun
references from `reviews`, so queries cross both ways. compose.mjs composes the two `_service { sdl }`s
(no errors, no hints), supergraph.mjs serves the result with @apollo/gateway and, with --capture-traces,
asks every subgraph for ftv1 and reports per fetch what it decoded. Backend calls are counted at the
emulator: through the supergraph they must be exactly those of the same query sent to our gateway directly.
Our gateway runs with the record cache off, so both measurements start cold.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.openml_v1.emulator import RunningEmulator
from tests.federation.subprocesses import RunningProcess, npm_ci, run_node, start_node
from tests.helpers import RunningGateway, running_gateway, settings_for

HERE = Path(__file__).resolve().parent

RUNS_OF_TASK_31 = """query RunsOfTask31 {
  runs(filter: {taskIds: ["openml:task:31"]}, first: 30) {
    edges { node { id ... on OpenMLRun { flow { id name } %s } } }
  }
}"""
REVIEWS = """query Reviews($ids: [ID!]!) {
  reviews(runIds: $ids) { note run { id status flow { id name } } }
}"""
ENTITIES = """query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on OpenMLRun { id status flow { id name } } }
}"""


@dataclass
class Supergraph:
    url: str
    sdl: str
    compose_output: str
    gateway: RunningGateway
    reviews: RunningProcess

    async def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"query": document, "variables": variables or {}}
        async with self.gateway.session.post(self.url, json=payload) as response:
            body = await response.json(content_type=None)
            assert response.status == 200, (response.status, body)
            return body

    def review_requests(self) -> list[dict[str, Any]]:
        """What the reviews subgraph logged, one entry per request it served."""
        return [json.loads(line) for line in self.reviews.lines if line.startswith('{"event":"request"')]


@pytest.fixture(scope="module")
async def supergraph(openml_emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory,
                     ) -> AsyncIterator[Supergraph]:
    await npm_ci(HERE)
    out = tmp_path_factory.mktemp("supergraph") / "supergraph.graphql"
    async with (
        running_gateway(settings_for(openml_emulator.url, cache_enabled="false")) as gateway,
        start_node(HERE, "reviews-subgraph.mjs", ready_prefix="reviews: ") as reviews,
    ):
        composed = await run_node(HERE, "compose.mjs", "--out", str(out), f"openml={gateway.url}",
                                  f"reviews={reviews.ready}", within=60)
        async with start_node(HERE, "supergraph.mjs", "--supergraph", str(out), "--capture-traces",
                              ready_prefix="supergraph: ") as served:
            yield Supergraph(url=served.ready, sdl=out.read_text(), compose_output=composed, gateway=gateway,
                             reviews=reviews)


def _calls(emulator: RunningEmulator) -> Counter[str]:
    return Counter(c.path.split("/api/v1/xml/", 1)[-1] for c in emulator.state.calls)


def _fetch(body: dict[str, Any], service: str) -> dict[str, Any]:
    (found,) = [f for f in body["extensions"]["fetches"] if f["service"] == service]
    return found


def _node_at(node: dict[str, Any], *path: str | int) -> dict[str, Any]:
    for key in path:
        field = "responseName" if isinstance(key, str) else "index"
        (node,) = [c for c in node["children"] if c[field] == key]
    return node


async def test_supergraph_composes_cleanly(supergraph: Supergraph) -> None:
    assert "composition error" not in supergraph.compose_output
    assert "hint:" not in supergraph.compose_output, supergraph.compose_output
    sdl = supergraph.sdl
    assert '@link(url: "https://specs.apollo.dev/join/v0.' in sdl
    assert 'join__type(graph: OPENML, key: "id")' in sdl and 'join__type(graph: REVIEWS, key: "id")' in sdl
    run_type = sdl.split("type OpenMLRun implements Run & Node", 1)[1].split("\n}\n", 1)[0]
    assert "@join__type(graph: REVIEWS" in run_type and "reviewNote: String @join__field(graph: REVIEWS)" in run_type
    assert "_entities" not in sdl and "_service" not in sdl


async def test_supergraph_runs_of_task_31_cross_both_subgraphs(supergraph: Supergraph,
                                                               openml_emulator: RunningEmulator) -> None:
    before = len(supergraph.review_requests())
    openml_emulator.state.reset_calls()
    body = await supergraph.query(RUNS_OF_TASK_31 % "reviewNote")
    through_supergraph = _calls(openml_emulator)
    assert not body.get("errors"), body
    runs = [e["node"] for e in body["data"]["runs"]["edges"]]
    assert len(runs) == 30
    assert all(r["id"].startswith("openml:run:") and r["flow"]["name"] for r in runs)
    assert [r["reviewNote"] for r in runs] == [f"reviewed {r['id']}" for r in runs]

    openml_emulator.state.reset_calls()
    direct = await supergraph.gateway.query(RUNS_OF_TASK_31 % "")
    assert not direct.get("errors"), direct
    assert [e["node"]["flow"] for e in direct["data"]["runs"]["edges"]] == [r["flow"] for r in runs]
    assert through_supergraph == _calls(openml_emulator), "the supergraph costs what a direct query costs"
    assert through_supergraph == Counter({path: 1 for path in through_supergraph}), "no call twice"
    # the run list, and one evaluation list whose rows name every run's flow: no flow/{id} call at all
    assert not [p for p in through_supergraph if p.startswith("flow/")]
    assert sorted(p.split("/")[0] for p in through_supergraph) == ["evaluation", "run"], through_supergraph

    # the gateway asked the reviews subgraph once, for all 30 runs
    assert supergraph.review_requests()[before:] == [{"event": "request", "operationName": "RunsOfTask31__reviews__1",
                                                      "representations": 30}]


async def test_supergraph_entities_enter_our_subgraph_batched(supergraph: Supergraph,
                                                              openml_emulator: RunningEmulator) -> None:
    listing = await supergraph.gateway.query(RUNS_OF_TASK_31 % "")
    ids = [e["node"]["id"] for e in listing["data"]["runs"]["edges"]]

    openml_emulator.state.reset_calls()
    body = await supergraph.query(REVIEWS, {"ids": ids})
    through_supergraph = _calls(openml_emulator)
    assert not body.get("errors"), body
    reviews = body["data"]["reviews"]
    assert [r["run"]["id"] for r in reviews] == ids and all(r["run"]["flow"]["name"] for r in reviews)

    # one _entities call reached our subgraph, with all 30 representations
    entities = _node_at(_fetch(body, "openml")["trace"]["root"], "_entities")
    assert [c["index"] for c in entities["children"]] == list(range(30))

    openml_emulator.state.reset_calls()
    direct = await supergraph.gateway.query(ENTITIES, {"representations": [{"__typename": "OpenMLRun", "id": i}
                                                                          for i in ids]})
    assert not direct.get("errors"), direct
    assert through_supergraph == _calls(openml_emulator)
    (run_list,) = [p for p in through_supergraph if p.startswith("run/list/run/")]
    assert sorted(run_list.split("/")[3].split(",")) == sorted(i.rsplit(":", 1)[1] for i in ids)
    # one run/list/run call for the 30 representations and one evaluation list naming their flows
    assert sorted(p.split("/")[0] for p in through_supergraph) == ["evaluation", "run"], through_supergraph


async def test_supergraph_gateway_decodes_our_ftv1(supergraph: Supergraph) -> None:
    body = await supergraph.query(RUNS_OF_TASK_31 % "reviewNote")
    ours, theirs = _fetch(body, "openml"), _fetch(body, "reviews")
    assert theirs["trace"] is not None and not theirs["traceParsingFailed"], "Apollo's own subgraph, for reference"
    assert ours["traceParsingFailed"] is False and ours["trace"] is not None
    trace = ours["trace"]
    start = trace["startTime"]["seconds"] * 10**9 + trace["startTime"]["nanos"]
    end = trace["endTime"]["seconds"] * 10**9 + trace["endTime"]["nanos"]
    assert end - start == trace["durationNs"] > 0
    runs = _node_at(trace["root"], "runs")
    assert (runs["type"], runs["parentType"]) == ("RunConnection!", "Query")
    name = _node_at(runs, "edges", 0, "node", "flow", "name")
    assert (name["type"], name["parentType"]) == ("String", "Flow")
    assert 0 <= runs["startTime"] <= name["startTime"] <= name["endTime"] <= trace["durationNs"]


async def test_supergraph_ftv1_carries_our_errors(supergraph: Supergraph) -> None:
    body = await supergraph.query('{ dataset(id: "openml:dataset:999999") { name } }')
    assert body["data"] == {"dataset": None}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    dataset = _node_at(_fetch(body, "openml")["trace"]["root"], "dataset")
    (traced,) = dataset["errors"]
    assert traced["message"] == error["message"] and traced["json"]["extensions"]["code"] == "NOT_FOUND"
