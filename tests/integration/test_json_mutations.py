"""Mutations of the JSON backends with the caller's own token, asserted at the emulators over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.mlte import emulator as mlte
from adapters.pytupli import emulator as pytupli
from adapters.pytupli.emulator_data import DEFAULT_ADMIN_PASSWORD
from adapters.vantage6 import emulator as vantage6
from tests.helpers import RunningGateway, running_gateway, settings_for


@pytest.fixture(scope="module")
async def emulators() -> AsyncIterator[dict[str, Any]]:
    running = {
        "mlte": await mlte.start_emulator(mlte.EmulatorConfig()),
        "pytupli": await pytupli.start_emulator(pytupli.EmulatorConfig()),
        "vantage6": await vantage6.start_emulator(vantage6.EmulatorConfig()),
    }
    try:
        yield running
    finally:
        for emulator in running.values():
            await emulator.close()


@pytest.fixture
async def gateway(emulators: dict[str, Any]) -> AsyncIterator[RunningGateway]:
    settings = settings_for(
        None, mlte_url=emulators["mlte"].url, mlte_username="admin",
        mlte_password=mlte.EmulatorConfig().admin_password, pytupli_url=emulators["pytupli"].url,
        pytupli_username="admin", pytupli_password=DEFAULT_ADMIN_PASSWORD, vantage6_url=emulators["vantage6"].url,
        vantage6_username="root", vantage6_password="root", vantage6_retries="0", mlte_retries="0",
        pytupli_retries="0",
    )
    async with running_gateway(settings) as gw:
        for emulator in emulators.values():
            emulator.state.reset_calls()
        yield gw


async def _token(url: str, path: str, **kwargs: Any) -> str:
    async with aiohttp.ClientSession() as session, session.post(url + path, **kwargs) as resp:
        body = await resp.json()
    token = body["access_token"]
    return token["token"] if isinstance(token, dict) else token


def _writes(emulator: Any) -> list[Any]:
    return [c for c in emulator.state.calls if c.method != "GET" and "token" not in c.path
            and not c.path.endswith("/list")]


async def test_json_mutation_mlte_write_and_delete_with_the_callers_token(gateway, emulators) -> None:
    token = await _token(emulators["mlte"].url, "/token", data={"grant_type": "password", "username": "alice",
                                                                 "password": "alice-pass-1"})
    artifact = {"header": {"identifier": "evidence.gw", "type": "evidence"}, "body": {
        "artifact_type": "evidence",
        "metadata": {"test_case_id": "gw", "measurement": {
            "measurement_class": "mlte.measurement.external_measurement.ExternalMeasurement",
            "output_class": "mlte.evidence.types.integer.Integer"}},
        "evidence_class": "mlte.evidence.types.integer.Integer",
        "value": {"evidence_type": "integer", "integer": 7, "unit": None}}}
    write = """mutation($v: ID!, $a: JSON!) { writeMlteArtifact(versionId: $v, artifact: $a) { id name kind
        ... on MLTEArtifact { creator level } } }"""
    versions = await gateway.query('{ model(id: "mlte:model:alice-sandbox") { versions { id } } }',
                                   headers={"X-MLTE-Token": token})
    variables = {"v": versions["data"]["model"]["versions"][0]["id"], "a": artifact}
    refused = await gateway.query(write, variables)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and _writes(emulators["mlte"]) == []
    body = await gateway.query(write, variables, headers={"X-MLTE-Token": token})
    assert not body.get("errors"), body
    written = body["data"]["writeMlteArtifact"]
    assert written["name"] == "evidence.gw" and written["creator"] == "alice"
    (call,) = _writes(emulators["mlte"])
    assert call.method == "POST" and call.headers.get("authorization") == f"Bearer {token}"
    listed = await gateway.query('''query($v: ID!) { node(id: $v) { ... on ModelVersion {
        artifacts(first: 50) { edges { node { id } } } } } }''', {"v": variables["v"]},
                                 headers={"X-MLTE-Token": token})
    ids = [e["node"]["id"] for e in listed["data"]["node"]["artifacts"]["edges"]]
    assert written["id"] in ids
    again = await gateway.query(write, variables, headers={"X-MLTE-Token": token})
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # MLTE's 409: it exists
    deleted = await gateway.query("mutation($id: ID!) { deleteMlteArtifact(id: $id) }", {"id": written["id"]},
                                  headers={"X-MLTE-Token": token})
    assert deleted == {"data": {"deleteMlteArtifact": True}}
    bogus = await gateway.query(write, variables, headers={"X-MLTE-Token": "not-a-jwt"})
    assert bogus["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and "not-a-jwt" not in str(bogus)


async def test_json_mutation_vantage6_create_kill_delete(gateway, emulators) -> None:
    token = await _token(emulators["vantage6"].url, "/token/user",
                         json={"username": "alice", "password": "Alice-Passw0rd!"})
    create = """mutation { createVantage6Task(collaborationId: "vantage6:collaboration:1", image: "demo/average",
        name: "gw-task", organizations: [{organizationId: "vantage6:organization:2", input: {method: "avg"}}]) {
        id name status collaboration { id } initOrganization { name } } }"""
    refused = await gateway.query(create)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and _writes(emulators["vantage6"]) == []
    task = (await gateway.query(create, headers={"X-Vantage6-Token": token}))["data"]["createVantage6Task"]
    assert task["name"] == "gw-task" and task["status"] == "pending"
    post = _writes(emulators["vantage6"])[0]
    assert post.method == "POST" and post.path.endswith("/task")
    assert task["initOrganization"]["name"] == "Org A"  # created as alice (root may not create tasks)
    kill = "mutation($id: ID!) { killVantage6Task(id: $id) { id } }"
    refused = await gateway.query(kill, {"id": task["id"]}, headers={"X-Vantage6-Token": token})
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "backend": "vantage6", "backendCode": "401"}
    carol = await _token(emulators["vantage6"].url, "/token/user",
                         json={"username": "carol", "password": "Carol-Passw0rd!"})
    killed = await gateway.query(kill, {"id": task["id"]}, headers={"X-Vantage6-Token": carol})
    assert not killed.get("errors"), killed
    assert killed["data"]["killVantage6Task"]["id"] == task["id"]
    runs = await gateway.query('query($id: ID!) { task(id: $id) { runs { edges { node { status } } } } }',
                               {"id": task["id"]}, headers={"X-Vantage6-Token": token})
    assert {e["node"]["status"] for e in runs["data"]["task"]["runs"]["edges"]} == {"killed_by_user"}
    deleted = await gateway.query("mutation($id: ID!) { deleteVantage6Task(id: $id) }", {"id": task["id"]},
                                  headers={"X-Vantage6-Token": token})
    assert deleted == {"data": {"deleteVantage6Task": True}}
    gone = await gateway.query('query($id: ID!) { task(id: $id) { id } }', {"id": task["id"]},
                               headers={"X-Vantage6-Token": token})
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_json_mutation_pytupli_publish_unpublish_delete(gateway, emulators) -> None:
    token = await _token(emulators["pytupli"].url, "/access/users/token",
                         json={"username": "admin", "password": DEFAULT_ADMIN_PASSWORD})
    listed = await gateway.query('{ benchmarks(filter: {names: ["cartpole-v1"]}) { edges { node { id } } } }')
    (edge,) = listed["data"]["benchmarks"]["edges"]
    bid = edge["node"]["id"]
    refused = await gateway.query('mutation($id: ID!) { publish(id: $id, group: "robotics") }', {"id": bid})
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and _writes(emulators["pytupli"]) == []
    headers = {"X-Pytupli-Token": token}
    refused = await gateway.query('mutation($id: ID!) { unpublish(id: $id, group: "robotics") }', {"id": bid},
                                  headers=headers)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # pytupli's rule: a role in that group
    other = await gateway.query('{ benchmarks(filter: {names: ["pusher-v5"]}) { edges { node { id } } } }')
    pusher = other["data"]["benchmarks"]["edges"][0]["node"]["id"]
    added = await gateway.query('mutation($id: ID!) { publish(id: $id, group: "global") }', {"id": pusher},
                                headers=headers)
    assert not added.get("errors"), added
    assert "global" in added["data"]["publish"]
    calls = [(c.method, c.path) for c in _writes(emulators["pytupli"])]
    assert calls == [("PUT", "/benchmarks/unpublish"), ("PUT", "/benchmarks/publish")]
    episodes = await gateway.query('{ episodes(first: 1) { edges { node { id } } } }', headers=headers)
    assert not episodes.get("errors"), episodes
    eid = episodes["data"]["episodes"]["edges"][0]["node"]["id"]
    assert (await gateway.query("mutation($id: ID!) { delete(id: $id) }", {"id": eid}, headers=headers)) == {
        "data": {"delete": True}}
    missing = await gateway.query("mutation($id: ID!) { delete(id: $id) }", {"id": eid}, headers=headers)
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
