"""Tag, untag and delete through GraphQL with each caller's own key, asserted at the emulator over HTTP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from adapters.openml_v1.emulator import EmulatorConfig, Fault, RunningEmulator, start_emulator
from tests.helpers import RunningGateway, running_gateway, settings_for

ALICE, BOB, ADMIN = "demo-key-alice", "demo-key-bob", "demo-key-admin"
ALICE_ID, BOB_ID = 2, 3

TAG = "mutation AddTag($id: ID!, $tag: String!) { addTag(id: $id, tag: $tag) }"
UNTAG = "mutation RemoveTag($id: ID!, $tag: String!) { removeTag(id: $id, tag: $tag) }"
DELETE = "mutation Delete($id: ID!) { delete(id: $id) }"


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[RunningEmulator]:
    """A private emulator: these tests change its state."""
    emu = await start_emulator(EmulatorConfig())
    try:
        yield emu
    finally:
        await emu.close()


@pytest.fixture
async def gateway(emulator: RunningEmulator) -> AsyncIterator[RunningGateway]:
    emulator.state.clear_faults()
    async with running_gateway(settings_for(emulator.url, openml_retries="0")) as gw:
        emulator.state.reset_calls()
        yield gw


def _runs_of(emulator: RunningEmulator, uploader: int, n: int) -> list[int]:
    store = emulator.state.store
    runs = (store.run(rid) for rid in store.all_run_ids())
    return [r.id for r in runs if r is not None and r.uploader == uploader][:n]


def _writes(emulator: RunningEmulator) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    return [(c.method, c.path.split("/api/v1/xml/")[-1], c.form, c.query) for c in emulator.state.calls
            if c.method != "GET"]


def _error(body: dict) -> dict:
    (error,) = body["errors"]
    return error


async def test_mutation_add_and_remove_tag_send_the_callers_key(gateway, emulator) -> None:
    (run_id,) = _runs_of(emulator, ALICE_ID, 1)
    gid = f"openml:run:{run_id}"
    body = await gateway.query(TAG, {"id": gid, "tag": "study_bench-1"}, headers={"X-OpenML-Api-Key": ALICE})
    assert "errors" not in body and "study_bench-1" in body["data"]["addTag"]
    assert _writes(emulator) == [("POST", "run/tag", {"run_id": str(run_id), "tag": "study_bench-1", "api_key": ALICE},
                                  {})]
    emulator.state.reset_calls()
    body = await gateway.query(UNTAG, {"id": gid, "tag": "study_bench-1"}, headers={"X-OpenML-Api-Key": ALICE})
    assert "study_bench-1" not in body["data"]["removeTag"]
    assert _writes(emulator)[0][:2] == ("POST", "run/untag") and _writes(emulator)[0][2]["api_key"] == ALICE


async def test_mutation_without_caller_key_fails_before_any_backend_call(gateway, emulator) -> None:
    for document, variables in [(TAG, {"id": "openml:dataset:61", "tag": "x"}), (DELETE, {"id": "openml:run:1"})]:
        body = await gateway.query(document, variables)
        assert _error(body)["extensions"]["code"] == "UNAUTHENTICATED"
    assert emulator.state.calls == []


async def test_mutation_without_an_openml_backend_is_unavailable() -> None:
    async with running_gateway(settings_for(None)) as gw:
        for document, variables in [(TAG, {"id": "openml:dataset:61", "tag": "x"}), (DELETE, {"id": "openml:run:1"})]:
            body = await gw.query(document, variables, headers={"X-OpenML-Api-Key": ALICE})
            assert _error(body)["extensions"] == {"code": "BACKEND_UNAVAILABLE", "backend": "openml"}, body


async def test_mutation_service_key_never_serves_writes(emulator) -> None:
    settings = settings_for(emulator.url, openml_token=ADMIN)
    async with running_gateway(settings) as gw:
        emulator.state.reset_calls()
        body = await gw.query(DELETE, {"id": "openml:run:1"})
    assert _error(body)["extensions"]["code"] == "UNAUTHENTICATED" and emulator.state.calls == []


async def test_mutation_wrong_key_is_unauthenticated_with_code_103(gateway, emulator) -> None:
    body = await gateway.query(TAG, {"id": "openml:dataset:61", "tag": "x"}, headers={"X-OpenML-Api-Key": "not-a-key"})
    error = _error(body)
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "backend": "openml", "backendCode": "103"}
    assert "not-a-key" not in str(body)


@pytest.mark.parametrize(
    ("tag", "code", "backend_code"),
    [("has space", "BAD_USER_INPUT", "477"), ("x" * 65, "BAD_USER_INPUT", "477")],
)
async def test_mutation_illegal_tags_are_refused(gateway, emulator, tag: str, code: str, backend_code: str) -> None:
    (run_id,) = _runs_of(emulator, ALICE_ID, 1)
    body = await gateway.query(TAG, {"id": f"openml:run:{run_id}", "tag": tag}, headers={"X-OpenML-Api-Key": ALICE})
    error = _error(body)
    assert (error["extensions"]["code"], error["extensions"]["backendCode"]) == (code, backend_code)
    assert error["message"]


async def test_mutation_tag_refusals_keep_backend_codes(gateway, emulator) -> None:
    (run_id,) = _runs_of(emulator, ALICE_ID, 1)
    gid = f"openml:run:{run_id}"
    alice = {"X-OpenML-Api-Key": ALICE}
    await gateway.query(TAG, {"id": gid, "tag": "twice"}, headers=alice)
    twice = _error(await gateway.query(TAG, {"id": gid, "tag": "twice"}, headers=alice))
    assert twice["extensions"]["backendCode"] == "473" and twice["extensions"]["code"] == "BAD_USER_INPUT"
    foreign = _error(await gateway.query(UNTAG, {"id": gid, "tag": "twice"}, headers={"X-OpenML-Api-Key": BOB}))
    assert (foreign["extensions"]["code"], foreign["extensions"]["backendCode"]) == ("FORBIDDEN", "476")
    missing = _error(await gateway.query(UNTAG, {"id": gid, "tag": "never-set"}, headers=alice))
    assert missing["extensions"]["backendCode"] == "475"
    unknown = _error(await gateway.query(TAG, {"id": "openml:run:99999999", "tag": "t"}, headers=alice))
    assert (unknown["extensions"]["code"], unknown["extensions"]["backendCode"]) == ("NOT_FOUND", "472")


async def test_mutation_delete_refusals(gateway, emulator) -> None:
    alice = {"X-OpenML-Api-Key": ALICE}
    (bobs_run,) = _runs_of(emulator, BOB_ID, 1)
    not_owned = _error(await gateway.query(DELETE, {"id": f"openml:run:{bobs_run}"}, headers=alice))
    assert (not_owned["extensions"]["code"], not_owned["extensions"]["backendCode"]) == ("FORBIDDEN", "393")
    unknown = _error(await gateway.query(DELETE, {"id": "openml:run:99999999"}, headers=alice))
    assert (unknown["extensions"]["code"], unknown["extensions"]["backendCode"]) == ("NOT_FOUND", "392")
    store = emulator.state.store
    dataset = next(d for d in sorted(store.datasets) if store.datasets[d].uploader == ALICE_ID
                   and any(t.did == d for t in store.tasks.values()))
    in_use = _error(await gateway.query(DELETE, {"id": f"openml:dataset:{dataset}"}, headers=alice))
    assert (in_use["extensions"]["code"], in_use["extensions"]["backendCode"]) == ("BAD_USER_INPUT", "354")
    assert [w[:2] for w in _writes(emulator)] == [
        ("DELETE", f"run/{bobs_run}"), ("DELETE", "run/99999999"), ("DELETE", f"data/{dataset}")]
    assert all(w[3].get("api_key") == ALICE for w in _writes(emulator))


async def test_mutation_read_after_write_with_the_cache(gateway, emulator) -> None:
    alice = {"X-OpenML-Api-Key": ALICE}
    run_id = _runs_of(emulator, ALICE_ID, 3)[-1]
    gid = f"openml:run:{run_id}"
    read = 'query($id: ID!) { run(id: $id) { id ... on OpenMLRun { tags } } }'
    before = (await gateway.query(read, {"id": gid}, headers=alice))["data"]["run"]["tags"]
    again = (await gateway.query(read, {"id": gid}, headers=alice))["data"]["run"]["tags"]
    assert again == before  # served from the cache
    await gateway.query(TAG, {"id": gid, "tag": "fresh-tag"}, headers=alice)
    after = (await gateway.query(read, {"id": gid}, headers=alice))["data"]["run"]["tags"]
    assert "fresh-tag" in after
    deleted = await gateway.query(DELETE, {"id": gid}, headers=alice)
    assert deleted == {"data": {"delete": True}}
    gone = await gateway.query(read, {"id": gid}, headers=alice)
    assert gone["data"]["run"] is None and _error(gone)["extensions"]["code"] == "NOT_FOUND"


async def test_mutation_concurrent_callers_never_mix_keys(gateway, emulator) -> None:
    alice_runs, bob_runs = _runs_of(emulator, ALICE_ID, 8)[3:8], _runs_of(emulator, BOB_ID, 5)

    async def tag_as(key: str, run_id: int) -> dict:
        return await gateway.query(TAG, {"id": f"openml:run:{run_id}", "tag": f"by-{key[-3:]}"},
                                   headers={"X-OpenML-Api-Key": key})

    bodies = await asyncio.gather(*[tag_as(ALICE, r) for r in alice_runs], *[tag_as(BOB, r) for r in bob_runs])
    assert all("errors" not in b for b in bodies)
    for _method, path, form, _query in _writes(emulator):
        run_id = int(form["run_id"])
        expected = ALICE if run_id in alice_runs else BOB
        assert form["api_key"] == expected and form["tag"] == f"by-{expected[-3:]}", path


async def test_mutation_timeout_is_an_unknown_outcome_never_retried(emulator) -> None:
    (run_id,) = _runs_of(emulator, ALICE_ID, 1)
    emulator.state.add_fault(Fault(prefix="run/tag", kind="hang"))
    settings = settings_for(emulator.url, openml_timeout="1", openml_retries="3")
    try:
        async with running_gateway(settings) as gw:
            emulator.state.reset_calls()
            body = await gw.query(TAG, {"id": f"openml:run:{run_id}", "tag": "slow"},
                                  headers={"X-OpenML-Api-Key": ALICE})
    finally:
        emulator.state.clear_faults()
    error = _error(body)
    assert error["extensions"]["code"] == "BACKEND_UNAVAILABLE" and error["extensions"]["outcome"] == "unknown"
    assert len(_writes(emulator)) == 1


async def test_mutation_credentials_never_in_logs_or_errors(emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [ALICE, BOB, "wrong-secret-key-123"]
    bodies = []
    async with running_gateway(settings_for(emulator.url)) as gw:
        for key in secrets:
            headers = {"X-OpenML-Api-Key": key}
            bodies.append(await gw.query(TAG, {"id": "openml:run:99999999", "tag": "t"}, headers=headers))
            bodies.append(await gw.query('{ dataset(id: "openml:dataset:999999") { name } }', headers=headers))
            bodies.append(await gw.query(DELETE, {"id": "openml:flow:99999999"}, headers=headers))
        metrics = await (await gw.session.get(gw.base_url + "/metrics")).text()
    text = caplog.text + repr(bodies) + metrics + repr(gw.services.cache._data.keys())
    for secret in secrets:
        assert secret not in text


@pytest.mark.parametrize(("gid", "wire", "field"), [
    ("openml:dataset:61", "data", "data_id"), ("openml:task:31", "task", "task_id"),
    ("openml:flow:5270", "flow", "flow_id"), ("openml:setup:12", "setup", "setup_id"),
])
async def test_mutation_tag_every_taggable_kind(gateway, emulator, gid: str, wire: str, field: str) -> None:
    native = gid.rsplit(":", 1)[1]
    body = await gateway.query(TAG, {"id": gid, "tag": "curated"}, headers={"X-OpenML-Api-Key": ADMIN})
    assert "errors" not in body and "curated" in body["data"]["addTag"]
    assert _writes(emulator) == [("POST", f"{wire}/tag", {field: native, "tag": "curated", "api_key": ADMIN}, {})]
    emulator.state.reset_calls()
    body = await gateway.query(UNTAG, {"id": gid, "tag": "curated"}, headers={"X-OpenML-Api-Key": ADMIN})
    assert "curated" not in body["data"]["removeTag"]
    assert _writes(emulator)[0][1] == f"{wire}/untag"


async def test_mutation_refuses_kinds_without_tags(gateway, emulator) -> None:
    body = await gateway.query(TAG, {"id": "openml:runfile:100/262", "tag": "x"}, headers={"X-OpenML-Api-Key": ALICE})
    assert _error(body)["extensions"]["code"] == "BAD_USER_INPUT" and emulator.state.calls == []
