"""ONE contract suite for pytupli, run against the emulator AND the real pytupli 1.2.9 server (installed on first
use): the same seed, the same client calls, the same expectations; raw HTTP where the wire format itself matters.
Expectations are computed from the seed plan, never from either target, so passing on both proves they agree."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
import pytest

from adapters.pytupli.emulator_data import SeedPlan
from adapters.pytupli.filters import and_, eq, geq, in_, ne, or_
from gateway.errors import BadUserInputError, ForbiddenError, NotFoundError, UnauthenticatedError
from gateway.http import BackendHTTP, BackendResponse

if TYPE_CHECKING:
    from tests.backends.pytupli_fixtures import PytupliTarget

pytest_plugins = ["tests.backends.pytupli_fixtures"]

READS = {"admin": {"global", "admin", "team-ml", "robotics"}, "alice": {"global", "alice", "team-ml"},
         None: {"global"}}
AUTH_ERROR = {"detail": "You do not have sufficient permissions for this operation."}


def _groups(item: object) -> list[str]:
    owner, publish = item.owner, item.publish  # type: ignore[attr-defined]
    return [owner, *dict.fromkeys(g for g in publish if g != owner)]


def _visible(items: tuple, user: str | None) -> list:
    return [i for i in items if set(_groups(i)) & READS[user]]


def _artifact_order(plan: SeedPlan) -> list[str]:
    order = [a.name for a in plan.artifacts]
    for a in plan.artifacts:
        for _ in a.publish:  # every publish re-stores the file at the end
            order.remove(a.name)
            order.append(a.name)
    return order


def _claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def _raw(target: PytupliTarget, method: str, path: str, *, token: str | None = None, body: object = None,
               data: object = None, headers: dict[str, str] | None = None) -> BackendResponse:
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return await target.http.request(method, path, endpoint="raw", json=body, data=data, headers=sent,
                                     idempotent=False)


def _seed_hashes(plan: SeedPlan) -> set[str]:
    return {b.hash for b in plan.benchmarks}


# ---------------------------------------------------------------------------------------------- auth


async def test_pytupli_login_returns_nested_tokens_with_issuer_claim(pytupli_target: PytupliTarget) -> None:
    resp = await _raw(pytupli_target, "POST", "access/users/token",
                      body={"username": "admin", "password": pytupli_target.plan.passwords["admin"]})
    assert resp.status == 200
    body = json.loads(resp.body)
    assert set(body) == {"access_token", "refresh_token"}
    assert body["access_token"]["token_type"] == body["refresh_token"]["token_type"] == "bearer"
    access, refresh = _claims(body["access_token"]["token"]), _claims(body["refresh_token"]["token"])
    assert set(access) == {"issuer", "exp"} and access["issuer"] == "admin"
    assert 29 * 60 <= access["exp"] - time.time() <= 31 * 60
    assert 8.7 * 86400 <= refresh["exp"] - time.time() <= 8.8 * 86400


async def test_pytupli_login_wrong_password_is_unauthenticated(pytupli_target: PytupliTarget) -> None:
    with pytest.raises(UnauthenticatedError) as info:
        await pytupli_target.client().login("admin", "not-the-password")
    assert (info.value.message, info.value.backend, info.value.backend_code) == (
        "Incorrect username or password", "pytupli", "401")
    resp = await _raw(pytupli_target, "POST", "access/users/token", body={"username": "nobody", "password": "x"})
    assert resp.status == 401 and resp.headers["www-authenticate"] == "Bearer"


async def test_pytupli_refresh_token_mints_a_working_access_token(pytupli_target: PytupliTarget) -> None:
    client = pytupli_target.client()
    pair = await client.login("alice", pytupli_target.plan.passwords["alice"])
    fresh = await client.refresh(pair.refresh or "")
    assert fresh.refresh == pair.refresh and _claims(fresh.access)["issuer"] == "alice"
    assert fresh.expires_at is not None and fresh.expires_at > time.time() + 29 * 60
    mine = await client.list_benchmarks(eq("metadata.name", "swimmer-v5"), fresh.access)
    assert [b.name for b in mine] == ["swimmer-v5"]  # alice's private benchmark: the token is alice's
    resp = await _raw(pytupli_target, "POST", "access/users/refresh-token", token=pair.refresh)
    assert resp.status == 200 and set(json.loads(resp.body)) == {"token", "token_type"}


async def test_pytupli_refresh_without_token_is_refused(pytupli_target: PytupliTarget) -> None:
    resp = await _raw(pytupli_target, "POST", "access/users/refresh-token")
    assert (resp.status, json.loads(resp.body)) == (403, AUTH_ERROR)
    with pytest.raises(UnauthenticatedError, match="Could not validate credentials"):
        await pytupli_target.client().refresh("not-a-jwt")


async def test_pytupli_service_account_logs_in_once_then_refreshes_before_expiry(
        pytupli_target: PytupliTarget) -> None:
    offset = {"s": 0.0}
    client = pytupli_target.client("bob", clock=lambda: time.time() + offset["s"])
    first = await client.list_benchmarks(None, None)
    again = await client.list_benchmarks(None, None)
    assert client.service_token is not None
    assert (client.service_token.logins, client.service_token.refreshes) == (1, 0)
    offset["s"] = 29.5 * 60  # within the 60 s margin of the 30-minute expiry
    later = await client.list_benchmarks(None, None)
    assert (client.service_token.logins, client.service_token.refreshes) == (1, 1)
    assert [b.id for b in first] == [b.id for b in again] == [b.id for b in later]
    assert "hopper-v5" in {b.name for b in later}  # bob's robotics-only benchmark: bob's own view


async def test_pytupli_service_account_with_wrong_password_is_unauthenticated(
        pytupli_target: PytupliTarget) -> None:
    from adapters.pytupli.client import PytupliClient
    from gateway.settings import BackendSettings

    client = PytupliClient(pytupli_target.http, BackendSettings(url=pytupli_target.url, username="admin",
                                                                password="wrong-password"))
    with pytest.raises(UnauthenticatedError) as info:
        await client.list_benchmarks(None, None)
    assert "Incorrect username or password" in info.value.message and "wrong-password" not in repr(info.value)
    assert "wrong-password" not in repr(client)


async def test_pytupli_garbage_token_is_unauthenticated_with_bearer_challenge(pytupli_target: PytupliTarget) -> None:
    with pytest.raises(UnauthenticatedError) as info:
        await pytupli_target.client("admin").list_benchmarks(None, "garbage.token.value")
    assert (info.value.message, info.value.backend_code) == ("Could not validate credentials", "401")
    resp = await _raw(pytupli_target, "POST", "benchmarks/list", token="garbage", body={})
    assert resp.status == 401 and resp.headers["www-authenticate"] == "Bearer"
    assert json.loads(resp.body) == {"detail": "Could not validate credentials"}


async def test_pytupli_bearer_scheme_spelling_quirks(pytupli_target: PytupliTarget) -> None:
    token = await pytupli_target.token("admin")
    lower = await _raw(pytupli_target, "POST", "benchmarks/list", body={}, headers={"Authorization": f"bearer {token}"})
    assert (lower.status, json.loads(lower.body)) == (401, {"detail": "Invalid authentication scheme"})
    basic = await _raw(pytupli_target, "POST", "benchmarks/list", body={}, headers={"Authorization": "Basic eDp5"})
    assert basic.status == 200 and all("global" in b["published_in"] for b in json.loads(basic.body))


async def test_pytupli_missing_token_reads_only_what_is_in_global(pytupli_target: PytupliTarget) -> None:
    plan = pytupli_target.plan
    got = [b for b in await pytupli_target.client().list_benchmarks(None, None) if b.hash in _seed_hashes(plan)]
    assert [b.name for b in got] == [b.name for b in _visible(plan.benchmarks, None)]
    assert len(got) >= 20 and all("global" in b.published_in for b in got)
    episodes = await pytupli_target.client().list_episodes(None, None)
    assert len(episodes) >= 20 and all("global" in e.published_in for e in episodes)
    artifacts = await pytupli_target.client().list_artifacts(None, None)
    assert {a.name for a in artifacts} >= {a.name for a in _visible(plan.artifacts, None)}


async def test_pytupli_anonymous_write_is_unauthenticated(pytupli_target: PytupliTarget) -> None:
    with pytest.raises(UnauthenticatedError) as info:
        await pytupli_target.client().create_benchmark("anon", "{}", None, hash=uuid.uuid4().hex)
    assert info.value.message == AUTH_ERROR["detail"] and info.value.backend_code == "403"
    resp = await _raw(pytupli_target, "POST", "benchmarks/create",
                      body={"hash": "h0", "serialized": "{}", "metadata": {"name": "anon"}})
    assert (resp.status, json.loads(resp.body)) == (403, AUTH_ERROR)


async def test_pytupli_caller_token_without_rights_is_forbidden(pytupli_target: PytupliTarget) -> None:
    admin = await pytupli_target.client("admin").list_benchmarks(eq("metadata.name", "humanoidstandup-v5"), None)
    alice = await pytupli_target.token("alice")
    with pytest.raises(ForbiddenError) as info:
        await pytupli_target.client().get_benchmark(admin[0].id, alice)
    assert info.value.message == AUTH_ERROR["detail"] and info.value.backend == "pytupli"
    with pytest.raises(UnauthenticatedError):  # the same refusal without a caller credential
        await pytupli_target.client().get_benchmark(admin[0].id, None)


async def test_pytupli_caller_credential_wins_over_the_service_account(pytupli_target: PytupliTarget) -> None:
    names = {b.name for b in await pytupli_target.client("admin").list_benchmarks(
        None, await pytupli_target.token("alice"))}
    assert "swimmer-v5" in names and "humanoidstandup-v5" not in names and "hopper-v5" not in names
    as_admin = {b.name for b in await pytupli_target.client("admin").list_benchmarks(None, None)}
    assert "humanoidstandup-v5" in as_admin and "swimmer-v5" not in as_admin


# ---------------------------------------------------------------------------------------------- reads


async def test_pytupli_list_benchmarks_returns_every_readable_one_in_storage_order(
        pytupli_target: PytupliTarget) -> None:
    plan = pytupli_target.plan
    got = [b for b in await pytupli_target.client("admin").list_benchmarks(None, None)
           if b.hash in _seed_hashes(plan)]
    expected = _visible(plan.benchmarks, "admin")
    assert [b.name for b in got] == [b.name for b in expected]
    for record, seed in zip(got, expected, strict=True):
        meta = seed.metadata
        assert (record.hash, record.difficulty, record.version, dict(record.extra), record.created_by) == (
            seed.hash, meta["difficulty"], meta["version"], meta["extra"], seed.owner)
        assert record.description == (meta["description"] or None)
        assert list(record.published_in) == _groups(seed)
        assert uuid.UUID(record.id).version == 4 and len(record.id) == 32
        assert isinstance(record.created_at, datetime) and record.created_at.tzinfo is None
        assert record.serialized is None and record.raw_extra == {}


@pytest.mark.parametrize(("flt", "keep"), [
    (eq("metadata.difficulty", "hard"), lambda b: b.metadata["difficulty"] == "hard"),
    (ne("metadata.extra.family", "mujoco"), lambda b: b.metadata["extra"]["family"] != "mujoco"),
    (geq("metadata.extra.max_episode_steps", 1000), lambda b: b.metadata["extra"]["max_episode_steps"] >= 1000),
    (and_(eq("metadata.extra.family", "box2d"), in_("metadata.name", ["carracing-v3", "lunarlander-v3", "x"])),
     lambda b: b.name in ("carracing-v3", "lunarlander-v3")),
    (or_(eq("metadata.name", "taxi-v3"), eq("metadata.version", "0")),
     lambda b: b.name == "taxi-v3" or b.metadata["version"] == "0"),
    (eq("published_in", "robotics"), lambda b: "robotics" in b.publish),
    (eq("metadata.nope", "x"), lambda b: False),
], ids=["eq", "ne-nested", "geq-number", "and-in", "or", "eq-array-element", "missing-field"])
async def test_pytupli_list_benchmarks_filters_like_mongo(pytupli_target: PytupliTarget, flt, keep) -> None:
    plan = pytupli_target.plan
    got = await pytupli_target.client("admin").list_benchmarks(flt, None)
    expected = [b.name for b in _visible(plan.benchmarks, "admin") if keep(b)]
    assert [b.name for b in got if b.hash in _seed_hashes(plan)] == expected


async def test_pytupli_get_benchmark_keeps_serialized_out_unless_asked(pytupli_target: PytupliTarget) -> None:
    client = pytupli_target.client("admin")
    (listed,) = await client.list_benchmarks(eq("metadata.name", "cartpole-v1"), None)
    plain = await client.get_benchmark(listed.id, None)
    full = await client.get_benchmark(listed.id, None, include_serialized=True)
    assert plain == listed and plain.serialized is None
    assert full.serialized == pytupli_target.plan.benchmark("cartpole-v1").serialized
    assert list(full.published_in) == ["admin", "global", "team-ml", "robotics"]


async def test_pytupli_get_benchmarks_is_one_list_call_plus_loads_for_the_missing(
        pytupli_target: PytupliTarget) -> None:
    http = BackendHTTP("pytupli", pytupli_target.url)
    try:
        client = pytupli_target.client("admin", http=http)
        listed = await client.list_benchmarks(None, None)
        ids = [listed[3].id, listed[0].id, "0" * 32, listed[3].id, listed[7].id]
        http.stats.by_endpoint.clear()
        got = await client.get_benchmarks(ids, None)
        assert list(got) == [listed[3].id, listed[0].id, "0" * 32, listed[7].id]
        assert got[listed[0].id] == listed[0] and got[listed[7].id] == listed[7]
        missing = got["0" * 32]
        assert isinstance(missing, NotFoundError) and missing.message == "Benchmark not found"
        assert http.stats.by_endpoint["benchmarks/list"] == 1 and http.stats.by_endpoint["benchmarks/load"] == 1
        assert await client.get_benchmarks([], None) == {}
    finally:
        await http.close()


async def test_pytupli_get_benchmarks_per_id_errors_never_fail_neighbours(pytupli_target: PytupliTarget) -> None:
    everything = {b.name: b.id for b in await pytupli_target.client("admin").list_benchmarks(None, None)}
    private, public = everything["humanoidstandup-v5"], everything["taxi-v3"]
    got = await pytupli_target.client().get_benchmarks([private, public], await pytupli_target.token("alice"))
    assert isinstance(got[private], ForbiddenError) and got[public].name == "taxi-v3"  # type: ignore[union-attr]


async def test_pytupli_list_episodes_matches_the_seed_with_and_without_tuples(pytupli_target: PytupliTarget) -> None:
    plan = pytupli_target.plan
    client = pytupli_target.client("admin")
    (bench,) = await client.list_benchmarks(eq("metadata.name", "cartpole-v1"), None)
    expected = [e for e in _visible(plan.episodes, "admin") if e.benchmark == "cartpole-v1"]
    heads = await client.list_episodes(eq("benchmark_id", bench.id), None)
    full = await client.list_episodes(eq("benchmark_id", bench.id), None, include_tuples=True)
    assert len(heads) == len(full) == len(expected) > 0
    for head, item, seed in zip(heads, full, expected, strict=True):
        last = seed.tuples[-1]
        assert (head.n_tuples, head.terminated, head.timeout) == (len(seed.tuples), last["terminal"], last["timeout"])
        assert (dict(head.metadata), head.created_by, list(head.published_in)) == (seed.metadata, seed.owner,
                                                                                   _groups(seed))
        assert head.tuples is None and item.id == head.id
        assert [(t.state, t.action, t.reward, dict(t.info), t.terminal, t.timeout) for t in item.tuples or ()] == [
            (t["state"], t["action"], t["reward"], t["info"], t["terminal"], t["timeout"]) for t in seed.tuples]
    filtered = await client.list_episodes(and_(eq("benchmark_id", bench.id), geq("n_tuples", 6)), None)
    assert [e.id for e in filtered] == [e.id for e in heads if e.n_tuples >= 6]


async def test_pytupli_get_episodes_is_one_call_and_unknown_ids_are_not_found(pytupli_target: PytupliTarget) -> None:
    http = BackendHTTP("pytupli", pytupli_target.url)
    try:
        client = pytupli_target.client("admin", http=http)
        listed = await client.list_episodes(None, None)
        http.stats.by_endpoint.clear()
        got = await client.get_episodes([listed[5].id, "f" * 32, listed[1].id], None, include_tuples=True)
        assert dict(http.stats.by_endpoint) == {"episodes/list": 1}
        assert got[listed[5].id].id == listed[5].id and got[listed[5].id].tuples  # type: ignore[union-attr]
        assert isinstance(got["f" * 32], NotFoundError) and got["f" * 32].backend == "pytupli"
    finally:
        await http.close()


async def test_pytupli_list_artifacts_prefixes_metadata_and_keeps_publish_order(
        pytupli_target: PytupliTarget) -> None:
    plan = pytupli_target.plan
    client = pytupli_target.client("admin")
    seeded = {a.name for a in plan.artifacts}
    got = [a for a in await client.list_artifacts(None, None) if a.name in seeded]
    visible = {a.name for a in _visible(plan.artifacts, "admin")}
    assert [a.name for a in got] == [n for n in _artifact_order(plan) if n in visible]
    (bench,) = await client.list_benchmarks(eq("metadata.name", "cartpole-v1"), None)
    linked = await client.list_artifacts(eq("benchmark_id", bench.id), None)
    assert {a.name for a in linked} == {a.name for a in plan.artifacts if a.benchmark == "cartpole-v1"
                                        and a.name in visible}
    assert await client.list_artifacts(eq("metadata.name", got[0].name), None) == ()  # the server adds metadata.


async def test_pytupli_get_artifacts_and_download_agree(pytupli_target: PytupliTarget) -> None:
    plan = pytupli_target.plan
    client = pytupli_target.client("admin")
    listed = {a.name: a for a in await client.list_artifacts(None, None)}
    wanted = [listed[a.name].id for a in plan.artifacts[:6] if a.name in listed]
    got = await client.get_artifacts([*wanted, "e" * 32], None)
    assert isinstance(got.pop("e" * 32), NotFoundError) and list(got) == wanted
    for seed in plan.artifacts[:6]:
        if seed.name not in listed:
            continue
        data, meta = await client.download_artifact(listed[seed.name].id, None)
        assert data == seed.data and meta == listed[seed.name] == got[meta.id]
        assert meta.hash == hashlib.sha256(seed.data + seed.owner.encode()).hexdigest()
        assert (meta.encoding, meta.description, dict(meta.extra)) == ("utf-8", seed.description or None, seed.extra)


async def test_pytupli_download_wire_format(pytupli_target: PytupliTarget) -> None:
    client = pytupli_target.client("admin")
    listed = {a.name: a for a in await client.list_artifacts(None, None)}
    token = await pytupli_target.token("admin")
    for name, ctype in (("cartpole-v1-returns.csv", "text/csv; charset=utf-8"),
                        ("shared-01-policy.json", "application/json"),
                        ("model-03.bin", "application/octet-stream")):
        resp = await _raw(pytupli_target, "GET", f"artifacts/download?artifact_id={listed[name].id}", token=token,
                          headers={"Connection": "close"})  # the server drops the connection after a download
        assert resp.status == 200 and resp.headers["content-type"] == ctype
        assert resp.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert json.loads(resp.headers["x-metadata"])["id"] == listed[name].id


# ---------------------------------------------------------------------------------------------- not found, validation


async def test_pytupli_unknown_ids_are_not_found_with_the_backend_message(pytupli_target: PytupliTarget) -> None:
    client = pytupli_target.client("admin")
    cases = [
        (client.get_benchmark("nope", None), "Benchmark not found"),
        (client.download_artifact("nope", None), "Artifact does not exist"),
        (client.record_episode("nope", [{"state": [0], "action": 0, "reward": 0}], None), "Benchmark id doesn't exist"),
        (client.publish("benchmark", "nope", "global", None), "Benchmark does not exists"),  # sic
        (client.unpublish("benchmark", "nope", "global", None), "Benchmark does not exist"),
        (client.publish("episode", "nope", "global", None), "Referenced episode nope does not exist"),
        (client.unpublish("episode", "nope", "global", None), "Episode nope does not exist"),
        (client.publish("artifact", "nope", "global", None), "Artifact does not exist"),
    ]
    for call, message in cases:
        with pytest.raises(NotFoundError) as info:
            await call
        assert (info.value.message, info.value.backend, info.value.backend_code) == (message, "pytupli", "404")


async def test_pytupli_validation_errors_are_bad_user_input(pytupli_target: PytupliTarget) -> None:
    client = pytupli_target.client("admin")
    for bad in ({"type": "LIKE", "key": "metadata.name", "value": "c%"}, {"type": "EQ", "key": "id"},
                {"type": "IN", "key": "id", "value": "not-a-list"}):
        with pytest.raises(BadUserInputError):
            await client.list_benchmarks(bad, None)
    with pytest.raises(BadUserInputError, match="at least one tuple"):
        await client.record_episode("x", [], None)
    token = await pytupli_target.token("admin")
    resp = await _raw(pytupli_target, "POST", "benchmarks/list", token=token, body={"type": "LIKE", "key": "k",
                                                                                   "value": 1})
    expected = "'EQ', 'GEQ', 'LEQ', 'GT', 'LT', 'NE', 'IN', 'AND' or 'OR'"
    assert (resp.status, json.loads(resp.body)) == (422, {"detail": [{
        "type": "enum", "loc": ["body", "type"], "msg": f"Input should be {expected}", "input": "LIKE",
        "ctx": {"expected": expected}}]})
    resp = await _raw(pytupli_target, "POST", "benchmarks/create", token=token, body={"hash": "x", "serialized": "{}"})
    assert json.loads(resp.body) == {"detail": [{"type": "missing", "loc": ["body", "metadata"],
                                                 "msg": "Field required", "input": {"hash": "x", "serialized": "{}"}}]}
    resp = await _raw(pytupli_target, "GET", "benchmarks/load", token=token)
    assert (resp.status, json.loads(resp.body)) == (422, {"detail": [{
        "type": "missing", "loc": ["query", "benchmark_id"], "msg": "Field required", "input": None}]})
    resp = await _raw(pytupli_target, "POST", "episodes/record", token=token, body={
        "benchmark_id": "x", "metadata": {}, "tuples": [{"state": [0], "action": 0}]})
    assert json.loads(resp.body)["detail"][0]["loc"] == ["body", "tuples", 0, "reward"]


async def test_pytupli_known_500s_from_the_real_server(pytupli_target: PytupliTarget) -> None:
    token = await pytupli_target.token("admin")
    resp = await _raw(pytupli_target, "POST", "benchmarks/list", token=token,
                      body={"type": "IN", "key": "id", "value": "x"})
    assert resp.status == 500 and json.loads(resp.body)["detail"].startswith(
        "Failed to list benchmarks: $in must be followed by an array")
    (bench,) = await pytupli_target.client("admin").list_benchmarks(eq("metadata.name", "taxi-v3"), None)
    resp = await _raw(pytupli_target, "POST", "episodes/record", token=token,
                      body={"benchmark_id": bench.id, "metadata": {}, "tuples": []})
    assert resp.status == 500
    assert json.loads(resp.body) == {"detail": "Failed to record episode: list index out of range"}
    form = aiohttp.FormData()
    form.add_field("data", b"zz", filename="x.bin")
    form.add_field("metadata", "not-json")
    resp = await _raw(pytupli_target, "POST", "artifacts/upload", token=token, data=form,
                      headers={"Connection": "close"})  # an unhandled exception: uvicorn drops the connection
    assert (resp.status, resp.headers["content-type"], resp.body) == (
        500, "text/plain; charset=utf-8", b"Internal Server Error")


# ---------------------------------------------------------------------------------------------- writes and quirks


async def test_pytupli_benchmark_lifecycle_publish_unpublish_delete(pytupli_target: PytupliTarget) -> None:
    carol = await pytupli_target.token("carol")
    client, anon = pytupli_target.client("carol"), pytupli_target.client()
    made = await client.create_benchmark(f"contract-{uuid.uuid4().hex[:8]}", json.dumps({"env_id": "X"}), carol,
                                         difficulty="easy", version="2", extra={"k": [1, 2]})
    assert (made.created_by, made.published_in, made.version, dict(made.extra)) == ("carol", ("carol",), "2",
                                                                                   {"k": [1, 2]})
    with pytest.raises(BadUserInputError, match="Benchmark already exists"):
        await client.create_benchmark("again", json.dumps({"env_id": "X"}), carol)
    assert await client.publish("benchmark", made.id, "global", carol) is None
    await client.publish("benchmark", made.id, "global", carol)  # publishing twice changes nothing
    assert (await anon.get_benchmark(made.id, None)).published_in == ("carol", "global")
    with pytest.raises(ForbiddenError, match=r"group: global\. Required: benchmark_delete"):
        await client.unpublish("benchmark", made.id, "global", carol)  # owners lack delete rights in global
    with pytest.raises(ForbiddenError, match=r"group: carol\. Required: benchmark_delete"):
        await client.unpublish("benchmark", made.id, "carol", carol)  # ... and in their own group
    with pytest.raises(ForbiddenError):
        await client.publish("benchmark", made.id, "team-ml", carol)
    await client.unpublish("benchmark", made.id, "global", await pytupli_target.token("admin"))
    with pytest.raises(UnauthenticatedError):
        await anon.get_benchmark(made.id, None)
    await client.delete("benchmark", made.id, carol)
    with pytest.raises(NotFoundError):
        await client.get_benchmark(made.id, carol)
    await client.delete("benchmark", made.id, carol)  # a missing id: 200 null, never 404
    with pytest.raises(NotFoundError):
        await client.delete("benchmark", made.id, carol, must_exist=True)
    resp = await _raw(pytupli_target, "DELETE", f"benchmarks/delete?benchmark_id={made.id}",
                      token=await pytupli_target.token("admin"))
    assert (resp.status, resp.body) == (200, b"null")


async def test_pytupli_episode_lifecycle(pytupli_target: PytupliTarget) -> None:
    carol = await pytupli_target.token("carol")
    client = pytupli_target.client("carol")
    (bench,) = await client.list_benchmarks(eq("metadata.name", "taxi-v3"), carol)
    rows = [{"state": [0.0, 1.0], "action": 1, "reward": 0.5},
            {"state": [0.5, 1.0], "action": 0, "reward": 1.0, "info": {"k": "v"}, "timeout": True}]
    made = await client.record_episode(bench.id, rows, carol, metadata={"policy": "contract", "run": 1})
    assert (made.n_tuples, made.terminated, made.timeout, made.benchmark_id) == (2, False, True, bench.id)
    (again,) = (await client.get_episodes([made.id], carol, include_tuples=True)).values()
    assert again.tuples[1].info == {"k": "v"} and again.tuples[0].terminal is False  # type: ignore[union-attr]
    await client.publish("episode", made.id, "global", carol)
    assert made.id in {e.id for e in await pytupli_target.client().list_episodes(None, None)}
    await client.unpublish("episode", made.id, "global", await pytupli_target.token("admin"))
    assert made.id not in {e.id for e in await pytupli_target.client().list_episodes(None, None)}
    await client.delete("episode", made.id, carol)
    assert isinstance((await client.get_episodes([made.id], carol))[made.id], NotFoundError)
    await client.delete("episode", made.id, carol)


async def test_pytupli_artifact_lifecycle_dedup_and_reorder(pytupli_target: PytupliTarget) -> None:
    carol = await pytupli_target.token("carol")
    client = pytupli_target.client("carol")
    content = f"step,reward\n1,{uuid.uuid4().int % 1000}\n".encode()
    made = await client.upload_artifact(content, "contract.csv", carol, description="first", extra={"rows": 1})
    dup = await client.upload_artifact(content, "renamed.csv", carol)
    assert dup == made and dup.name == "contract.csv"  # deduplicated: the EXISTING metadata, old name included
    other = await client.upload_artifact(content + b"2,1\n", "second.bin", carol)
    mine = [a.id for a in await client.list_artifacts(None, carol) if a.created_by == "carol"]
    assert mine[-2:] == [made.id, other.id]
    await client.publish("artifact", made.id, "global", carol)
    mine = [a.id for a in await client.list_artifacts(None, carol) if a.created_by == "carol"]
    assert mine[-2:] == [other.id, made.id]  # a publish re-stores the file: it moves to the end
    for _ in range(3):  # each download drops its connection server-side: the next calls must not reuse it
        data, meta = await pytupli_target.client().download_artifact(made.id, None)
        await client.publish("artifact", made.id, "global", carol)
    assert data == content and meta.published_in == ("carol", "global")
    for artifact_id in (made.id, other.id):
        await client.delete("artifact", artifact_id, carol)
    await client.delete("artifact", made.id, carol)
    with pytest.raises(NotFoundError, match="Artifact does not exist"):
        await client.download_artifact(made.id, carol)
