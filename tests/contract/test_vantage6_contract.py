"""One contract suite, run against the vantage6 emulator AND the real vantage6-server 4.15.2 on 127.0.0.1.

Every test asserts the same behaviour through ``Vantage6Client`` (and raw HTTP where the wire format itself is
the point): that is what proves the emulator speaks the real wire format. Reads come first; the writes at the
end create their own tasks (named ``contract-*``) and never touch the seeded ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from adapters.records.vantage6 import Vantage6RunRecord
from adapters.vantage6.admin import Vantage6Admin
from adapters.vantage6.emulator_data import USERS
from gateway.errors import (
    BackendError,
    BadUserInputError,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)

if TYPE_CHECKING:
    from tests.backends.vantage6_fixtures import Vantage6Target

pytest_plugins = ["tests.backends.vantage6_fixtures"]

ALICE = USERS["alice"]
NAIVE_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$")


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def raw(http: aiohttp.ClientSession, target: Vantage6Target, method: str, path: str, *,
              token: str | None = None, body: Any = None, data: bytes | None = None,
              ctype: str | None = None) -> tuple[int, Any, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if ctype:
        headers["Content-Type"] = ctype
    async with http.request(method, f"{target.url}/{path}", json=body, data=data, headers=headers) as resp:
        return resp.status, resp.headers, await resp.read()


def assert_v6(exc: GatewayError, code: str, status: int, message: str) -> None:
    assert exc.code == code, exc
    assert exc.backend == "vantage6"
    assert exc.backend_code == str(status)
    assert message in exc.message, exc.message


# ------------------------------------------------------------------------------------------------ seed, auth


async def test_seed_ids_follow_one_sequence_for_users_and_nodes(vantage6_target: Vantage6Target) -> None:
    seed = vantage6_target.seed
    assert seed.nodes[("Org A", "collab-1")] == 2  # root is 1: nodes and users share the authenticatable ids
    assert seed.users == {"alice": 23, "bob": 24, "carol": 25}
    assert (seed.organizations["Org A"], seed.collaborations["collab-2"], seed.tasks[30]) == (2, 2, 30)
    async with vantage6_target.client() as client:
        assert await client.get_version() == "4.15.2"


async def test_login_then_refresh_gives_a_working_pair(vantage6_target: Vantage6Target) -> None:
    async with vantage6_target.client() as client:
        refreshed = await client.refresh(vantage6_target.refresh_tokens["alice"])
        assert refreshed.identity_url == "/api/user/23" and refreshed.refresh_token
        assert "token" not in repr(refreshed).lower().replace("tokenpair", "")
        page = await client.list_organizations(1, 10, refreshed.access_token)
        assert page.total == 3


async def test_wrong_password_and_unknown_node_key_are_unauthenticated(vantage6_target: Vantage6Target) -> None:
    async with vantage6_target.client() as client:
        with pytest.raises(UnauthenticatedError) as exc:
            await client.login("nobody", "Wrong-Passw0rd!")
        assert_v6(exc.value, "UNAUTHENTICATED", 401, "Failed to login")
        with pytest.raises(UnauthenticatedError) as exc:
            await Vantage6Admin(client).node_login("00000000-0000-0000-0000-000000000000")
        assert_v6(exc.value, "UNAUTHENTICATED", 401, "Api key is not recognized!")
        with pytest.raises(BadUserInputError) as bad:
            await client.request_json("POST", "token/user", endpoint="token/user", credential=None,
                                      json={"username": "root"}, anonymous=True)
        assert_v6(bad.value, "BAD_USER_INPUT", 400, "password: Missing data for required field.")


async def test_missing_garbage_and_refresh_tokens_are_unauthenticated(
    vantage6_target: Vantage6Target, http: aiohttp.ClientSession,
) -> None:
    async with vantage6_target.client() as client:
        with pytest.raises(UnauthenticatedError) as exc:
            await client.list_organizations()
        assert_v6(exc.value, "UNAUTHENTICATED", 401, "Missing Authorization Header")
        with pytest.raises(UnauthenticatedError) as exc:
            await client.list_organizations(credential="garbage")
        assert_v6(exc.value, "UNAUTHENTICATED", 422, "Not enough segments")
        assert "garbage" not in str(exc.value) and "garbage" not in repr(exc.value)
        refresh = vantage6_target.refresh_tokens["alice"]
        with pytest.raises(UnauthenticatedError) as exc:
            await client.get_task(vantage6_target.task(1), refresh)
        assert_v6(exc.value, "UNAUTHENTICATED", 422, "Only non-refresh tokens are allowed")
        assert refresh not in str(exc.value)
        with pytest.raises(UnauthenticatedError) as exc:
            await client.refresh(vantage6_target.tokens["alice"])
        assert_v6(exc.value, "UNAUTHENTICATED", 422, "Only refresh tokens are allowed")
    status, _, body = await raw(http, vantage6_target, "GET", "organization", token="t7e3.eyJ9.c2ln")
    assert (status, body) == (422, b'{"msg":"Invalid header string: \'utf-8\' codec can\'t decode byte 0xb7 in '
                                   b'position 0: invalid start byte"}\n')
    status, headers, body = await raw(http, vantage6_target, "GET", "organization")
    assert (status, headers["Content-Type"], body) == (401, "application/json",
                                                       b'{"msg":"Missing Authorization Header"}\n')
    status, _, body = await raw(http, vantage6_target, "GET", "organization", token="a.b.c")
    assert (status, body) == (422, b'{"msg":"Invalid header padding"}\n')


async def test_service_account_logs_in_once_then_refreshes(vantage6_target: Vantage6Target) -> None:
    # a margin longer than the 6 h token lifetime makes every use a renewal through the refresh token
    async with vantage6_target.client(username="root", password="root", token_margin=7 * 3600) as client:
        first = await client.list_organizations(1, 5)
        second = await client.list_collaborations(1, 5)
        service = client.service_token
        assert service is not None and (service.logins, service.refreshes) == (1, 1)
        assert (first.total, second.total) == (23, 22)
        assert "root" not in repr(client)


async def test_caller_token_wins_over_service_account_and_static_token(vantage6_target: Vantage6Target) -> None:
    alice = vantage6_target.tokens["alice"]
    async with vantage6_target.client(username="root", password="root") as client:
        page = await client.list_organizations(1, 50, alice)
        assert [o.name for o in page.items] == ["Org A", "Org B", "Org C"]
        assert client.service_token is not None and client.service_token.logins == 0
    async with vantage6_target.client(token=vantage6_target.tokens["bob"]) as client:
        page = await client.list_collaborations(1, 10)
        assert [c.name for c in page.items] == ["collab-1"]


async def test_valid_token_without_permission_is_forbidden(vantage6_target: Vantage6Target) -> None:
    tokens = vantage6_target.tokens
    async with vantage6_target.client() as client:
        with pytest.raises(ForbiddenError) as exc:
            await client.get_organization(1, tokens["alice"])
        assert_v6(exc.value, "FORBIDDEN", 401, "You do not have permission to do that!")
        with pytest.raises(ForbiddenError) as exc:
            await client.get_collaboration(vantage6_target.collab("collab-2"), tokens["bob"])
        assert_v6(exc.value, "FORBIDDEN", 401, "You lack the permission to do that!")
        with pytest.raises(ForbiddenError) as exc:
            await client.list_collaborations(1, 10, tokens["alice"], organization_id=vantage6_target.org("Org C"))
        assert_v6(exc.value, "FORBIDDEN", 401, "You lack the permission to request collaborations for this")
        with pytest.raises(ForbiddenError):
            await Vantage6Admin(client).create_organization("Org Z", credential=tokens["alice"])


# ------------------------------------------------------------------------------------------------ reads, lists


async def test_organizations_page_with_total_and_past_the_end(vantage6_target: Vantage6Target) -> None:
    root = vantage6_target.tokens["root"]
    async with vantage6_target.client() as client:
        first = await client.list_organizations(1, 10, root)
        assert (first.total, len(first.items), first.has_next) == (23, 10, True)
        assert first.items[0].name == "root" and first.items[0].country is None
        org_a = first.items[1]
        assert (org_a.name, org_a.country, org_a.domain, org_a.address1, org_a.zipcode, org_a.address2) == (
            "Org A", "NL", "a.example", "Street 1", "1234AB", None)
        last = await client.list_organizations(3, 10, root)
        assert (len(last.items), last.has_next) == (3, False)
        past = await client.list_organizations(9, 10, root)
        assert (past.items, past.total, past.has_next) == ((), 23, False)
        in_collab = await client.list_organizations(1, 10, root, collaboration_id=vantage6_target.collab("collab-2"))
        assert [o.name for o in in_collab.items] == ["Org A", "Org B"]


async def test_collaborations_carry_member_ids(vantage6_target: Vantage6Target) -> None:
    async with vantage6_target.client() as client:
        page = await client.list_collaborations(1, 30, vantage6_target.tokens["root"])
        assert page.total == 22 and not page.has_next
        c1 = page.items[0]
        assert (c1.name, c1.encrypted, c1.organization_ids) == ("collab-1", False, (2, 3, 4))
        mine = await client.list_collaborations(1, 10, vantage6_target.tokens["alice"],
                                                organization_id=vantage6_target.org("Org A"))
        assert [(c.name, c.organization_ids) for c in mine.items] == [("collab-1", (2, 3, 4)), ("collab-2", (2, 3))]


async def test_nodes_list_and_records(vantage6_target: Vantage6Target) -> None:
    async with vantage6_target.client() as client:
        page = await client.list_nodes(1, 10, vantage6_target.tokens["alice"],
                                       collaboration_id=vantage6_target.collab("collab-1"))
        assert page.total == 3
        assert [(n.name, n.organization_id, n.collaboration_id, n.status) for n in page.items] == [
            ("node-a", 2, 1, "offline"), ("Org B - collab-1 Node", 3, 1, "offline"), ("node-c", 4, 1, "offline")]
        assert all(isinstance(n.last_seen_at, dt.datetime) and n.last_seen_at.tzinfo is None for n in page.items)
        everything = await client.list_nodes(1, 20, vantage6_target.tokens["root"])
        assert (everything.total, len(everything.items), everything.has_next) == (21, 20, True)


async def test_tasks_newest_first_with_filters_and_statuses(vantage6_target: Vantage6Target) -> None:
    alice = vantage6_target.tokens["alice"]
    collab2 = vantage6_target.collab("collab-2")
    async with vantage6_target.client() as client:
        page = await client.list_tasks(1, 4, alice, collaboration_id=collab2)
        assert [t.id for t in page.items] == [30, 27, 24, 21] and page.total == 10 and page.has_next
        assert all(t.collaboration_id == collab2 for t in page.items)
        ascending = await client.list_tasks(1, 4, alice, collaboration_id=collab2, sort="id")
        assert [t.id for t in ascending.items] == [30, 27, 24, 21]  # vantage6 orders by id desc before any sort
        by_carol = await client.list_tasks(1, 50, alice, init_org_id=vantage6_target.org("Org B"))
        assert [t.id for t in by_carol.items if t.id <= 30] == [28, 24, 20, 16, 12, 8, 4]
        crashed = await client.list_tasks(1, 10, alice, status="crashed")
        assert [t.id for t in crashed.items] == [5] and crashed.total == 1
        failed_to_start = await client.list_tasks(1, 10, alice, status="start_failed")
        assert [t.id for t in failed_to_start.items] == [9]
        t9, t12, t16, t21, t25 = (await client.get_tasks([9, 12, 16, 21, 25], alice)).values()
    assert [t.status for t in (t9, t12, t16, t21, t25)] == [  # type: ignore[union-attr]
        "start_failed", "non_existing_docker_image", "failed", "killed_by_user", "active"]


async def test_task_record_fields_are_normalized(vantage6_target: Vantage6Target) -> None:
    async with vantage6_target.client() as client:
        task = await client.get_task(vantage6_target.task(1), vantage6_target.tokens["alice"])
        assert (task.name, task.image, task.status) == ("kaplan-meier-1", "harbor2.vantage6.ai/demo/kaplan-meier",
                                                      "completed")
        assert (task.init_org_id, task.init_user_id, task.collaboration_id, task.parent_id, task.databases) == (
            2, 23, 1, None, ("default",))
        assert isinstance(task.created_at, dt.datetime) and task.created_at.tzinfo is None
        assert isinstance(task.finished_at, dt.datetime) and task.finished_at > task.created_at
        no_db = await client.get_task(vantage6_target.task(7), vantage6_target.tokens["alice"])
        assert no_db.databases == () and no_db.finished_at is not None
        pending = await client.get_task(vantage6_target.task(28), vantage6_target.tokens["alice"])
        assert (pending.status, pending.finished_at) == ("pending", None)
        assert await client.get_task_status(vantage6_target.task(9), vantage6_target.tokens["alice"]) == "start_failed"


async def test_runs_and_results_decode_json_and_keep_binary_raw(vantage6_target: Vantage6Target) -> None:
    alice = vantage6_target.tokens["alice"]
    async with vantage6_target.client() as client:
        by_task = await client.get_runs_for_tasks([14, 16], alice, include_results=True)
        runs14 = by_task[14]
        assert isinstance(runs14, tuple) and [r.organization_id for r in runs14] == [4, 3, 2]
        binary = next(r for r in runs14 if r.organization_id == 2)
        assert binary.result and binary.result_decoded is None and binary.status == "completed"
        decoded = next(r for r in runs14 if r.organization_id == 3)
        assert decoded.result_decoded["organization"] == "Org B" and decoded.log == "ok"
        assert json.loads(base64.b64decode(decoded.input or "")) == {"method": "partial_summary",
                                                                     "kwargs": {"column": "systolic_bp"}}
        runs16 = {r.organization_id: r for r in by_task[16]}  # type: ignore[union-attr]
        assert (runs16[2].status, runs16[2].log) == ("crashed", "Traceback ...\nValueError: empty cohort")
        assert runs16[3].status == "failed" and runs16[3].started_at is None  # vantage6's fail-fast of siblings
        assert runs16[3].log == f"Marked as failed because sibling run id={runs16[2].id} failed with status 'crashed'."
        results = await client.list_results(1, 10, alice, task_id=14)
        assert results.total == 3 and {r.run_id for r in results.items} == {r.id for r in runs14}
        one = await client.get_result(binary.id, alice)
        assert (one.task_id, one.decoded, one.result) == (14, None, binary.result)
        run = await client.get_run(binary.id, alice)
        assert (run.node_id, run.result_id, run.result) == (2, binary.id, None)


async def test_runs_for_twenty_tasks_cost_one_call_each_kind(vantage6_target: Vantage6Target) -> None:
    alice = vantage6_target.tokens["alice"]
    newest = [vantage6_target.task(k) for k in range(11, 31)]
    async with vantage6_target.client() as client:
        if vantage6_target.emulator:
            vantage6_target.emulator.state.reset_calls()
        runs = await client.get_runs_for_tasks(newest, alice)
        results = await client.get_results_for_tasks(newest, alice)
        assert client.http.stats.calls == 2
        assert sum(len(v) for v in runs.values() if isinstance(v, tuple)) == 7 * 2 + 13 * 3
        if vantage6_target.emulator:
            assert vantage6_target.emulator.state.count("run", "GET") == 1
            assert vantage6_target.emulator.state.count("result", "GET") == 1
        for key in (11, 21, 30):
            single = await client.list_runs(1, 50, alice, task_id=vantage6_target.task(key))
            assert runs[vantage6_target.task(key)] == single.items
            assert [r.run_id for r in results[vantage6_target.task(key)]] == [r.id for r in single.items]  # type: ignore[union-attr]


async def test_runs_scan_is_scoped_and_falls_back_per_task(vantage6_target: Vantage6Target) -> None:
    alice = vantage6_target.tokens["alice"]
    collab2 = vantage6_target.collab("collab-2")
    wanted = [3, 6, 9, 12]
    async with vantage6_target.client(scan_per_page=4, scan_max_pages=1) as client:
        if vantage6_target.emulator:
            vantage6_target.emulator.state.reset_calls()
        scope = {t: collab2 for t in [0, *wanted, 999]}
        runs = await client.get_runs_for_tasks([0, *wanted, 999], alice, collaboration_of=scope)
        assert client.http.stats.calls == 1 + 5  # one scan page (budget spent), then one call per unsettled task
        assert runs[999] == ()  # newer than every run scanned: settled, without runs
        assert isinstance(runs[0], NotFoundError) and "Task id=0 does not exist!" in runs[0].message
        for task in wanted:
            assert [r.organization_id for r in runs[task]] == [3, 2]  # type: ignore[union-attr]
        if vantage6_target.emulator:
            scans = [c for c in vantage6_target.emulator.state.calls if ("task_id", "3") not in c.query]
            assert ("collaboration_id", str(collab2)) in scans[0].query


async def test_batch_getters_use_the_ids_filter_or_fan_out(vantage6_target: Vantage6Target) -> None:
    alice = vantage6_target.tokens["alice"]
    async with vantage6_target.client() as client:
        orgs = await client.get_organizations([2, 3, 4, 1, 999, 3], alice)
        assert client.http.stats.calls == 3  # one ids= call, then the two missing ids one by one
        assert [orgs[i].name for i in (2, 3, 4)] == ["Org A", "Org B", "Org C"]  # type: ignore[union-attr]
        assert isinstance(orgs[1], ForbiddenError) and isinstance(orgs[999], NotFoundError)
        collabs = await client.get_collaborations([1, 2, 99], alice)
        assert collabs[2].organization_ids == (2, 3)  # type: ignore[union-attr]
        assert_v6(collabs[99], "NOT_FOUND", 404, "collaboration having id=99 not found")  # type: ignore[arg-type]
        nodes = await client.get_nodes([2, 1], alice)
        assert nodes[2].name == "node-a"  # type: ignore[union-attr]
        assert_v6(nodes[1], "NOT_FOUND", 404, "Node id=1 is not found!")  # type: ignore[arg-type]
        tasks = await client.get_tasks([1, 999], alice)
        assert_v6(tasks[999], "NOT_FOUND", 404, "task id=999 is not found")  # type: ignore[arg-type]
        with pytest.raises(NotFoundError) as exc:
            await client.get_run(9999, alice)
        assert_v6(exc.value, "NOT_FOUND", 404, "Run id=9999 not found!")


async def test_bad_arguments_are_bad_user_input(vantage6_target: Vantage6Target) -> None:
    alice = vantage6_target.tokens["alice"]
    async with vantage6_target.client() as client:
        with pytest.raises(BadUserInputError) as exc:
            await client.list_tasks(1, 10, alice, sort="bogus")
        assert_v6(exc.value, "BAD_USER_INPUT", 500, "Cannot sort a 'Task' by 'bogus' because it does not exist")
        with pytest.raises(BadUserInputError):
            await client.list_organizations(0, 10, alice)
        assert client.http.stats.calls == 1  # page=0 is refused before any call
        with pytest.raises(BadUserInputError) as exc:
            await client.create_task(vantage6_target.collab("collab-2"), [{"id": vantage6_target.org("Org C")}],
                                     "img", credential=alice)
        assert_v6(exc.value, "BAD_USER_INPUT", 400, "At least one of the supplied organizations in not within")


async def test_wire_quirks(vantage6_target: Vantage6Target, http: aiohttp.ClientSession) -> None:
    root, alice = vantage6_target.tokens["root"], vantage6_target.tokens["alice"]
    status, headers, body = await raw(http, vantage6_target, "GET", "organization?page=1&per_page=2", token=root)
    assert (status, headers["total-count"], headers["access-control-expose-headers"]) == (200, "23",
                                                                                         "total-count, Link")
    assert headers["Link"].startswith("</api/organization?page=1&per_page=2>; rel=first,")
    assert json.loads(body)["links"]["last"] == "/api/organization?page=12&per_page=2"
    for query, message in (("page=0", "page needs to be >= 1"), ("sort=bogus", "Cannot sort a 'Organization' by "
                           "'bogus' because it does not exist"),
                           ("per_page=abc", "invalid literal for int() with base 10: 'abc'")):
        status, _, body = await raw(http, vantage6_target, "GET", f"organization?{query}", token=root)
        assert (status, json.loads(body)) == (500, {"msg": message})
    status, _, body = await raw(http, vantage6_target, "GET", "task?status=pending", token=alice)
    assert (status, body) == (500, b'{"msg":"An unexpected error occurred on the server!"}\n')
    status, headers, body = await raw(http, vantage6_target, "GET", "nope", token=alice)
    assert (status, headers["Content-Type"]) == (404, "text/html; charset=utf-8") and b"<title>404" in body
    status, _, body = await raw(http, vantage6_target, "PUT", "organization/2", token=alice, body={})
    assert (status, body) == (405, b'{"message": "The method is not allowed for the requested URL."}')
    status, _, body = await raw(http, vantage6_target, "POST", "organization", token=root, data=b"not-json",
                                ctype="application/json")
    assert status == 400 and json.loads(body) == {
        "message": "The browser (or proxy) sent a request that this server could not understand."}
    status, _, body = await raw(http, vantage6_target, "POST", "user", token=root, body={
        "username": "dave", "email": "dave@a.example", "password": "Dave-Passw0rd!", "organization_id": 2})
    assert (status, json.loads(body)) == (500, {"msg": "An unexpected error occurred: 'firstname'"})
    status, _, body = await raw(http, vantage6_target, "GET", f"run?task_id={vantage6_target.task(2)}", token=alice)
    runs = json.loads(body)["data"]
    assert len({r["assigned_at"] for r in runs}) == 1  # assigned_at: the server's start time, for every run
    assert all(NAIVE_TS.match(r["started_at"]) and len(r["started_at"]) == 19 for r in runs)  # zero microseconds
    odd = json.loads((await raw(http, vantage6_target, "GET", f"run?task_id={vantage6_target.task(1)}",
                                token=alice))[2])["data"]
    assert all(NAIVE_TS.match(r["started_at"]) and len(r["started_at"]) == 26 for r in odd)
    assert sorted(r["results"]["methods"] for r in runs)[0] == ["GET", "PATCH"]
    assert {tuple(sorted(r["organization"]["methods"])) for r in runs} == {("DELETE", "GET", "PATCH")}
    task = json.loads((await raw(http, vantage6_target, "GET", "task/1", token=alice))[2])
    assert NAIVE_TS.match(task["created_at"]) and not task["created_at"].endswith("Z")


# ------------------------------------------------------------------------------------------------ writes


async def _new_task(target: Vantage6Target, client: Any, name: str, orgs: tuple[str, ...] = ("Org A", "Org B")) -> Any:
    return await client.create_task(
        target.collab("collab-1"), [{"id": target.org(o), "input": {"method": "count"}} for o in orgs],
        "harbor2.vantage6.ai/demo/average", name=name, description="contract test", databases=["default"],
        credential=target.tokens["alice"])


async def test_admin_writes_quirks(vantage6_target: Vantage6Target, http: aiohttp.ClientSession) -> None:
    root = vantage6_target.tokens["root"]
    extra = vantage6_target.org("Maastricht Clinic")
    status, _, body = await raw(http, vantage6_target, "POST", "collaboration", token=root,
                                body={"name": "contract-collab", "organization_ids": [extra, 999], "encrypted": False})
    created = json.loads(body)
    assert status == 200 and created["organizations"] == f"/api/organization?collaboration_id={created['id']}"
    async with vantage6_target.client() as client:
        collab = await client.get_collaboration(created["id"], root)
        assert collab.organization_ids == (extra,)  # the unknown organization id was dropped silently
        admin = Vantage6Admin(client)
        node, api_key = await admin.create_node(collab.id, extra, credential=root)
        assert node.name == "Maastricht Clinic - contract-collab Node" and node.status == "offline"
        assert re.fullmatch(r"[0-9a-f-]{36}", api_key) and "api_key" not in node.raw_extra
        status, _, body = await raw(http, vantage6_target, "GET", f"node/{node.id}", token=root)
        assert status == 200 and "api_key" not in json.loads(body)
        with pytest.raises(BadUserInputError) as exc:
            await admin.create_node(collab.id, extra, credential=root)
        assert_v6(exc.value, "BAD_USER_INPUT", 400, f"Organization id={extra} already has a node for collaboration")


async def test_create_task_then_finish_runs_as_the_nodes(vantage6_target: Vantage6Target) -> None:
    target = vantage6_target
    alice = target.tokens["alice"]
    async with target.client() as client:
        task = await _new_task(target, client, "contract-finish")
        assert (task.status, task.init_user_id, task.databases, task.finished_at) == ("pending", 23, ("default",), None)
        runs = (await client.get_runs_for_tasks([task.id], alice))[task.id]
        assert isinstance(runs, tuple) and len(runs) == 2
        admin = Vantage6Admin(client)
        by_org = {r.organization_id: r for r in runs}
        start = dt.datetime(2026, 5, 1, 12, 0, 0)
        for org, where in ((2, ("Org A", "collab-1")), (3, ("Org B", "collab-1"))):
            token = target.node_tokens[where]
            active = await admin.patch_run(by_org[org].id, node_token=token, status="active", started_at=start)
            assert (active.status, active.started_at) == ("active", start)
            done = await admin.patch_run(by_org[org].id, node_token=token, status="completed", log="ok",
                                         finished_at=start + dt.timedelta(seconds=4, microseconds=250_000),
                                         result={"count": org * 10})
            assert (done.status, done.finished_at.microsecond) == ("completed", 250_000)  # type: ignore[union-attr]
        assert await client.get_task_status(task.id, alice) == "completed"
        finished: tuple[Vantage6RunRecord, ...] = (await client.get_runs_for_tasks(
            [task.id], alice, include_results=True))[task.id]  # type: ignore[assignment]
        assert sorted(r.result_decoded["count"] for r in finished) == [20, 30]
        with pytest.raises(BadUserInputError) as exc:
            await admin.patch_run(by_org[2].id, node_token=target.node_tokens[("Org A", "collab-1")],
                                  status="failed")
        assert_v6(exc.value, "BAD_USER_INPUT", 400, "Cannot update an already finished algorithm run!")


async def test_node_patch_rules(vantage6_target: Vantage6Target) -> None:
    target = vantage6_target
    async with target.client() as client:
        task = await _new_task(target, client, "contract-patch-rules", ("Org A", "Org B", "Org C"))
        runs = {r.organization_id: r for r in (await client.get_runs_for_tasks([task.id], target.tokens["alice"]))[
            task.id]}  # type: ignore[union-attr]
        admin = Vantage6Admin(client)
        node_a = target.node_tokens[("Org A", "collab-1")]
        with pytest.raises(ForbiddenError) as exc:
            await admin.patch_run(runs[3].id, node_token=node_a, status="active")
        assert_v6(exc.value, "FORBIDDEN", 401, "This is not your algorithm run to PATCH!")
        with pytest.raises(BackendError) as err:  # datetimes without microseconds: vantage6 answers 500
            await admin.patch_run(runs[2].id, node_token=node_a, status="active", started_at="2026-05-01T12:00:00")
        assert_v6(err.value, "BACKEND_ERROR", 500, "An unexpected error occurred on the server!")
        with pytest.raises(BackendError):  # a user token on the node-only PATCH: 500 upstream
            await admin.patch_run(runs[2].id, node_token=target.tokens["alice"], status="active")
        with pytest.raises(BadUserInputError) as exc:
            await admin.patch_run(runs[2].id, node_token=node_a, status="bogus")
        assert "Must be one of: pending, initializing" in exc.value.message
        await admin.patch_run(runs[2].id, node_token=node_a, status="crashed", log="boom",
                              started_at=dt.datetime(2026, 5, 1, 12), finished_at=dt.datetime(2026, 5, 1, 12, 1))
        after = {r.organization_id: r for r in (await client.get_runs_for_tasks([task.id], target.tokens["alice"]))[
            task.id]}  # type: ignore[union-attr]
        assert [after[o].status for o in (2, 3, 4)] == ["crashed", "failed", "failed"]
        assert (await client.get_task(task.id, target.tokens["alice"])).status == "failed"


async def test_kill_and_delete_task(vantage6_target: Vantage6Target) -> None:
    target = vantage6_target
    tokens = target.tokens
    async with target.client() as client:
        task = await _new_task(target, client, "contract-kill")
        with pytest.raises(ForbiddenError) as exc:  # Researchers may not send the kill event
            await client.kill_task(task.id, tokens["alice"])
        assert_v6(exc.value, "FORBIDDEN", 401, "You lack the permission to do that!")
        message = await client.kill_task(task.id, tokens["carol"])
        assert message == f"Nodes have been instructed to kill any containers running for task {task.id}."
        killed = await client.get_task(task.id, tokens["alice"])
        assert killed.status == "killed_by_user"
        runs = (await client.get_runs_for_tasks([task.id], tokens["alice"]))[task.id]
        assert {r.status for r in runs} == {"killed_by_user"}  # type: ignore[union-attr]
        assert all(r.finished_at is not None for r in runs)  # type: ignore[union-attr]
        with pytest.raises(BadUserInputError) as exc:
            await client.kill_task(task.id, tokens["carol"])
        assert_v6(exc.value, "BAD_USER_INPUT", 400, "already finished with status 'killed by user'")
        with pytest.raises(ForbiddenError):
            await client.delete_task(task.id, tokens["bob"])
        message = await client.delete_task(task.id, tokens["alice"])
        assert message == f"task id={task.id} and its algorithm run data have been successfully deleted"
        with pytest.raises(NotFoundError) as exc:
            await client.delete_task(task.id, tokens["alice"])
        assert_v6(exc.value, "NOT_FOUND", 404, f"Task id={task.id} not found")
        gone = await client.get_tasks([task.id], tokens["alice"])
        assert isinstance(gone[task.id], NotFoundError)


async def test_create_task_refusals(vantage6_target: Vantage6Target) -> None:
    target = vantage6_target
    tokens = target.tokens
    async with target.client() as client:
        with pytest.raises(ForbiddenError) as exc:  # a Viewer
            await client.create_task(target.collab("collab-1"), [{"id": 2, "input": {}}], "img",
                                     credential=tokens["bob"])
        assert_v6(exc.value, "FORBIDDEN", 401, "You lack the permission to do that!")
        with pytest.raises(ForbiddenError) as exc:  # root's organization is in no collaboration
            await client.create_task(target.collab("collab-1"), [{"id": 2, "input": {}}], "img",
                                     credential=tokens["root"])
        assert_v6(exc.value, "FORBIDDEN", 401, "You can only create tasks for collaborations you are participating")
        with pytest.raises(NotFoundError) as exc:
            await client.create_task(77, [{"id": 2, "input": {}}], "img", credential=tokens["alice"])
        assert_v6(exc.value, "NOT_FOUND", 404, "Collaboration id=77 not found!")
        with pytest.raises(BackendError) as err:  # input that is not base64: vantage6's 500
            await client.create_task(target.collab("collab-1"), [{"id": 2, "input": '{"method":"x"}'}], "img",
                                     credential=tokens["alice"])
        assert_v6(err.value, "BACKEND_ERROR", 500, "An unexpected error occurred on the server!")
        with pytest.raises(BadUserInputError) as exc:
            await client.create_task(target.collab("collab-1"), [{"id": 2, "input": b"\xff\xfe"}], "img",
                                     credential=tokens["alice"])
        assert_v6(exc.value, "BAD_USER_INPUT", 400, "Your task's input cannot be parsed.")
