"""The emulator's generated responses have the shapes of the recorded OpenML v1 corpus."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import aiohttp
import pytest
import pytest_asyncio

from adapters.openml_v1.emulator import EmulatorConfig, RunningEmulator, default_corpus_dir, start_emulator
from adapters.openml_v1.emulator_data import Store

CORPUS = default_corpus_dir() / "v1-xml"
OML = "{http://openml.org/openml}"
NS_DECL = 'xmlns:oml="http://openml.org/openml"'

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="recorded corpus not available")


def element_paths(body: bytes | str) -> list[str]:
    """Ordered element paths (`oml:run/oml:output_data/oml:file`) plus attribute names (`.../@repeat`)."""
    seen: dict[str, None] = {}

    def walk(el: ET.Element, prefix: str) -> None:
        name = "oml:" + el.tag[len(OML):] if el.tag.startswith(OML) else el.tag
        path = f"{prefix}/{name}" if prefix else name
        seen.setdefault(path, None)
        for attr in el.attrib:
            seen.setdefault(f"{path}/@{attr}", None)
        for child in el:
            walk(child, path)

    walk(ET.fromstring(body), "")
    # flows are recursive: a component three levels down has the shape of one a level down
    return list(dict.fromkeys(re.sub(r"(/oml:component/oml:flow)+", "/oml:component/oml:flow", p) for p in seen))


def sibling_orders(body: bytes | str) -> set[tuple[str, str, str]]:
    """(parent path, a, b) for every pair of child elements where an `a` comes before a `b`."""
    pairs: set[tuple[str, str, str]] = set()

    def walk(el: ET.Element, prefix: str) -> None:
        path = f"{prefix}/{el.tag}"
        names = list(dict.fromkeys(child.tag for child in el))
        pairs.update((path, a, b) for i, a in enumerate(names) for b in names[i + 1:])
        for child in el:
            walk(child, "" if el.tag == f"{OML}component" else path)

    walk(ET.fromstring(body), "")
    return pairs


@pytest_asyncio.fixture(scope="module")
async def emu():
    running = await start_emulator(EmulatorConfig())
    yield running
    await running.close()


@pytest_asyncio.fixture(scope="module")
async def emu_plain():
    running = await start_emulator(EmulatorConfig(include_corpus=False, n_runs=2000))
    yield running
    await running.close()


@pytest_asyncio.fixture(scope="module")
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def fetch(http: aiohttp.ClientSession, emu: RunningEmulator, path: str, method: str = "GET",
                **params: str) -> tuple[int, bytes]:
    async with http.request(method, f"{emu.url}/{path}", params=params or None) as resp:
        return resp.status, await resp.read()


def _search_flow(s: Store) -> str:
    return "flow/" + str(next(f.id for f in s.flows.values() if "GridSearchCV" in f.name and not f.corpus))


def _good_run(s: Store) -> int:
    return next(r for r in s.runs_by_task[31] if not s.run(r).error)


# corpus file, generated path, paths the generated entity may add, paths it may lack
CASES: list[tuple[str, Callable[[Store], str], set[str], set[str]]] = [
    ("data/data_61_iris.xml", lambda s: "data/31", set(),
     {"oml:data_set_description/oml:minio_url", "oml:data_set_description/oml:paper_url",
      "oml:data_set_description/oml:original_data_url"}),
    ("data/data_features_2.xml", lambda s: "data/features/31", set(), set()),
    ("data/data_qualities_2.xml", lambda s: "data/qualities/31", set(), set()),
    ("flow/flow_5270_nested_component.xml", _search_flow,
     {"oml:flow/oml:class_name", "oml:flow/oml:component/oml:flow/oml:class_name",
      "oml:flow/oml:component/oml:flow/oml:component/oml:identifier",
      "oml:flow/oml:component/oml:flow/oml:component"},
     {"oml:flow/oml:binary_url", "oml:flow/oml:binary_format", "oml:flow/oml:binary_md5"}),
    ("run/run_100_fold_evaluations.xml", lambda s: f"run/{_good_run(s)}",
     {"oml:run/oml:parameter_setting/oml:component", "oml:run/oml:task_evaluation_measure"}, set()),
    ("task/task_7_with_task_name.xml", lambda s: "task/31", set(), set()),
    ("setup/setup_100_parameters.xml", lambda s: f"setup/{s.run(_good_run(s)).setup}",
     {"oml:setup_parameters/oml:parameter/oml:name"}, set()),
    ("run/list/run_list_limit_10_offset_0.xml", lambda s: "run/list/task/31/limit/10", set(), set()),
    ("task/list/task_list_type_3_learning_curve.xml", lambda s: "task/list/type/3/limit/20",
     {"oml:tasks/oml:task/oml:tag"}, set()),
    ("task/list/task_list_type_5_clustering.xml", lambda s: "task/list/type/5/limit/20",
     {"oml:tasks/oml:task/oml:tag"}, set()),
    ("evaluation/evaluation_list_predictive_accuracy_limit_10.xml",
     lambda s: "evaluation/list/function/predictive_accuracy/limit/10", set(), set()),
    ("misc/user_list_user_id_3229.xml", lambda s: "user/list/user_id/1,2,3", set(), set()),
    ("study/study_146_task_suite.xml", lambda s: "study/99", {"oml:study/oml:alias"}, set()),
    ("study/study_157_run_study.xml", lambda s: "study/200", set(), set()),
    ("run/run_trace_example.xml", lambda s: "run/trace/" + str(next(
        r for r in s.runs_by_flow[int(_search_flow(s).split("/")[1])] if not s.run(r).error)), set(), set()),
]


@pytest.mark.parametrize(("corpus_file", "path_of", "extra", "missing"), CASES, ids=[c[0] for c in CASES])
async def test_generated_shape_matches_corpus(emu, http, corpus_file, path_of, extra, missing):
    status, body = await fetch(http, emu, path_of(emu.state.store))
    assert status == 200, body[:300]
    recorded = (CORPUS / corpus_file).read_bytes()
    assert ET.fromstring(body).tag == ET.fromstring(recorded).tag
    generated, expected = element_paths(body), element_paths(recorded)
    assert set(generated) - set(expected) <= extra
    assert set(expected) - set(generated) <= missing
    recorded_order = sibling_orders(recorded)
    swapped = {(p, a, b) for p, a, b in sibling_orders(body)
               if (p, b, a) in recorded_order and (p, a, b) not in recorded_order}
    assert not swapped, f"element order differs from the recording: {sorted(swapped)[:3]}"


async def test_estimation_procedure_list_shape_without_corpus(emu_plain, http):
    status, body = await fetch(http, emu_plain, "estimationprocedure/list")
    assert status == 200
    assert element_paths(body) == element_paths((CORPUS / "misc/estimationprocedure_list.xml").read_bytes())


@pytest.mark.parametrize("path", ["data/31", "flow/1", "task/31", "run/1", "run/list/task/31", "setup/1",
                                  "data/list/limit/5", "flow/list/limit/5", "study/list", "data/qualities/31"])
async def test_no_xml_declaration_and_namespace_on_root(emu_plain, http, path):
    status, body = await fetch(http, emu_plain, path)
    assert status == 200
    text = body.decode()
    assert not text.lstrip().startswith("<?xml")
    assert NS_DECL in text.lstrip().split(">", 1)[0]


async def test_nested_flows_redeclare_namespace(emu, http):
    store = emu.state.store
    flow = next(f for f in store.flows.values() if "GridSearchCV" in f.name)
    status, body = await fetch(http, emu, f"flow/{flow.id}")
    assert status == 200
    assert body.decode().count(f"<oml:flow {NS_DECL}>") == len(store.flow_tree(flow.id))
    assert len(store.flow_tree(flow.id)) >= 4  # GridSearchCV -> Pipeline -> 2 steps: three levels


async def test_scalars_are_server_formatted_strings(emu, http):
    _, body = await fetch(http, emu, "data/qualities/31")
    values = [v.text for v in ET.fromstring(body).iter(f"{OML}value")]
    assert "1000.0" in values  # NumberOfInstances of credit-g, an integer printed as a float
    assert any(v is None for v in values)  # an empty <oml:value />
    _, body = await fetch(http, emu, "data/features/31")
    assert {e.text for e in ET.fromstring(body).iter(f"{OML}is_target")} == {"true", "false"}


async def test_generated_description_keeps_double_escaped_entities(emu_plain, http):
    store = emu_plain.state.store
    for did in sorted(store.datasets)[:200]:
        _, body = await fetch(http, emu_plain, f"data/{did}")
        if b"&amp;ldquo;" in body:
            text = ET.fromstring(body).find(f"{OML}description").text
            assert "&ldquo;" in text
            return
    pytest.fail("no generated description with a double-escaped entity")


VERBATIM = [("data/61", "data/data_61_iris.xml"), ("data/2", "data/data_2_anneal.xml"),
            ("data/40945", "data/data_40945_titanic.xml"), ("data/395", "data/data_395_sparse_arff.xml"),
            ("data/4136", "data/data_4136_dexter_sparse_double_escaped.xml"),
            ("data/106", "data/data_106_vineyard_row_id.xml"), ("data/features/2", "data/data_features_2.xml"),
            ("data/qualities/2", "data/data_qualities_2.xml"), ("flow/5270", "flow/flow_5270_nested_component.xml"),
            ("flow/75243", "flow/flow_75243_binary_url.xml"), ("flow/2", "flow/flow_2_contributors_float_version.xml"),
            ("run/100", "run/run_100_fold_evaluations.xml"), ("run/26936", "run/run_26936_parameter_components.xml"),
            ("task/1882", "task/task_1882_classification.xml"), ("task/7", "task/task_7_with_task_name.xml"),
            ("task/631", "task/task_631_regression.xml"), ("task/59", "task/task_59_legacy_no_type_id.xml"),
            ("setup/100", "setup/setup_100_parameters.xml"), ("study/157", "study/study_157_run_study.xml"),
            ("study/146", "study/study_146_task_suite.xml"), ("study/160", "study/study_160_empty_wrappers.xml"),
            ("estimationprocedure/list", "misc/estimationprocedure_list.xml"),
            ("user/list/user_id/3229", "misc/user_list_user_id_3229.xml")]


@pytest.mark.parametrize(("path", "corpus_file"), VERBATIM, ids=[v[1] for v in VERBATIM])
async def test_corpus_entities_are_served_byte_identical(emu, http, path, corpus_file):
    status, body = await fetch(http, emu, path)
    assert status == 200
    assert body == (CORPUS / corpus_file).read_bytes()


async def test_corpus_entities_appear_in_lists(emu, http):
    _, body = await fetch(http, emu, "data/list/data_id/2,61,40945")
    assert [e.text for e in ET.fromstring(body).iter(f"{OML}name")] == ["anneal", "iris", "Titanic"]
    _, body = await fetch(http, emu, "run/list/run/100,26936/show_errors/true")
    assert [e.text for e in ET.fromstring(body).iter(f"{OML}run_id")] == ["100", "26936"]
    _, body = await fetch(http, emu, "run/list/run/100,26936")  # 26936 has an evaluation-engine error
    assert [e.text for e in ET.fromstring(body).iter(f"{OML}run_id")] == ["100"]
    _, body = await fetch(http, emu, "evaluation/list/function/predictive_accuracy/run/100")
    assert ET.fromstring(body).find(f"{OML}evaluation/{OML}value").text == "0.922242"
    _, body = await fetch(http, emu, "flow/5271")  # the nested component of flow 5270, as its own response
    assert ET.fromstring(body).find(f"{OML}name").text == "mlr.classif.randomForest"


DELETES = [("data", "data/delete/data_delete_successful.xml"), ("task", "task/delete/task_delete_successful.xml"),
           ("flow", "flow/delete/flow_delete_successful.xml"), ("run", "run/delete/run_delete_successful.xml")]


def _deletable(store: Store, kind: str) -> int:
    if kind == "run":
        return next(r for r in store.all_run_ids() if store.run(r).uploader == 2)
    if kind == "task":
        return next(t.id for t in store.tasks.values() if t.uploader == 2 and not store.runs_by_task.get(t.id))
    if kind == "flow":
        return next(f.id for f in store.flows.values() if f.uploader == 2 and not store.runs_by_flow.get(f.id)
                    and not store.parents.get(f.id))
    return next(d.id for d in store.datasets.values()
                if d.uploader == 2 and not any(t.did == d.id for t in store.tasks.values()))


@pytest.mark.parametrize(("kind", "corpus_file"), DELETES, ids=[d[1] for d in DELETES])
async def test_delete_response_shape(emu_plain, http, kind, corpus_file):
    eid = _deletable(emu_plain.state.store, kind)
    status, body = await fetch(http, emu_plain, f"{kind}/{eid}", "DELETE", api_key="demo-key-alice")
    assert status == 200, body
    assert element_paths(body) == element_paths((CORPUS / corpus_file).read_bytes())
    assert ET.fromstring(body).find(f"{OML}id").text == str(eid)


ERROR_FILES = [("data/delete/data_delete_not_exist.xml", "data/999999"),
               ("flow/delete/flow_delete_not_exist.xml", "flow/999999"),
               ("run/delete/run_delete_not_exist.xml", "run/99999999"),
               ("task/delete/task_delete_not_exist.xml", "task/999999")]


@pytest.mark.parametrize(("corpus_file", "path"), ERROR_FILES, ids=[e[0] for e in ERROR_FILES])
async def test_delete_error_matches_recording(emu_plain, http, corpus_file, path):
    status, body = await fetch(http, emu_plain, path, "DELETE", api_key="demo-key-alice")
    recorded = ET.fromstring((CORPUS / corpus_file).read_bytes())
    got = ET.fromstring(body)
    assert status == 412
    assert element_paths(body) == element_paths((CORPUS / corpus_file).read_bytes())
    assert got.find(f"{OML}code").text == recorded.find(f"{OML}code").text
    assert got.find(f"{OML}message").text == recorded.find(f"{OML}message").text
