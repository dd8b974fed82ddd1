"""Automatic persisted queries (Apollo's protocol) and allow-list mode, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.openml_v1.emulator import RunningEmulator
from gateway.app import create_app
from gateway.apq import APQStore, InMemoryAPQStore, query_hash
from gateway.settings import SettingsError
from tests.helpers import RunningGateway, running_gateway, settings_for
from tests.http._client import GRAPHQL_RESPONSE, Reply, call

IRIS = '{ dataset(id: "openml:dataset:61") { name } }'
IRIS_DATA = {"data": {"dataset": {"name": "iris"}}}
NOT_FOUND = {"errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}


def _sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _extensions(sha: str, version: object = 1) -> dict:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


async def _by_hash(gw: RunningGateway, query: str, *, get: bool = False, accept: str = "application/json",
                   with_text: bool = False) -> Reply:
    payload: dict = {"extensions": _extensions(_sha(query))}
    if with_text:
        payload["query"] = query
    if get:
        params = {"extensions": json.dumps(payload["extensions"])} | ({"query": query} if with_text else {})
        return await call(gw, "GET", params=params, headers={"Accept": accept})
    return await call(gw, json_body=payload, headers={"Accept": accept})


async def test_apq_round_trip_unknown_then_registered_then_by_hash(gateway: RunningGateway) -> None:
    query = '{ first: dataset(id: "openml:dataset:61") { name } }'
    for accept in ("application/json", GRAPHQL_RESPONSE):  # Apollo's 200, whatever the media type
        miss = await _by_hash(gateway, query, accept=accept)
        assert (miss.status, miss.body) == (200, NOT_FOUND)
        assert miss.headers["Cache-Control"] == "private, no-cache, must-revalidate"
    registered = await _by_hash(gateway, query, with_text=True)
    assert (registered.status, registered.body) == (200, {"data": {"first": {"name": "iris"}}})
    hit = await _by_hash(gateway, query)
    assert (hit.status, hit.body) == (200, {"data": {"first": {"name": "iris"}}})


async def test_apq_get_with_the_hash_in_extensions(gateway: RunningGateway) -> None:
    query = '{ second: dataset(id: "openml:dataset:61") { name } }'
    miss = await _by_hash(gateway, query, get=True)
    assert (miss.status, miss.body) == (200, NOT_FOUND)
    assert miss.headers["Cache-Control"] == "private, no-cache, must-revalidate"  # a CDN must not keep the miss
    registered = await _by_hash(gateway, query, get=True, with_text=True)
    assert (registered.status, registered.body) == (200, {"data": {"second": {"name": "iris"}}})
    hit = await _by_hash(gateway, query, get=True, accept=GRAPHQL_RESPONSE)
    assert (hit.status, hit.media_type, hit.body) == (200, GRAPHQL_RESPONSE, {"data": {"second": {"name": "iris"}}})
    assert "Cache-Control" not in hit.headers  # caching headers only when GATEWAY_GET_CACHE_CONTROL says so


async def test_apq_hash_mismatch_is_refused_and_not_stored(gateway: RunningGateway) -> None:
    query, other = "{ __typename }", '{ mismatch: __typename }'
    reply = await call(gateway, json_body={"query": query, "extensions": _extensions(_sha(other))})
    assert reply.status == 400
    assert reply.error() == {"message": "provided sha does not match query", "extensions": {"code": "BAD_REQUEST"}}
    for stored in (query, other):
        assert (await _by_hash(gateway, stored)).body == NOT_FOUND


async def test_apq_hash_is_case_insensitive_hex(gateway: RunningGateway) -> None:
    query = "{ upper: __typename }"
    reply = await call(gateway, json_body={"query": query, "extensions": _extensions(_sha(query).upper())})
    assert (reply.status, reply.body) == (200, {"data": {"upper": "Query"}})
    assert (await _by_hash(gateway, query)).body == {"data": {"upper": "Query"}}


async def test_apq_invalid_document_is_not_stored(gateway: RunningGateway) -> None:
    query = "{ noSuchField }"
    first = await _by_hash(gateway, query, with_text=True)
    assert first.error()["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await _by_hash(gateway, query)).body == NOT_FOUND


async def test_apq_stored_mutation_still_refused_over_get(gateway: RunningGateway) -> None:
    mutation = "mutation { __typename }"
    posted = await _by_hash(gateway, mutation, with_text=True)
    assert (posted.status, posted.body) == (200, {"data": {"__typename": "Mutation"}})
    over_get = await _by_hash(gateway, mutation, get=True)
    assert (over_get.status, over_get.headers["Allow"]) == (405, "POST")


@pytest.mark.parametrize(("persisted", "fragment"), [
    ({"version": 2, "sha256Hash": "0" * 64}, "Unsupported persisted query version"),
    ({"version": True, "sha256Hash": "0" * 64}, "Unsupported persisted query version"),
    ({"sha256Hash": "0" * 64}, "Unsupported persisted query version"),
    ({"version": 1, "sha256Hash": "abc"}, "64 hex digits"),
    ({"version": 1, "sha256Hash": 12}, "64 hex digits"),
    ({"version": 1}, "64 hex digits"),
], ids=["version-2", "version-bool", "no-version", "short-hash", "number-hash", "no-hash"])
async def test_apq_malformed_persisted_query_is_400(gateway: RunningGateway, persisted: dict, fragment: str) -> None:
    reply = await call(gateway, json_body={"extensions": {"persistedQuery": persisted}})
    assert reply.status == 400
    assert reply.error()["extensions"] == {"code": "BAD_REQUEST"} and fragment in reply.error()["message"]


async def test_apq_store_is_per_process_not_shared_between_apps(gateway: RunningGateway,
                                                                openml_emulator: RunningEmulator) -> None:
    query = "{ perProcess: __typename }"
    assert (await _by_hash(gateway, query, with_text=True)).status == 200
    async with running_gateway(settings_for(openml_emulator.url)) as other:
        assert (await _by_hash(other, query)).body == NOT_FOUND


async def test_apq_switched_off_is_not_supported(openml_emulator: RunningEmulator) -> None:
    async with running_gateway(settings_for(openml_emulator.url, apq_enabled="false")) as gw:
        reply = await _by_hash(gw, IRIS, with_text=True)
        plain = await call(gw, json_body={"query": IRIS})
    assert reply.status == 200
    assert reply.body == {"errors": [{"message": "PersistedQueryNotSupported",
                                      "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"}}]}
    assert plain.body == IRIS_DATA


# --- the store interface: one suite for every implementation (a Redis one joins this list) ---

STORES: list[Callable[..., APQStore]] = [InMemoryAPQStore]


@pytest.mark.parametrize("make_store", STORES, ids=lambda f: f.__name__)
async def test_apq_store_get_set_and_lru_bounds(make_store: Callable[..., APQStore]) -> None:
    store = make_store(max_entries=2, max_bytes=1000)
    assert await store.get(query_hash("{ a }")) is None
    for text in ("{ a }", "{ b }"):
        await store.set(query_hash(text), text)
    assert await store.get(query_hash("{ a }")) == "{ a }"  # a is now the most recently used
    await store.set(query_hash("{ c }"), "{ c }")
    assert await store.get(query_hash("{ b }")) is None
    assert [await store.get(query_hash(t)) for t in ("{ a }", "{ c }")] == ["{ a }", "{ c }"]
    big = "{ " + "x " * 300 + "}"
    await store.set(query_hash(big), big)
    await store.set(query_hash(big + " "), big + " ")  # together over 1,000 bytes: the older one goes
    assert await store.get(query_hash(big)) is None and await store.get(query_hash(big + " ")) == big + " "
    huge = "{ " + "y " * 600 + "}"
    await store.set(query_hash(huge), huge)  # larger than the whole store: skipped, nothing evicted for it
    assert await store.get(query_hash(huge)) is None and await store.get(query_hash(big + " ")) == big + " "


# --- allow-list mode ---

REGISTERED = '{ registered: dataset(id: "openml:dataset:61") { name } }'
REGISTERED_DATA = {"data": {"registered": {"name": "iris"}}}


def _allowlist_json(tmp_path: Path) -> Path:
    path = tmp_path / "allowlist.json"
    path.write_text(json.dumps({_sha(REGISTERED): REGISTERED, _sha("{ __typename }"): "{ __typename }"}))
    return path


def _allowlist_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "operations"
    (folder / "nested").mkdir(parents=True)
    (folder / "registered.graphql").write_text(REGISTERED)
    (folder / "nested" / "typename.graphql").write_text("{ __typename }")
    (folder / "notes.txt").write_text("{ notAnOperation }")
    return folder


@pytest.mark.parametrize("make_allowlist", [_allowlist_json, _allowlist_dir], ids=["json-file", "directory"])
async def test_apq_allowlist_runs_only_registered_documents(openml_emulator: RunningEmulator, tmp_path: Path,
                                                            make_allowlist: Callable[[Path], Path]) -> None:
    allowlist = make_allowlist(tmp_path)
    async with running_gateway(settings_for(openml_emulator.url, apq_allowlist=str(allowlist))) as gw:
        by_hash = await _by_hash(gw, REGISTERED)
        by_hash_get = await _by_hash(gw, REGISTERED, get=True)
        by_text = await call(gw, json_body={"query": REGISTERED})
        by_both = await _by_hash(gw, REGISTERED, with_text=True)
        unknown_hash = await _by_hash(gw, IRIS)
        unknown_with_text = await _by_hash(gw, IRIS, with_text=True)
        raw_text = await call(gw, json_body={"query": IRIS}, headers={"Accept": GRAPHQL_RESPONSE})
        still_unknown = await _by_hash(gw, IRIS)
    for ok in (by_hash, by_hash_get, by_text, by_both):
        assert (ok.status, ok.body) == (200, REGISTERED_DATA)
    for refused in (unknown_hash, unknown_with_text, still_unknown):  # nothing was registered on the way
        assert refused.status == 404
        assert refused.error()["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
        assert _sha(IRIS) in refused.error()["message"]
    assert raw_text.status == 403
    assert raw_text.error()["extensions"] == {"code": "QUERY_NOT_IN_SAFELIST"}


async def test_apq_allowlist_hash_mismatch_is_refused(openml_emulator: RunningEmulator, tmp_path: Path) -> None:
    settings = settings_for(openml_emulator.url, apq_allowlist=str(_allowlist_json(tmp_path)))
    async with running_gateway(settings) as gw:
        reply = await call(gw, json_body={"query": IRIS, "extensions": _extensions(_sha(REGISTERED))})
    assert reply.status == 400 and reply.error()["message"] == "provided sha does not match query"


@pytest.mark.parametrize("content", [
    "not json", "[]", json.dumps({"0" * 64: "{ __typename }"}), json.dumps({_sha("{ a }"): 12}),
], ids=["not-json", "array", "wrong-hash", "not-text"])
def test_apq_bad_allowlist_fails_at_start_naming_the_setting(tmp_path: Path, content: str) -> None:
    path = tmp_path / "allowlist.json"
    path.write_text(content)
    with pytest.raises(SettingsError, match="GATEWAY_APQ_ALLOWLIST"):
        create_app(settings_for(None, apq_allowlist=str(path)))


def test_apq_missing_allowlist_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_APQ_ALLOWLIST"):
        create_app(settings_for(None, apq_allowlist=str(tmp_path / "absent.json")))
