"""OpenMLV2Client against the v2 emulator over real HTTP on 127.0.0.1: every method, the problems it maps
(not found, 401, 422, 412), empty lists, batching and paging, and the emulator's server-api realism."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from adapters.openml_v1.emulator_values import run_trace
from adapters.openml_v2.client import OpenMLV2Client
from adapters.openml_v2.emulator import EmulatorConfig, RunningEmulator, start_emulator
from adapters.records import DatasetRecord, FlowRecord, RunRecord, SetupRecord, TaskRecord
from gateway.errors import (
    BackendError,
    BadUserInputError,
    ForbiddenError,
    NotFoundError,
    UnauthenticatedError,
)
from gateway.http import BackendHTTP, HTTPPolicy

ALICE, BOB, ADMIN = "demo-key-alice", "demo-key-bob", "demo-key-admin"


@pytest_asyncio.fixture(scope="module")
async def emu() -> AsyncIterator[RunningEmulator]:
    running = await start_emulator(EmulatorConfig())
    yield running
    await running.close()


@pytest_asyncio.fixture(scope="module")
async def http(emu: RunningEmulator) -> AsyncIterator[BackendHTTP]:
    backend = BackendHTTP("openml", emu.url, HTTPPolicy(retries=0))
    yield backend
    await backend.close()


@pytest_asyncio.fixture(scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as plain:
        yield plain


@pytest.fixture
def client(http: BackendHTTP, emu: RunningEmulator) -> OpenMLV2Client:
    emu.state.reset_calls()
    return OpenMLV2Client(http)


@dataclass
class Raw:
    status: int
    content_type: str
    body: Any


Call = Callable[..., Awaitable[Raw]]


@pytest.fixture
def call(session: aiohttp.ClientSession, emu: RunningEmulator) -> Call:
    """Plain HTTP to the emulator (no client): ``await call("GET", "datasets/31", params=..., json=...)``."""

    async def send(method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None) -> Raw:
        async with session.request(method, f"{emu.url}/{path}", json=json, params=params) as resp:
            data = await resp.read()
            return Raw(resp.status, resp.content_type, await resp.json(content_type=None) if data else None)

    return send


# ---- datasets -----------------------------------------------------------------------------------------------------

async def test_get_dataset(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    d = await client.get_dataset(31)
    assert isinstance(d, DatasetRecord) and (d.id, d.name, d.format, d.status) == (31, "credit-g", "arff", "active")
    assert d.default_target_attributes == ("class",) and d.url and d.url.startswith(emu.base_url)
    assert d.upload_date is not None and d.processing_date is not None and d.description
    [call] = emu.state.calls
    assert (call.method, call.path, call.query) == ("GET", "/datasets/31", {})  # no api_key unless given


async def test_get_dataset_unknown_is_not_found_with_code_111(client: OpenMLV2Client) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.get_dataset(999_999)
    assert info.value.backend_code == "111" and "999999" in info.value.message


async def test_get_dataset_bad_id_is_a_422(client: OpenMLV2Client) -> None:
    with pytest.raises(BadUserInputError) as info:
        await client.get_dataset(0)
    assert info.value.backend_code is None and "greater than 0" in info.value.message


async def test_get_dataset_without_data_file_is_a_412(client: OpenMLV2Client) -> None:
    """Recorded dataset 106 has no file_id: v1 serves it, v2 answers dataset-no-data-file (code 113)."""
    with pytest.raises(BackendError) as info:
        await client.get_dataset(106)
    assert info.value.backend_code == "113"


async def test_api_key_is_a_query_parameter(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    await client.get_dataset(31, api_key=ALICE, request_id="req-7")
    [call] = emu.state.calls
    assert call.query == {"api_key": ALICE} and call.headers["x-request-id"] == "req-7"


async def test_invalid_api_key_is_401_code_103(client: OpenMLV2Client) -> None:
    with pytest.raises(UnauthenticatedError) as info:
        await client.get_dataset(31, api_key="not-a-key")
    assert info.value.backend_code == "103"
    with pytest.raises(UnauthenticatedError):
        await client.list_datasets({}, limit=5, api_key="not-a-key")


async def test_get_datasets_batches_and_falls_back_per_id(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    found = await client.get_datasets([31, 61, 2, 999_999, 31])
    assert {k for k, v in found.items() if not isinstance(v, Exception)} == {31, 61, 2}
    assert isinstance(found[999_999], NotFoundError)
    assert found[31].name == "credit-g" and found[31].qualities  # type: ignore[union-attr]
    lists = [c for c in emu.state.calls if c.path == "/datasets/list"]
    assert len(lists) == 1 and lists[0].method == "POST"
    assert lists[0].body == {"data_id": [2, 31, 61, 999_999], "status": "all",
                             "pagination": {"limit": 4, "offset": 0}}
    assert [c.path for c in emu.state.calls if c.path != "/datasets/list"] == ["/datasets/999999"]


async def test_get_datasets_chunks_by_batch_size(http: BackendHTTP, emu: RunningEmulator) -> None:
    emu.state.reset_calls()
    found = await OpenMLV2Client(http, batch_size=2).get_datasets([1, 3, 4, 5, 6])
    assert len(found) == 5 and emu.state.count("datasets/list") == 3


async def test_features_and_qualities(client: OpenMLV2Client) -> None:
    features = await client.get_dataset_features(61)
    assert [f.name for f in features] == ["sepallength", "sepalwidth", "petallength", "petalwidth", "class"]
    assert features[-1].is_target and features[-1].nominal_values[0] == "Iris-setosa"
    qualities = {q.name: q.value for q in await client.get_dataset_qualities(31)}
    assert qualities["NumberOfInstances"] == 1000.0 and any(v is None for v in qualities.values())
    recorded = await client.get_dataset_features(2)  # the recorded list, served as v2 renders it
    assert len(recorded) == 39 and sum(f.is_target for f in recorded) == 1
    with pytest.raises(NotFoundError):
        await client.get_dataset_features(999_999)
    with pytest.raises(NotFoundError) as info:
        await client.get_dataset_qualities(999_999)
    assert info.value.backend_code == "361"


async def test_list_datasets_filters_paging_and_no_results(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    page = await client.list_datasets({"status": "all", "tag": "uci"}, limit=5, offset=2)
    assert 0 < len(page) <= 5 and all(d.format in ("arff", "sparse_arff") for d in page)
    assert emu.state.calls[-1].body == {"status": "all", "tag": "uci", "pagination": {"limit": 5, "offset": 2}}
    assert await client.list_datasets({"data_name": "no-such-dataset"}, limit=10) == ()
    assert await client.list_datasets({}, limit=0) == ()


async def test_list_datasets_over_1000_rows_is_several_pages(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    rows = await client.list_datasets({"status": "all"}, limit=1200)
    bodies = [c.body["pagination"] for c in emu.state.calls if c.path == "/datasets/list"]
    assert sorted(bodies, key=lambda b: b["offset"]) == [{"limit": 1000, "offset": 0}, {"limit": 200, "offset": 1000}]
    assert len(rows) == len(emu.state.store.datasets) and len({d.id for d in rows}) == len(rows)


async def test_list_datasets_takes_a_v1_list_query(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    @dataclass(frozen=True)
    class Query:  # structurally what v1's ListQuery is
        filters: tuple[tuple[str, str], ...]

    rows = await client.list_datasets(Query(filters=(("data_id", "61,31,2"), ("status", "all"))), limit=10)
    assert sorted(d.id for d in rows) == [2, 31, 61]
    assert emu.state.calls[-1].body["data_id"] == [2, 31, 61]


@pytest.mark.parametrize("query", [{"type": "1"}, {"uploader": "1,2"}, {"data_id": "1,x"}, {"limit": "5"}],
                         ids=["task-filter", "several-uploaders", "bad-ids", "limit-as-filter"])
async def test_filters_v2_cannot_express_fail_before_any_call(client: OpenMLV2Client, emu: RunningEmulator,
                                                              query: dict[str, str]) -> None:
    with pytest.raises(BadUserInputError):
        await client.list_datasets(query, limit=5)
    assert emu.state.calls == []


@pytest.mark.parametrize("query", [{"tag": "bad tag!"}, {"number_instances": "1...2"}, {"status": "gone"}],
                         ids=["tag-pattern", "range", "status-enum"])
async def test_invalid_filter_values_are_422(client: OpenMLV2Client, query: dict[str, str]) -> None:
    with pytest.raises(BadUserInputError) as info:
        await client.list_datasets(query, limit=5)
    assert info.value.message.startswith("Input validation failed.") and info.value.backend_code is None


async def test_list_quality_names(client: OpenMLV2Client) -> None:
    names = await client.list_quality_names()
    assert "NumberOfInstances" in names and list(names) == sorted(names)


# ---- tasks --------------------------------------------------------------------------------------------------------

async def test_get_task(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    t = await client.get_task(31)
    assert isinstance(t, TaskRecord) and t.name == "Task 31: credit-g (Supervised Classification)"
    assert (t.task_type_id, t.dataset_id, t.target_name) == (1, 31, "class")
    assert t.estimation_procedure is not None and t.estimation_procedure.number_folds == 10
    assert t.estimation_procedure.data_splits_url == f"{emu.base_url}/api_splits/get/31/Task_31_splits.arff"
    clustering = await client.get_task(1372)
    assert clustering.task_type_id == 5 and clustering.target_name is None
    with pytest.raises(NotFoundError) as info:
        await client.get_task(99_999_999)
    assert info.value.backend_code is None  # task-not-found carries no legacy code


async def test_get_tasks_and_list_tasks(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    found = await client.get_tasks([31, 3, 99_999_999])
    assert found[31].name == "Task 31: credit-g (Supervised Classification)"  # type: ignore[union-attr]
    assert isinstance(found[99_999_999], NotFoundError)
    assert emu.state.calls[0].body == {"task_id": [3, 31, 99_999_999], "status": "all",
                                       "pagination": {"limit": 3, "offset": 0}}
    rows = await client.list_tasks({"type": "1", "data_tag": "uci"}, limit=20)
    assert rows and all(r.task_type_id == 1 for r in rows) and [r.id for r in rows] == sorted(r.id for r in rows)
    assert emu.state.calls[-1].body["task_type_id"] == 1
    assert await client.list_tasks({"data_name": "no-such-dataset"}, limit=20) == ()


async def test_estimation_procedures_and_measures(client: OpenMLV2Client) -> None:
    procedures = {p.id: p for p in await client.list_estimation_procedures()}
    assert procedures[1].task_type_id == 1 and procedures[1].number_folds == 10
    assert procedures[1].stratified_sampling is True
    assert "predictive_accuracy" in await client.list_evaluation_measures()


# ---- flows, runs, setups, studies ---------------------------------------------------------------------------------

async def test_get_flow_with_components(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    fid = next(f.id for f in emu.state.store.flows.values() if f.components and not f.corpus)
    flow = await client.get_flow(fid)
    assert isinstance(flow, FlowRecord) and flow.components
    assert [c.flow.id for c in flow.components] == [c for _, c in emu.state.store.flows[fid].components]
    recorded = await client.get_flow(5270)
    assert [(c.identifier, c.flow.id) for c in recorded.components] == [("randomForest", 5271)]
    batch = await client.get_flows([fid, 5270, 99_999])
    assert batch[5270] == recorded and isinstance(batch[99_999], NotFoundError)


async def test_get_run_trace_and_errors(client: OpenMLV2Client, emu: RunningEmulator) -> None:
    store = emu.state.store
    run = await client.get_run(100)
    assert isinstance(run, RunRecord) and run.task_id == 28 and all(f.url is None for f in run.output_files)
    assert {e.measure for e in run.evaluations} >= {"predictive_accuracy", "os_information"}
    traced = next(r for r in store.all_run_ids() if run_trace(store, store.run(r)))  # type: ignore[arg-type]
    trace = await client.get_run_trace(traced)
    assert len(trace) == 12 and sum(t.selected for t in trace) == 3
    with pytest.raises(NotFoundError) as info:
        await client.get_run_trace(100)
    assert info.value.backend_code == "572"
    with pytest.raises(NotFoundError) as info:
        await client.get_run(99_999_999)
    assert info.value.backend_code == "236"


async def test_get_setup_and_setups(client: OpenMLV2Client) -> None:
    setup = await client.get_setup(12)
    assert isinstance(setup, SetupRecord) and setup.flow_id == 67 and [p.name for p in setup.parameters] == [
        "D", "Q", "P", "S"]
    batch = await client.get_setups([12, 100, 99_999_999])
    assert batch[12] == setup and isinstance(batch[99_999_999], NotFoundError)
    assert batch[99_999_999].backend_code == "281"


async def test_get_study_by_id_and_alias(client: OpenMLV2Client) -> None:
    by_alias = await client.get_study("OpenML-CC18")
    assert by_alias == await client.get_study(99) and by_alias.task_ids and by_alias.run_ids == ()
    with pytest.raises(NotFoundError):
        await client.get_study("no-such-alias")


# ---- writes -------------------------------------------------------------------------------------------------------

async def test_tag_and_untag(client: OpenMLV2Client) -> None:
    with pytest.raises(UnauthenticatedError) as info:
        await client.tag("dataset", 44, "v2-contract", "")
    assert info.value.backend_code == "103"
    tagged = await client.tag("dataset", 44, "v2-contract", ALICE)
    assert tagged.id == 44 and "v2-contract" in tagged.tags
    with pytest.raises(BadUserInputError) as info:
        await client.tag("dataset", 44, "v2-contract", ALICE)
    assert info.value.backend_code == "473"
    with pytest.raises(ForbiddenError):
        await client.tag("dataset", 44, "v2-contract", BOB, remove=True)
    untagged = await client.tag("dataset", 44, "v2-contract", ALICE, remove=True)
    assert "v2-contract" not in untagged.tags
    with pytest.raises(NotFoundError) as info:
        await client.tag("task", 99_999_999, "v2-contract", ALICE)
    assert info.value.backend_code == "472"
    assert "v2-contract" in (await client.tag("task", 31, "v2-contract", ALICE)).tags
    assert (await client.tag("setup", 12, "v2-contract", ADMIN)).tags[-1] == "v2-contract"
    assert "v2-contract" not in (await client.tag("setup", 12, "v2-contract", ADMIN, remove=True)).tags
    with pytest.raises(ValueError, match="cannot untag a task"):
        await client.tag("task", 31, "v2-contract", ALICE, remove=True)


# ---- the emulator's server-api realism ----------------------------------------------------------------------------

async def test_problems_are_rfc9457_with_string_codes(call: Call) -> None:
    got = await call("GET", "datasets/999999")
    assert (got.status, got.content_type) == (404, "application/problem+json")
    assert got.body == {"type": "https://openml.org/problems/dataset-not-found", "title": "Dataset Not Found",
                        "status": 404, "detail": "No dataset with id 999999 found.", "code": "111"}
    empty = await call("POST", "tasks/list", json={"data_name": "nothing-here"})
    assert (empty.status, empty.body["type"].rsplit("/", 1)[-1], empty.body["code"]) == (404, "no-results", "482")


async def test_validation_errors_have_pydantics_shape(call: Call) -> None:
    got = await call("POST", "datasets/list", json={"pagination": {"limit": 1001, "offset": -1}})
    assert got.status == 422 and "code" not in got.body and got.body["detail"] == "Input validation failed."
    assert [(e["type"], e["loc"]) for e in got.body["errors"]] == [
        ("less_than_equal", ["body", "pagination", "limit"]), ("greater_than_equal", ["body", "pagination", "offset"])]
    empty_ids = await call("POST", "tasks/list", json={"task_id": []})
    assert empty_ids.status == 422 and empty_ids.body["errors"][0]["loc"] == ["body", "task_id"]
    not_json = await call("GET", "datasets/abc")
    assert not_json.status == 422 and not_json.body["errors"][0]["type"] == "int_parsing"


async def test_unknown_routes_and_methods_are_plain_fastapi_errors(call: Call) -> None:
    assert (await call("GET", "flow/1")).body == {"detail": "Not Found"}
    got = await call("DELETE", "flows/1")
    assert (got.status, got.body) == (405, {"detail": "Method Not Allowed"})


async def test_lists_page_independently_and_only_tasks_are_ordered(call: Call) -> None:
    default = await call("GET", "datasets/list")
    assert len(default.body) == 100 and all(row["status"] == "active" for row in default.body)
    rows = (await call("POST", "datasets/list", json={"status": "all", "pagination": {"limit": 1000}})).body
    ids = [row["did"] for row in rows]
    assert ids != sorted(ids) and ids[-6:] == [106, 2, 395, 40945, 4136, 61]  # storage order: no ORDER BY
    assert {row["md5_checksum"] for row in rows} == {""} and any(row["format"] == "Sparse_ARFF" for row in rows)
    tasks = (await call("POST", "tasks/list", json={"status": "all", "pagination": {"limit": 50, "offset": 1990}})).body
    assert [t["task_id"] for t in tasks] == sorted(t["task_id"] for t in tasks) and len(tasks) == 10
    assert isinstance(tasks[0]["quality"][0]["value"], str)


async def test_api_key_only_read_where_the_route_reads_a_user(call: Call) -> None:
    assert (await call("GET", "flows/60", params={"api_key": "bogus"})).status == 200
    assert (await call("GET", "datasets/31", params={"api_key": "bogus"})).status == 401


async def test_more_routes_for_realism(emu: RunningEmulator, call: Call) -> None:
    store = emu.state.store
    flow = store.flows[60]
    exists = await call("GET", f"flows/exists/{flow.name}/{flow.external_version}")
    assert exists.body == {"flow_id": 60}
    assert (await call("GET", "flows/exists/nope/1.0")).status == 404
    types = (await call("GET", "tasktype/list")).body["task_types"]["task_type"]
    assert types[0]["id"] == "1"  # stringified, as PHP printed it
    did = next(d.id for d in store.datasets.values() if not d.tags and not d.corpus)
    for tag in ("v2-one", "v2-two"):
        added = await call("POST", "datasets/tag", params={"api_key": ALICE}, json={"data_id": did, "tag": tag})
        assert added.body["data_tag"]["id"] == str(did)  # a string id
    one_left = await call("POST", "datasets/untag", params={"api_key": ALICE}, json={"data_id": did, "tag": "v2-two"})
    assert one_left.body == {"data_untag": {"id": str(did), "tag": "v2-one"}}  # PHP-like: one tag is a string
    none_left = await call("POST", "datasets/untag", params={"api_key": ALICE}, json={"data_id": did, "tag": "v2-one"})
    assert none_left.body == {"data_untag": {"id": str(did)}}  # ...and no tag is no key
    deleted = await call("DELETE", "datasets/31/tag", params={"api_key": ADMIN, "tag": "never-there"})
    assert deleted.status == 404 and deleted.body["code"] == "475"
