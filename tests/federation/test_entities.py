"""Federation v2 subgraph contract over HTTP: a complete `_service { sdl }`, and `_entities` batched per entity kind.

One `_entities` call with N representations must cost one batched backend call per entity kind (OpenML's
id-list filters), duplicates included; flows, which OpenML cannot list by id, cost one get per distinct flow.
Calls are counted at the OpenML emulator.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import build_ast_schema, parse
from graphql.language import (
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    UnionTypeDefinitionNode,
)

from adapters.openml_v1.emulator import RunningEmulator
from tests.helpers import RunningGateway, running_gateway, settings_for

FEDERATION_LINK = '@link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])'
# What a federation-aware tool adds before it builds a subgraph's SDL (the @link'ed definitions).
FEDERATION_DEFINITIONS = """
directive @link(url: String!, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
scalar link__Import
scalar FieldSet
enum link__Purpose { SECURITY EXECUTION }
"""
# Types that come with the @link'ed federation spec, not with the subgraph (Strawberry names FieldSet `_FieldSet`).
LINKED = {"link__Import", "link__Purpose", "FieldSet", "_FieldSet"}
ENTITIES = 'query Entities($representations: [_Any!]!) { _entities(representations: $representations) { %s } }'


@pytest.fixture
async def gateway(openml_emulator: RunningEmulator) -> AsyncIterator[RunningGateway]:
    """A fresh gateway (cold cache) in front of the shared emulator; recorded calls reset."""
    openml_emulator.state.clear_faults()
    async with running_gateway(settings_for(openml_emulator.url)) as gw:
        openml_emulator.state.reset_calls()
        yield gw


def _calls(emulator: RunningEmulator) -> list[str]:
    """API paths the emulator served since the last reset, without the /api/v1/xml/ root."""
    return [c.path.split("/api/v1/xml/", 1)[-1] for c in emulator.state.calls]


def _endpoint(path: str) -> str:
    """`run/list/run/1,2/show_errors/true` -> `run/list/run`; `flow/7` -> `flow/{id}`."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "list":
        return "/".join(parts[:3])
    return f"{parts[0]}/{{id}}" if len(parts) == 2 and parts[1].isdigit() else path


def _batched_ids(path: str) -> list[int]:
    """The ids of a batched list call (`data/list/data_id/1,2,3/...` -> [1, 2, 3])."""
    return [int(i) for i in path.split("/")[3].split(",")]


def _native(global_id: str) -> int:
    return int(global_id.rsplit(":", 1)[1])


def _errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body.get("errors") or []


@dataclass(frozen=True)
class Sample:
    """Ids of real emulator entities, by kind, found through the gateway's own lists."""

    runs: list[str]
    datasets: list[str]
    tasks: list[str]
    flows: list[str]
    setups: list[str]
    users: list[str]
    run_files: list[str]


SAMPLE_QUERY = """{
  runs(filter: {taskIds: ["openml:task:31"]}, first: 30) { edges { node { id
    ... on OpenMLRun { flow { id } setup { id } uploader { id } } } } }
  datasets(first: 10) { edges { node { id } } }
  tasks(first: 10) { edges { node { id } } }
  run(id: "openml:run:100") { ... on OpenMLRun { files { id } } }
}"""


@pytest.fixture(scope="module")
async def sample(openml_emulator: RunningEmulator) -> Sample:
    """Found through a gateway of its own, so that the gateway under test starts with a cold cache."""
    async with running_gateway(settings_for(openml_emulator.url)) as gateway:
        body = await gateway.query(SAMPLE_QUERY)
    assert not _errors(body), body
    runs = [e["node"] for e in body["data"]["runs"]["edges"]]
    sample = Sample(
        runs=[r["id"] for r in runs],
        datasets=[e["node"]["id"] for e in body["data"]["datasets"]["edges"]],
        tasks=[e["node"]["id"] for e in body["data"]["tasks"]["edges"]],
        flows=sorted({r["flow"]["id"] for r in runs}),
        setups=sorted({r["setup"]["id"] for r in runs}),
        users=sorted({r["uploader"]["id"] for r in runs}),
        run_files=[f["id"] for f in body["data"]["run"]["files"]],
    )
    assert len(sample.runs) == 30 and len(sample.datasets) == 10 and len(sample.tasks) == 10
    assert len(sample.flows) > 1 and len(sample.setups) > 1 and sample.users and sample.run_files
    return sample


async def test_service_sdl_links_federation_v2_and_keys_every_entity(gateway: RunningGateway) -> None:
    body = await gateway.query('{ _service { sdl } entity: __type(name: "_Entity") { possibleTypes { name } } }')
    assert not _errors(body), body
    sdl = body["data"]["_service"]["sdl"]
    document = parse(sdl)
    (schema_def,) = [d for d in document.definitions if isinstance(d, SchemaDefinitionNode | SchemaExtensionNode)]
    assert sdl.startswith(f"schema {FEDERATION_LINK}"), sdl[:200]
    assert [d.name.value for d in schema_def.directives] == ["link"]

    keyed: dict[str, list[list[str]]] = {}
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode):
            keys = [[a.value.value for a in k.arguments or ()]  # type: ignore[attr-defined]
                    for k in definition.directives or () if k.name.value == "key"]
            if keys:
                keyed[definition.name.value] = keys
    entities = {t["name"] for t in body["data"]["entity"]["possibleTypes"]}
    assert set(keyed) == entities, "every entity, and only entities, carries @key"
    assert all(keys == [["id"]] for keys in keyed.values()), keyed
    assert {"Dataset", "OpenMLTask", "Flow", "OpenMLRun", "OpenMLRunFile", "Setup", "OpenMLUser"} <= entities
    (union,) = [d for d in document.definitions if isinstance(d, UnionTypeDefinitionNode)]
    assert union.name.value == "_Entity" and {t.name.value for t in union.types or ()} == entities


async def test_service_sdl_is_the_whole_public_schema(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ _service { sdl } __schema { types { name fields { name } } }
        query: __type(name: "Query") { fields { name } } }""")
    assert not _errors(body), body
    sdl = body["data"]["_service"]["sdl"]
    built = build_ast_schema(parse(FEDERATION_DEFINITIONS + sdl))  # valid and self-contained
    served = {t["name"]: t for t in body["data"]["__schema"]["types"]
              if not t["name"].startswith("__") and t["name"] not in LINKED}
    in_sdl = {name for name in built.type_map if not name.startswith("__") and name not in LINKED}
    assert in_sdl == set(served), (in_sdl ^ set(served))
    for name, served_type in served.items():
        if served_type["fields"] is not None:
            fields = built.type_map[name].fields  # type: ignore[attr-defined]
            assert set(fields) == {f["name"] for f in served_type["fields"]}, name
    assert {"_entities", "_service"} <= set(built.query_type.fields)  # type: ignore[union-attr]
    query_fields = {f["name"] for f in body["data"]["query"]["fields"]}
    assert {"node", "dataset", "datasets", "task", "tasks", "flow", "flows", "run", "runs"} <= query_fields


@dataclass(frozen=True)
class EntityCase:
    typename: str
    selection: str
    ids: str  # the Sample attribute that holds the ids
    endpoint: str  # the only endpoint the call may hit
    batched: bool  # one list call for all ids (else one get per distinct id)


CASES = [
    EntityCase("OpenMLRun", "id status createdAt task { id } flow { id } setup { id }", "runs", "run/list/run", True),
    EntityCase("Dataset", "id name version format status", "datasets", "data/list/data_id", True),
    EntityCase("OpenMLTask", "id name", "tasks", "task/list/task_id", True),
    EntityCase("Setup", "id flow { id }", "setups", "setup/list/setup", True),
    EntityCase("OpenMLUser", "id name", "users", "user/list/user_id", True),
    EntityCase("Flow", "id name flowVersion: version", "flows", "flow/{id}", False),  # OpenML has no flow id filter
    EntityCase("OpenMLRunFile", "id name url format", "run_files", "run/{id}", False),  # files come with the run
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.typename)
async def test_entities_one_backend_call_per_kind(case: EntityCase, gateway: RunningGateway, sample: Sample,
                                                  openml_emulator: RunningEmulator) -> None:
    ids: list[str] = getattr(sample, case.ids)
    representations = [{"__typename": case.typename, "id": i} for i in ids + ids[::-1]]  # duplicates on purpose
    body = await gateway.query(ENTITIES % f"__typename ... on {case.typename} {{ {case.selection} }}",
                               {"representations": representations})
    assert not _errors(body), body
    entities = body["data"]["_entities"]
    assert [e["id"] for e in entities] == [r["id"] for r in representations]
    assert {e["__typename"] for e in entities} == {case.typename}

    calls = _calls(openml_emulator)
    assert {_endpoint(c) for c in calls} == {case.endpoint}, calls
    if case.batched:
        (call,) = calls
        assert sorted(_batched_ids(call)) == sorted({_native(i) for i in ids})
    else:
        distinct = {_native(i.split("/")[0]) if "/" in i else _native(i) for i in ids}
        assert len(calls) == len(set(calls)) == len(distinct), calls


async def test_entities_of_every_kind_in_one_call(gateway: RunningGateway, sample: Sample,
                                                  openml_emulator: RunningEmulator) -> None:
    representations = [{"__typename": c.typename, "id": i} for c in CASES for i in getattr(sample, c.ids)]
    selection = " ".join(f"... on {c.typename} {{ {c.selection} }}" for c in CASES)
    body = await gateway.query(ENTITIES % f"__typename {selection}", {"representations": representations})
    assert not _errors(body), body
    assert [e["id"] for e in body["data"]["_entities"]] == [r["id"] for r in representations]
    counts = Counter(_endpoint(c) for c in _calls(openml_emulator))
    assert counts == {"run/list/run": 1, "data/list/data_id": 1, "task/list/task_id": 1, "setup/list/setup": 1,
                      "user/list/user_id": 1, "flow/{id}": len(sample.flows),
                      "run/{id}": len({f.split(":")[2].split("/")[0] for f in sample.run_files})}, counts


async def test_entities_nested_fields_cost_one_call_per_kind_per_level(
    gateway: RunningGateway, sample: Sample, openml_emulator: RunningEmulator,
) -> None:
    representations = [{"__typename": "OpenMLRun", "id": i} for i in sample.runs]
    body = await gateway.query(ENTITIES % """... on OpenMLRun { id flow { name } task { name }
        dataset { name } evaluation(measure: "predictive_accuracy") { value } }""",
                               {"representations": representations})
    assert not _errors(body), body
    rows = body["data"]["_entities"]
    assert len(rows) == 30 and all(r["flow"]["name"] and r["dataset"]["name"] for r in rows)
    counts = Counter(_endpoint(c) for c in _calls(openml_emulator))
    # level 1: the runs and their predictive accuracy (one row per run, which also names the run's flow);
    # level 2: tasks (name, dataset id and dataset name). Flows reached through runs cost no flow/{id} call,
    # datasets reached through tasks no data/list call.
    assert counts == {"run/list/run": 1, "evaluation/list/function": 1, "task/list/task_id": 1}, counts


async def test_entities_bad_and_unknown_ids_fail_alone(gateway: RunningGateway, sample: Sample,
                                                      openml_emulator: RunningEmulator) -> None:
    representations = [
        {"__typename": "Dataset", "id": sample.datasets[0]},
        {"__typename": "Dataset", "id": "openml:dataset:abc"},
        {"__typename": "OpenMLRun", "id": "openml:run:99999999"},
        {"__typename": "Dataset", "id": "openml:dataset:999999"},
        {"__typename": "Dataset", "id": sample.datasets[1]},
    ]
    body = await gateway.query(ENTITIES % "... on Dataset { id name } ... on OpenMLRun { id status }",
                               {"representations": representations})
    entities = body["data"]["_entities"]
    assert entities[0]["name"] and entities[4]["name"] and entities[1] is None
    codes = {tuple(e["path"][:2]): e["extensions"]["code"] for e in _errors(body)}
    assert codes == {("_entities", 1): "BAD_USER_INPUT", ("_entities", 2): "NOT_FOUND",
                     ("_entities", 3): "NOT_FOUND"}, body
    counts = Counter(_endpoint(c) for c in _calls(openml_emulator))
    assert counts["data/list/data_id"] == 1 and counts["run/list/run"] == 1, counts
    assert not re.search(r"abc", " ".join(_calls(openml_emulator)))
