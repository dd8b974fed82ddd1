"""Every recorded OpenML response parses through the normalizer; spot checks per quirk of the MANIFEST."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from adapters._xml import parse_xml
from adapters.openml_v1 import normalize as nz
from adapters.records import RunRecord
from gateway.errors import BackendError, BadUserInputError, ForbiddenError, GatewayError, NotFoundError
from tests.corpus import CORPUS, corpus_files, read

# root element -> normalizer (upload requests are request bodies, not responses)
PARSERS = {
    "oml:data_set_description": nz.dataset_from_xml,
    "oml:data_features": nz.features_from_xml,
    "oml:data_qualities": nz.qualities_from_xml,
    "oml:data": nz.dataset_list_from_xml,
    "oml:flow": nz.flow_from_xml,
    "oml:flows": nz.flow_list_from_xml,
    "oml:run": nz.run_from_xml,
    "oml:runs": nz.run_list_from_xml,
    "oml:task": nz.task_from_xml,
    "oml:tasks": nz.task_list_from_xml,
    "oml:setup_parameters": nz.setup_from_xml,
    "oml:evaluations": nz.evaluation_list_from_xml,
    "oml:users": nz.users_from_xml,
    "oml:estimationprocedures": nz.estimation_procedures_from_xml,
    "oml:study": nz.study_from_xml,
}


def _root(body: bytes) -> str:
    start = body.lstrip().split(b">", 1)[0]
    return start.lstrip(b"<").split()[0].decode()


# responses to writes the gateway never reads back, and the trace example (no trace field yet)
NOT_READ = {"oml:study_upload", "oml:study_attach", "oml:study_status_update", "oml:trace"}
RESPONSES = [p for p in corpus_files() if "upload-requests" not in p.parts]


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_normalize_every_corpus_response(path: Path) -> None:
    body = path.read_bytes()
    root = _root(body)
    if root == "oml:error":
        with pytest.raises(GatewayError) as info:
            nz.delete_from_xml(body, "data")
        assert info.value.backend == "openml" and info.value.backend_code
        return
    if root.endswith("_delete"):
        assert nz.delete_from_xml(body, root.removeprefix("oml:").removesuffix("_delete")) > 0
        return
    if root in NOT_READ:
        doc = parse_xml(body, backend="openml", force_list=())
        assert list(doc) == [root]
        return
    parser = PARSERS[root]
    result = parser(body)
    items = result if isinstance(result, tuple) else (result,)
    assert items, f"{path.name} normalized to nothing"
    if "synthetic-mocks" in path.parts:
        return  # hand-written mocks: parse only, no strict value checks


def test_dataset_iris_modern_description() -> None:
    d = nz.dataset_from_xml(read("v1-xml/data/data_61_iris.xml"))
    assert (d.id, d.name, d.version, d.format, d.status) == (61, "iris", 1, "arff", "active")
    assert d.creators == ("R.A. Fisher",)
    assert d.collection_date == "1936"  # free text, never parsed
    assert d.upload_date == datetime(2014, 4, 6, 23, 23, 39)  # the T format
    assert isinstance(d.processing_date, datetime)  # the space format
    assert len(d.tags) == 15 and all(isinstance(t, str) for t in d.tags)
    assert d.description_version == 4 and d.md5_checksum == "ad484452702105cbf3d30f8deaba39a9"


def test_dataset_single_tag_is_a_list() -> None:
    d = nz.dataset_from_xml(read("v1-xml/data/data_40945_titanic.xml"))
    assert isinstance(d.tags, tuple) and len(d.tags) == 1


def test_dataset_format_casing_and_empty_description() -> None:
    d = nz.dataset_from_xml(read("v1-xml/data/data_395_sparse_arff.xml"))
    assert d.format == "sparse_arff"
    assert d.description is None  # <oml:description></oml:description>
    assert "word count" in d.tags  # a tag with a space


def test_dataset_double_escaped_entities_decoded() -> None:
    d = nz.dataset_from_xml(read("v1-xml/data/data_4136_dexter_sparse_double_escaped.xml"))
    assert d.description is not None
    assert "&ldquo;" not in d.description and "&lt;" not in d.description
    assert "\u201c" in d.description or "<" in d.description


def test_dataset_no_file_id_and_not_applicable_md5() -> None:
    d = nz.dataset_from_xml(read("v1-xml/data/data_106_vineyard_row_id.xml"))
    assert d.file_id is None and d.md5_checksum is None
    assert d.row_id_attributes == ("row_number",)


def test_dataset_old_response_with_quot_entity() -> None:
    d = nz.dataset_from_xml(read("v1-xml/data/data_2_anneal.xml"))
    assert d.name == "anneal" and d.creators == () and d.description_version is None
    assert d.description is not None and "&quot;" not in d.description


def test_features_keep_significant_whitespace() -> None:
    features = nz.features_from_xml(read("v1-xml/data/data_features_whitespace_nominals.xml"))
    nominal = next(f for f in features if f.nominal_values)
    assert nominal.nominal_values == (" - 50000.", " 50000+.")


def test_features_typed() -> None:
    features = nz.features_from_xml(read("v1-xml/data/data_features_2.xml"))
    assert len(features) == 39 and [f.index for f in features] == list(range(39))
    assert all(isinstance(f.is_target, bool) for f in features)
    assert sum(f.is_target for f in features) == 1
    assert all(isinstance(f.number_of_missing_values, int) for f in features)


def test_qualities_floats_and_sentinels() -> None:
    qualities = {q.name: q.value for q in nz.qualities_from_xml(read("v1-xml/data/data_qualities_2.xml"))}
    assert qualities["ClassCount"] == 6.0 and qualities["ClassEntropy"] == -1.0
    assert all(v is None or isinstance(v, float) for v in qualities.values())


def test_flow_nested_component_with_redeclared_namespace() -> None:
    flow = nz.flow_from_xml(read("v1-xml/flow/flow_5270_nested_component.xml"))
    assert flow.id == 5270 and flow.version == "1"
    assert flow.upload_date == datetime(2016, 9, 6, 19, 3, 23)  # a pre-2017 space date
    assert [(c.identifier, c.flow.id) for c in flow.components] == [("randomForest", 5271)]
    assert any(p.default_value is None for p in flow.parameters)  # empty elements are None


def test_flow_float_version_and_contributors() -> None:
    flow = nz.flow_from_xml(read("v1-xml/flow/flow_2_contributors_float_version.xml"))
    assert flow.version == "1.0" and len(flow.contributors) == 9


def test_flow_deep_nesting_synthetic() -> None:
    flow = nz.flow_from_xml(read("synthetic-mocks/flow_4024_deep_nesting.xml"))
    depth = 0
    node = flow
    while node.components:
        node = node.components[0].flow
        depth += 1
    assert depth == 3


def test_run_fold_evaluations() -> None:
    run: RunRecord = nz.run_from_xml(read("v1-xml/run/run_100_fold_evaluations.xml"))
    assert (run.id, run.task_id, run.flow_id, run.setup_id) == (100, 28, 67, 12)
    assert run.error is None  # empty <oml:error></oml:error>
    evaluations = {e.measure: e for e in run.evaluations}
    accuracy = evaluations["predictive_accuracy"]
    assert accuracy.value == pytest.approx(0.922242) and len(accuracy.per_fold) == 10
    assert {f.fold for f in accuracy.per_fold} == set(range(10))
    assert evaluations["area_under_roc_curve"].array_data[0] == pytest.approx(0.99724)  # JSON array decoded
    os_info = evaluations["os_information"]
    assert os_info.value is None and isinstance(os_info.array_data, str)  # not JSON: kept as the string
    assert [f.name for f in run.output_files] == ["description", "predictions"]
    assert all(p.component is None for p in run.parameter_settings)  # old server: no component


def test_run_components_and_engine_error_without_evaluations() -> None:
    run = nz.run_from_xml(read("v1-xml/run/run_26936_parameter_components.xml"))
    assert run.evaluations == () and run.error and run.setup_string is None
    assert run.parameter_settings[0].component == 75243
    assert run.input_dataset_ids == (10,)


def test_run_list_space_dates_and_empty_elements() -> None:
    runs = nz.run_list_from_xml(read("v1-xml/run/list/run_list_limit_10_offset_0.xml"))
    assert len(runs) == 10 and runs[0].upload_time == datetime(2026, 1, 20, 10, 50, 4)
    assert runs[0].error_message is None and runs[0].run_details is None


def test_tasks_old_new_regression_legacy() -> None:
    old = nz.task_from_xml(read("v1-xml/task/task_1882_classification.xml"))
    assert old.name is None and old.estimation_procedure and old.estimation_procedure.percentage is None
    assert old.cost_matrix is None and old.tags == ("under100k", "under1m")
    new = nz.task_from_xml(read("v1-xml/task/task_7_with_task_name.xml"))
    assert new.name == "Task 7: kr-vs-kp (Supervised Classification)"
    assert new.evaluation_measures == ()  # one EMPTY evaluation_measure element
    regression = nz.task_from_xml(read("v1-xml/task/task_631_regression.xml"))
    assert regression.estimation_procedure and regression.estimation_procedure.id is None
    assert regression.estimation_procedure.stratified_sampling is None
    legacy = nz.task_from_xml(read("v1-xml/task/task_59_legacy_no_type_id.xml"))
    assert legacy.task_type_id is None and legacy.dataset_id == 61


def test_task_list_builds_the_server_task_name() -> None:
    tasks = nz.task_list_from_xml(read("v1-xml/task/list/task_list_type_3_learning_curve.xml"))
    assert len(tasks) == 208
    assert tasks[0].name == "Task 763: anneal (Learning Curve)" and tasks[0].target_name == "class"
    clustering = nz.task_list_from_xml(read("v1-xml/task/list/task_list_type_5_clustering.xml"))
    assert all(t.target_name is None for t in clustering) and clustering[0].qualities[0].value == 0.0


def test_setup_without_name_uses_parameter_name() -> None:
    setup = nz.setup_from_xml(read("v1-xml/setup/setup_100_parameters.xml"))
    assert setup.id == 100 and [p.name for p in setup.parameters] == ["C", "M"]


def test_evaluation_list_rows() -> None:
    rows = nz.evaluation_list_from_xml(read("v1-xml/evaluation/evaluation_list_predictive_accuracy_limit_10.xml"))
    assert len(rows) == 10 and rows[0].data_id == 20 and rows[0].data_name == "diabetes"
    assert isinstance(rows[0].value, float) and rows[0].upload_time == datetime(2026, 1, 20, 10, 50, 4)


def test_studies_and_empty_wrappers() -> None:
    study = nz.study_from_xml(read("v1-xml/study/study_157_run_study.xml"))
    assert study.main_entity_type == "run" and len(study.run_ids) == 10
    suite = nz.study_from_xml(read("v1-xml/study/study_146_task_suite.xml"))
    assert suite.data_ids == (1,) and suite.run_ids == ()
    empty = nz.study_from_xml(read("v1-xml/study/study_160_empty_wrappers.xml"))
    assert empty.run_ids == () and empty.task_ids == ()


def test_php_json_error_and_xml_error_sniffed() -> None:
    assert isinstance(nz.error_from_body(b'{"error":{"code":"111","message":"Unknown dataset"}}', 412), NotFoundError)
    xml = (b'<oml:error xmlns:oml="http://openml.org/openml"><oml:code>112</oml:code>'
           b"<oml:message>No access</oml:message></oml:error>")
    assert isinstance(nz.error_from_body(xml, 412), ForbiddenError)
    assert isinstance(nz.error_from_body(b"<html><body>414</body></html>", 414), BackendError)
    assert isinstance(nz.error_from_body(xml.replace(b"112", b"512"), 412), nz.NoResults)


@pytest.mark.parametrize(
    ("relative", "error", "code"),
    [
        ("v1-xml/data/delete/data_delete_not_exist.xml", NotFoundError, "352"),
        ("v1-xml/data/delete/data_delete_not_owned.xml", ForbiddenError, "353"),
        ("v1-xml/data/delete/data_delete_has_tasks.xml", BadUserInputError, "354"),
        ("v1-xml/flow/delete/flow_delete_is_subflow.xml", BadUserInputError, "328"),
        ("v1-xml/run/delete/run_delete_not_owned.xml", ForbiddenError, "393"),
        ("v1-xml/task/delete/task_delete_has_runs.xml", BadUserInputError, "454"),
    ],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", str(v)),
)
def test_error_codes_map_to_taxonomy(relative: str, error: type[GatewayError], code: str) -> None:
    with pytest.raises(error) as info:
        nz.delete_from_xml(read(relative), "data")
    assert info.value.backend_code == code and info.value.message


def test_php_json_description_normalizes_like_xml() -> None:
    d = nz.dataset_from_json(read("v1-json/data_130_php_json.json"))
    assert (d.id, d.name, d.version, d.format, d.visibility) == (130, "iris", 2, "arff", "private")
    assert d.description is None  # "description": [] is empty, not a list
    assert d.creators == ("R.A. Fisher",) and d.default_target_attributes == ("class",)
    assert d.url == "https://test.openml.org/data/v1/download/130/iris.arff"  # \/ unescaped
    assert d.processing_date == datetime(2022, 11, 24, 20, 54, 14)
    xml_error = b'<oml:error xmlns:oml="http://openml.org/openml"><oml:code>103</oml:code></oml:error>'
    with pytest.raises(GatewayError) as info:
        nz.dataset_from_json(xml_error)  # an XML error on a JSON URL (errors before dispatch)
    assert info.value.code == "UNAUTHENTICATED"


@pytest.mark.parametrize("path", corpus_files("arff/*.arff"), ids=lambda p: p.name)
def test_arff_headers_parse(path: Path) -> None:
    relation, attributes = nz.arff_header(path.read_bytes())
    assert relation and attributes and all(name and kind for name, kind in attributes)


def test_arff_splits_and_row_id_pair_with_their_descriptions() -> None:
    _, splits = nz.arff_header(read("arff/task_631_datasplits.arff"))
    assert [name for name, _ in splits] == ["type", "rowid", "repeat", "fold"]
    _, columns = nz.arff_header(read("arff/data_106_vineyard.arff"))
    row_id = nz.dataset_from_xml(read("v1-xml/data/data_106_vineyard_row_id.xml")).row_id_attributes
    assert row_id[0] in [name for name, _ in columns]


@pytest.mark.parametrize("path", corpus_files("upload-requests/*.xml"), ids=lambda p: p.name)
def test_upload_request_bodies_are_well_formed(path: Path) -> None:
    doc = parse_xml(path.read_bytes(), backend="openml", force_list=())
    assert len(doc) == 1
