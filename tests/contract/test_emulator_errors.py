"""The emulator's error codes, auth rules, mutations, faults and knobs behave like the real OpenML v1 server."""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from xml.parsers.expat import ExpatError

import aiohttp
import pytest
import pytest_asyncio

from adapters.openml_v1.emulator import EMULATOR_STATE, EmulatorConfig, RunningEmulator, create_app, start_emulator
from adapters.openml_v1.emulator_data import Store

OML = "{http://openml.org/openml}"
ALICE, BOB, ADMIN = "demo-key-alice", "demo-key-bob", "demo-key-admin"


@pytest_asyncio.fixture(scope="module")
async def emu():
    running = await start_emulator(EmulatorConfig())
    yield running
    await running.close()


@pytest_asyncio.fixture(scope="module")
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture(autouse=True)
async def _clean_faults(emu):
    yield
    emu.state.clear_faults()
    emu.state.latency_ms = 0.0


async def call(http: aiohttp.ClientSession, emu: RunningEmulator, method: str, path: str,
               params: dict[str, str] | None = None, data: object = None) -> tuple[int, bytes]:
    async with http.request(method, f"{emu.url}/{path}", params=params, data=data) as resp:
        return resp.status, await resp.read()


def assert_error(status: int, body: bytes, code: int, http_status: int = 412) -> ET.Element:
    assert status == http_status, body[:300]
    root = ET.fromstring(body)
    assert root.tag == f"{OML}error"
    assert root.find(f"{OML}code").text == str(code)
    assert root.find(f"{OML}message").text
    return root


def tags_of(body: bytes) -> list[str]:
    return [t.text for t in ET.fromstring(body).iter(f"{OML}tag")]


def _plain_run(store: Store) -> int:
    return next(r for r in store.runs_by_task[31] if not store.run(r).error
                and "GridSearchCV" not in store.flows[store.run(r).flow].name)


# ---- read errors ---------------------------------------------------------------------------------------------

UNKNOWN = [("data/999999", 111), ("task/999999", 151), ("flow/999999", 181), ("run/99999999", 236),
           ("setup/99999999", 281), ("study/99999", 601), ("data/features/999999", 271),
           ("data/qualities/999999", 361), ("run/trace/99999999", 571), ("foo/1", 100), ("data/foo/bar", 100)]


@pytest.mark.parametrize(("path", "code"), UNKNOWN, ids=[u[0] for u in UNKNOWN])
async def test_unknown_ids_and_functions(emu, http, path, code):
    assert_error(*await call(http, emu, "GET", path), code)


async def test_trace_absent_for_runs_without_search(emu, http):
    assert_error(*await call(http, emu, "GET", f"run/trace/{_plain_run(emu.state.store)}"), 572)


NO_RESULTS = [("data/list/data_name/no_such_dataset", 372), ("task/list/data_name/no_such_dataset", 482),
              ("flow/list/uploader/999999", 500), ("run/list/uploader/999999", 512),
              ("evaluation/list/function/predictive_accuracy/uploader/999999", 542),
              ("setup/list/flow/999999", 674), ("study/list/uploader/999999", 599)]


@pytest.mark.parametrize(("path", "code"), NO_RESULTS, ids=[n[0] for n in NO_RESULTS])
async def test_no_results_is_an_error(emu, http, path, code):
    assert_error(*await call(http, emu, "GET", path), code)


BAD_LISTS = [
    ("data/list/offset/10", 373), ("task/list/offset/10", 483), ("flow/list/offset/10", 503),
    ("run/list/task/31/offset/10", 515), ("evaluation/list/task/31/offset/10", 545),
    ("setup/list/flow/1/offset/10", 675), ("study/list/offset/1", 598),
    ("run/list", 510), ("run/list/show_errors/true", 510), ("evaluation/list", 540), ("setup/list", 670),
    ("run/list/task/31/limit/10001", 516), ("evaluation/list/task/31/limit/10001", 546),
    ("setup/list/flow/1/limit/1001", 676),
    ("data/list/foo/1", 370), ("task/list/foo/1", 480), ("flow/list/id/1", 501), ("run/list/foo/1", 514),
    ("evaluation/list/foo/1", 544), ("setup/list/foo/1", 671), ("study/list/foo/1", 596),
    ("data/list/data_id/1,a", 371), ("task/list/task_id/x", 481), ("flow/list/uploader/x", 502),
    ("run/list/task/abc", 511), ("evaluation/list/task/1;2", 541), ("setup/list/flow/x", 672),
    ("study/list/limit/x", 597), ("data/list/number_instances/10..x", 371),
    ("evaluation/list/task/31/per_fold/maybe", 547), ("evaluation/list/task/31/sort_order/up", 549),
    ("user/list/user_id/a", 370),
]


@pytest.mark.parametrize(("path", "code"), BAD_LISTS, ids=[b[0] for b in BAD_LISTS])
async def test_list_refusals(emu, http, path, code):
    assert_error(*await call(http, emu, "GET", path), code)


async def test_illegal_filter_lists_legal_filters(emu, http):
    root = assert_error(*await call(http, emu, "GET", "run/list/foo/1"), 514)
    info = root.find(f"{OML}additional_information").text
    assert info.startswith("Legal filter operators: task,setup,flow") and info.endswith("illegal filter(s): foo")


async def test_too_many_runs_without_limit(emu, http):
    root = assert_error(*await call(http, emu, "GET", "run/list/task_type/1,3"), 513)
    assert root.find(f"{OML}additional_information").text.startswith("Size of result set: ")
    status, body = await call(http, emu, "GET", "run/list/task_type/1,3/limit/10000")
    assert status == 200 and len(ET.fromstring(body)) == 10000


async def test_setup_list_too_big_without_limit(emu, http):
    flows = ",".join(str(f) for f in sorted(emu.state.store.flows))
    assert_error(*await call(http, emu, "GET", f"setup/list/flow/{flows}"), 673)


async def test_path_longer_than_8000_chars_is_html_414(emu, http):
    ids = ",".join(str(i) for i in range(1, 3000))
    status, body = await call(http, emu, "GET", f"run/list/run/{ids}")
    assert status == 414
    assert body.lstrip().startswith(b"<html>") and b"414" in body


# ---- auth ----------------------------------------------------------------------------------------------------

async def test_bad_key_fails_even_on_get(emu, http):
    assert_error(*await call(http, emu, "GET", "data/61", {"api_key": "not-a-key"}), 103)
    status, _ = await call(http, emu, "GET", "data/61", {"api_key": ALICE})
    assert status == 200


async def test_bad_key_in_post_form(emu, http):
    assert_error(*await call(http, emu, "POST", "data/tag", data={"data_id": "31", "tag": "x", "api_key": "nope"}),
                 103)


@pytest.mark.parametrize(("method", "path", "code"), [
    ("POST", "data/tag", 102), ("POST", "run/untag", 102), ("POST", "flow/exists", 102),
    ("DELETE", "data/1", 350), ("DELETE", "flow/1", 320), ("DELETE", "run/1", 400), ("DELETE", "task/1", 460),
    ("DELETE", "setup/1", 102), ("DELETE", "study/200", 102)])
async def test_writes_need_a_key(emu, http, method, path, code):
    assert_error(*await call(http, emu, method, path, data={"data_id": "31", "tag": "x"} if method == "POST"
                             else None), code)


async def test_key_never_comes_from_cookies(emu, http):
    async with http.post(f"{emu.url}/data/tag", data={"data_id": "31", "tag": "x"},
                         cookies={"api_key": ALICE, "ci_session": ALICE}) as resp:
        assert_error(resp.status, await resp.read(), 102)


# ---- tag / untag ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["data", "task", "flow", "run", "setup"])
async def test_tag_untag_round_trip(emu, http, kind):
    store = emu.state.store
    eid = {"data": 31, "task": 31, "flow": store.run(_plain_run(store)).flow, "run": _plain_run(store),
           "setup": store.run(_plain_run(store)).setup}[kind]
    tag = f"emulator-test_{kind}.1"
    form = aiohttp.FormData({f"{kind}_id": str(eid), "tag": tag, "api_key": ALICE})
    status, body = await call(http, emu, "POST", f"{kind}/tag", data=form)
    assert status == 200, body
    root = ET.fromstring(body)
    assert root.tag == f"{OML}{kind}_tag" and root.find(f"{OML}id").text == str(eid)
    assert tag in tags_of(body)
    if kind in ("data", "task", "flow", "run"):
        _, got = await call(http, emu, "GET", f"{kind}/{eid}")
        assert tag in tags_of(got)
    assert_error(*await call(http, emu, "POST", f"{kind}/tag",
                             data={f"{kind}_id": str(eid), "tag": tag, "api_key": ALICE}), 473, 450)
    status, body = await call(http, emu, "POST", f"{kind}/untag",
                              data={f"{kind}_id": str(eid), "tag": tag, "api_key": ALICE})
    assert status == 200 and ET.fromstring(body).tag == f"{OML}{kind}_untag"
    assert tag not in tags_of(body)
    assert_error(*await call(http, emu, "POST", f"{kind}/untag",
                             data={f"{kind}_id": str(eid), "tag": tag, "api_key": ALICE}), 475)


@pytest.mark.parametrize(("form", "code", "http_status"), [
    ({"data_id": "31", "tag": "has space"}, 477, 450), ({"data_id": "31", "tag": "x" * 65}, 477, 450),
    ({"data_id": "31", "tag": "ok;drop"}, 477, 450), ({"tag": "fine"}, 471, 412), ({"data_id": "31"}, 471, 412),
    ({"data_id": "99999999", "tag": "fine"}, 472, 412)])
async def test_tag_refusals(emu, http, form, code, http_status):
    assert_error(*await call(http, emu, "POST", "data/tag", data={**form, "api_key": ALICE}), code, http_status)


async def test_untag_someone_elses_tag(emu, http):
    base = {"task_id": "31", "tag": "bobs-tag"}
    status, _ = await call(http, emu, "POST", "task/tag", data={**base, "api_key": BOB})
    assert status == 200
    assert_error(*await call(http, emu, "POST", "task/untag", data={**base, "api_key": ALICE}), 476)
    status, body = await call(http, emu, "POST", "task/untag", data={**base, "api_key": ADMIN})
    assert status == 200 and "bobs-tag" not in tags_of(body)


# ---- deletes -------------------------------------------------------------------------------------------------

async def test_delete_run_then_gone(emu, http):
    store = emu.state.store
    rid = next(r for r in store.runs_by_task[31] if store.run(r) and store.run(r).uploader == 2)
    assert_error(*await call(http, emu, "DELETE", f"run/{rid}", {"api_key": BOB}), 393)
    status, body = await call(http, emu, "DELETE", f"run/{rid}", {"api_key": ALICE})
    assert status == 200 and ET.fromstring(body).tag == f"{OML}run_delete"
    assert_error(*await call(http, emu, "GET", f"run/{rid}"), 236)
    _, body = await call(http, emu, "GET", "run/list/task/31")
    assert str(rid) not in [e.text for e in ET.fromstring(body).iter(f"{OML}run_id")]
    assert_error(*await call(http, emu, "DELETE", f"run/{rid}", {"api_key": ALICE}), 392)


async def test_delete_refusals_for_dependants(emu, http):
    store = emu.state.store
    assert_error(*await call(http, emu, "DELETE", "data/31", {"api_key": ADMIN}), 354)
    assert_error(*await call(http, emu, "DELETE", "task/31", {"api_key": ADMIN}), 454)
    flow = store.run(_plain_run(store)).flow
    root = assert_error(*await call(http, emu, "DELETE", f"flow/{flow}", {"api_key": ADMIN}), 324)
    assert root.find(f"{OML}additional_information").text.startswith("{")
    sub = next(f.id for f in store.flows.values() if store.parents.get(f.id) and not store.runs_by_flow.get(f.id))
    root = assert_error(*await call(http, emu, "DELETE", f"flow/{sub}", {"api_key": ADMIN}), 328)
    assert root.find(f"{OML}additional_information").text == "{" + ", ".join(map(str, store.parents[sub])) + "}"
    assert_error(*await call(http, emu, "DELETE", f"setup/{store.run(_plain_run(store)).setup}",
                             {"api_key": ALICE}), 404)


async def test_delete_not_owned(emu, http):
    store = emu.state.store
    did = next(d.id for d in store.datasets.values() if d.uploader == 3)
    assert_error(*await call(http, emu, "DELETE", f"data/{did}", {"api_key": ALICE}), 353)
    tid = next(t.id for t in store.tasks.values() if t.uploader == 3)
    assert_error(*await call(http, emu, "DELETE", f"task/{tid}", {"api_key": ALICE}), 453)
    fid = next(f.id for f in store.flows.values() if f.uploader == 3)
    assert_error(*await call(http, emu, "DELETE", f"flow/{fid}", {"api_key": ALICE}), 323)
    assert_error(*await call(http, emu, "DELETE", "study/201", {"api_key": ALICE}), 594)
    assert_error(*await call(http, emu, "DELETE", "study/99999", {"api_key": ALICE}), 592)
    assert_error(*await call(http, emu, "DELETE", "setup/99999999", {"api_key": ALICE}), 402)


async def test_delete_dataset_and_study_disappear_from_lists(emu, http):
    store = emu.state.store
    did = next(d.id for d in store.datasets.values()
               if d.uploader == 2 and not any(t.did == d.id for t in store.tasks.values()))
    status, _ = await call(http, emu, "DELETE", f"data/{did}", {"api_key": ALICE})
    assert status == 200
    assert_error(*await call(http, emu, "GET", f"data/{did}"), 111)
    assert_error(*await call(http, emu, "GET", f"data/list/data_id/{did}/status/all"), 372)
    status, _ = await call(http, emu, "DELETE", "study/200", {"api_key": ALICE})
    assert status == 200
    assert_error(*await call(http, emu, "GET", "study/200"), 601)


# ---- faults, latency, recording ------------------------------------------------------------------------------

async def _add_fault(http, emu, **fault) -> None:
    async with http.post(f"{emu.base_url}/_emulator/faults", json=fault) as resp:
        assert resp.status == 200, await resp.text()


async def test_fault_delay(emu, http):
    await _add_fault(http, emu, prefix="data/", kind="delay", delay_ms=150, times=1)
    started = time.perf_counter()
    status, _ = await call(http, emu, "GET", "data/31")
    assert status == 200 and time.perf_counter() - started >= 0.15


@pytest.mark.parametrize("status_code", [500, 503, 504])
async def test_fault_status(emu, http, status_code):
    await _add_fault(http, emu, prefix="flow/", kind="status", status=status_code, times=1)
    status, body = await call(http, emu, "GET", "flow/1")
    assert status == status_code and b"<html>" in body
    assert (await call(http, emu, "GET", "flow/1"))[0] == 200  # times=1: used up


async def test_fault_status_plain_body(emu, http):
    await _add_fault(http, emu, prefix="flow/", kind="status", status=502, body="upstream gone", times=1)
    status, body = await call(http, emu, "GET", "flow/1")
    assert status == 502 and body == b"upstream gone"


async def test_fault_hang_is_cancellable(emu, http):
    await _add_fault(http, emu, prefix="run/list", kind="hang", times=1)
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(f"{emu.url}/run/list/task/31", timeout=aiohttp.ClientTimeout(total=0.3)) as resp:
            await resp.read()
    for _ in range(50):
        if not emu.state.hanging:
            break
        await asyncio.sleep(0.02)
    assert not emu.state.hanging  # the handler was cancelled when the client went away
    assert (await call(http, emu, "GET", "run/list/task/31/limit/1"))[0] == 200


async def test_fault_malformed(emu, http):
    await _add_fault(http, emu, prefix="data/31", kind="malformed", times=1)
    status, body = await call(http, emu, "GET", "data/31")
    assert status == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(body)


async def test_fault_html_page_with_200(emu, http):
    await _add_fault(http, emu, prefix="task/", kind="html", times=1)
    status, body = await call(http, emu, "GET", "task/31")
    assert status == 200 and body.lstrip().startswith(b"<html>")


@pytest.mark.parametrize(("kind", "marker"), [("billion_laughs", b'<!ENTITY lol9 "&lol8;'),
                                              ("external_entity", b'SYSTEM "file:///etc/passwd"')])
async def test_fault_hostile_doctype(emu, http, kind, marker):
    await _add_fault(http, emu, prefix="data/", kind=kind, times=1)
    status, body = await call(http, emu, "GET", "data/31")
    assert status == 200 and b"<!DOCTYPE" in body and marker in body
    import xmltodict

    with pytest.raises((ValueError, ExpatError)):
        xmltodict.parse(body, disable_entities=True)


async def test_fault_huge_is_streamed(emu, http):
    await _add_fault(http, emu, prefix="run/list", kind="huge", size_bytes=3_000_000, times=1)
    async with http.get(f"{emu.url}/run/list/task/31") as resp:
        assert resp.status == 200 and "Content-Length" not in resp.headers
        body = await resp.read()
    assert len(body) == 3_000_000 and body.startswith(b"<oml:runs") and body.endswith(b"</oml:runs>\n")


async def test_fault_oml_error_107_and_times(emu, http):
    await _add_fault(http, emu, prefix="data/", kind="oml_error", code=107, times=2)
    for _ in range(2):
        assert_error(*await call(http, emu, "GET", "data/31"), 107)
    assert (await call(http, emu, "GET", "data/31"))[0] == 200


async def test_fault_control_api_rejects_unknown_kind_and_clears(emu, http):
    async with http.post(f"{emu.base_url}/_emulator/faults", json={"prefix": "", "kind": "gremlins"}) as resp:
        assert resp.status == 400
    await _add_fault(http, emu, prefix="", kind="status", status=500)
    async with http.delete(f"{emu.base_url}/_emulator/faults") as resp:
        assert resp.status == 200
    assert (await call(http, emu, "GET", "data/31"))[0] == 200


async def test_latency_knob(emu, http):
    async with http.post(f"{emu.base_url}/_emulator/latency", json={"ms": 80}) as resp:
        assert resp.status == 200
    started = time.perf_counter()
    await call(http, emu, "GET", "data/31")
    assert time.perf_counter() - started >= 0.08


async def test_calls_are_recorded_and_control_calls_are_not(emu, http):
    async with http.delete(f"{emu.base_url}/_emulator/calls") as resp:
        assert resp.status == 200
    async with http.get(f"{emu.url}/run/list/task/31/limit/50", params={"api_key": ALICE},
                        headers={"X-Request-Id": "req-123"}) as resp:
        assert resp.status == 200
    await call(http, emu, "POST", "run/tag", data={"run_id": "1", "tag": "rec", "api_key": ALICE})
    async with http.get(f"{emu.base_url}/_emulator/calls") as resp:
        calls = await resp.json()
    assert [c["path"] for c in calls] == ["/api/v1/xml/run/list/task/31/limit/50", "/api/v1/xml/run/tag"]
    assert calls[0]["query"] == {"api_key": ALICE} and calls[0]["headers"]["x-request-id"] == "req-123"
    assert "user-agent" in calls[0]["headers"] and calls[0]["status"] == 200
    assert calls[1]["form"]["api_key"] == ALICE and calls[1]["method"] == "POST"
    assert emu.state.count("run/list") == 1 and emu.state.count("/api/v1/xml/run/") == 2


async def test_health(emu, http):
    async with http.get(f"{emu.base_url}/_emulator/health") as resp:
        assert resp.status == 200 and (await resp.json())["status"] == "ok"


async def test_format_segment_is_optional(emu, http):
    async with http.get(f"{emu.base_url}/api/v1/data/61") as resp:
        body = await resp.read()
    assert resp.status == 200 and body == (await call(http, emu, "GET", "data/61"))[1]


# ---- determinism and sizes -----------------------------------------------------------------------------------

async def test_same_seed_gives_identical_bytes():
    a, b = await start_emulator(EmulatorConfig(seed=7)), await start_emulator(EmulatorConfig(seed=7))
    paths = ["data/31", "data/features/31", "data/qualities/77", "task/31", "flow/42", "run/123", "run/19999",
             "setup/5", "run/list/task/31", "evaluation/list/function/predictive_accuracy/task/31/per_fold/true",
             "data/list/limit/100", "task/list/limit/100", "study/99"]
    try:
        async with aiohttp.ClientSession() as session:
            for path in paths:
                bodies = []
                for emu in (a, b):
                    async with session.get(f"{emu.url}/{path}") as resp:
                        bodies.append((await resp.read()).replace(emu.base_url.encode(), b"BASE"))
                assert bodies[0] == bodies[1], path
    finally:
        await a.close()
        await b.close()


def test_different_seeds_differ_and_startup_is_fast():
    started = time.perf_counter()
    one = create_app(EmulatorConfig(seed=1))[EMULATOR_STATE].store
    assert time.perf_counter() - started < 2.0
    two = create_app(EmulatorConfig(seed=2))[EMULATOR_STATE].store
    assert [one.run(i) for i in range(1, 50)] != [two.run(i) for i in range(1, 50)]


async def _count(http, emu, path: str, item: str, page: int) -> int:
    total, offset = 0, 0
    while True:
        status, body = await call(http, emu, "GET", f"{path}/limit/{page}/offset/{offset}")
        if status == 412:
            return total
        n = len(ET.fromstring(body).findall(f"{OML}{item}"))
        total, offset = total + n, offset + page
        if n < page:
            return total


async def test_sizes_through_the_list_endpoints(http):
    emu = await start_emulator(EmulatorConfig(include_corpus=False))
    try:
        assert await _count(http, emu, "data/list/status/all", "dataset", 200) >= 500
        assert await _count(http, emu, "task/list/status/all", "task", 1000) >= 2000
        assert await _count(http, emu, "flow/list", "flow", 100) >= 300
        users = ",".join(str(u) for u in sorted(emu.state.store.users))
        assert await _count(http, emu, f"run/list/uploader/{users}/show_errors/true", "run", 10000) >= 20000
        _, body = await call(http, emu, "GET", "run/list/task/31/limit/10000")
        assert len(ET.fromstring(body)) >= 200
    finally:
        await emu.close()
