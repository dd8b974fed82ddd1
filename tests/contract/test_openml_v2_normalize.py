"""The v2 normalizers on the server-api's shapes (openml-api.md §5.1-5.3): typed JSON, its PHP-like quirks,
RFC 9457 problems with a lenient ``code``; pure, no HTTP."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from adapters.openml_v2 import normalize as nz
from adapters.openml_v2.errors import NoResults, error_from_response, parse_problem
from gateway.errors import (
    BackendError,
    BackendUnavailableError,
    BadUserInputError,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


# The server-api's DatasetMetadata for dataset 1 (tests/routers/openml/datasets_get_test.py), lightly trimmed.
DATASET_1: dict[str, Any] = {
    "id": 1, "visibility": "public", "status": "active", "name": "anneal", "licence": "Public", "version": 1,
    "version_label": "1", "language": "English", "creator": ["David Sterling", "Wray Buntine"], "contributor": [],
    "citation": "https://archive.ics.uci.edu/ml/citation_policy.html", "paper_url": None,
    "upload_date": "2014-04-06T23:19:24", "processing_date": "2024-01-04T10:13:59", "error": None, "warning": None,
    "collection_date": None, "description": "The original Annealing dataset &amp; more from UCI.",
    "description_version": 1, "tag": ["study_1", "uci"], "default_target_attribute": ["class"],
    "ignore_attribute": [], "row_id_attribute": [], "url": "http://php-api/data/v1/download/1/anneal.arff",
    "parquet_url": "http://minio:9000/datasets/0000/0001/dataset_1.pq", "file_id": 1, "format": "arff",
    "original_data_url": ["https://www.openml.org/d/1"], "md5_checksum": "4eaed8b6ec9d8211024b6c089b064761",
}


def test_dataset_typed_metadata() -> None:
    d = nz.dataset_from_json(body(DATASET_1))
    assert (d.id, d.name, d.version, d.format, d.status, d.visibility) == (1, "anneal", 1, "arff", "active", "public")
    assert d.creators == ("David Sterling", "Wray Buntine") and d.contributors == ()
    assert d.upload_date == datetime(2014, 4, 6, 23, 19, 24) and d.processing_date == datetime(2024, 1, 4, 10, 13, 59)
    assert d.tags == ("study_1", "uci") and d.default_target_attributes == ("class",)
    assert d.description == "The original Annealing dataset & more from UCI."  # one more level of entities
    assert d.original_data_urls == ("https://www.openml.org/d/1",)
    assert d.uploader is None and d.raw_extra == {} and d.collection_date is None


def test_dataset_server_defaults_are_none() -> None:
    """The server writes ``""`` for null text columns and description_version 0 for "no description row"."""
    d = nz.dataset_from_json({**DATASET_1, "version_label": "", "language": "", "citation": "", "description": "",
                              "description_version": 0, "md5_checksum": "NotApplicable"})
    assert (d.version_label, d.language, d.citation, d.description, d.description_version, d.md5_checksum) == (
        None, None, None, None, None, None)


def test_dataset_php_like_values_are_read_too() -> None:
    """One value where a list belongs, numbers as strings, a mixed-case format, a space date, extra fields."""
    d = nz.dataset_from_json({**DATASET_1, "version": "3", "file_id": "61", "creator": "Alice, Bob", "tag": "uci",
                              "format": "Sparse_ARFF", "processing_date": "2019-07-09 15:22:03", "minio_url": "x"})
    assert (d.version, d.file_id, d.format) == (3, 61, "sparse_arff")
    assert d.creators == ("Alice", "Bob") and d.tags == ("uci",)
    assert d.processing_date == datetime(2019, 7, 9, 15, 22, 3)
    assert d.raw_extra == {"minio_url": "x"}


def test_dataset_list_rows() -> None:
    rows = nz.dataset_list_from_json(body([
        {"did": 2, "name": "anneal", "version": 1, "format": "ARFF", "file_id": 1666876, "status": "active",
         "md5_checksum": "", "quality": [{"name": "NumberOfInstances", "value": 898.0},
                                         {"name": "NumberOfClasses", "value": 5}]},
        {"did": 3, "name": "kr-vs-kp", "version": 1, "format": "Sparse_ARFF", "file_id": None, "status": "active",
         "md5_checksum": "", "quality": []},
    ]))
    assert [(r.id, r.format, r.file_id, r.uploader) for r in rows] == [(2, "arff", 1666876, None), (3, "sparse_arff",
                                                                                                   None, None)]
    assert [(q.name, q.value) for q in rows[0].qualities] == [("NumberOfInstances", 898.0), ("NumberOfClasses", 5.0)]


def test_features_keep_whitespace_and_sort_by_index() -> None:
    features = nz.features_from_json(body([
        {"index": 1, "name": "class", "data_type": "nominal", "is_target": True, "is_ignore": False,
         "is_row_identifier": False, "number_of_missing_values": 0, "nominal_values": [" - 50000.", " 50000+."]},
        {"index": 0, "name": "age", "data_type": "numeric", "ontology": ["http://x/age"], "is_target": "false",
         "is_ignore": False, "is_row_identifier": False, "number_of_missing_values": "3"},
    ]))
    assert [f.index for f in features] == [0, 1]
    assert features[0].ontologies == ("http://x/age",) and features[0].number_of_missing_values == 3
    assert features[0].is_target is False and features[0].nominal_values == ()
    assert features[1].nominal_values == (" - 50000.", " 50000+.") and features[1].is_target is True


def test_qualities_null_and_stringified_values() -> None:
    qualities = nz.qualities_from_json(body([{"name": "ClassCount", "value": 6.0}, {"name": "Kurtosis", "value": None},
                                             {"name": "NumberOfClasses", "value": "None"}]))
    assert [(q.name, q.value) for q in qualities] == [("ClassCount", 6.0), ("Kurtosis", None),
                                                      ("NumberOfClasses", None)]


def test_quality_names_keep_the_php_nesting() -> None:
    payload = {"data_qualities_list": {"quality": ["AutoCorrelation", "ClassEntropy"]}}
    assert nz.quality_names_from_json(body(payload)) == ("AutoCorrelation", "ClassEntropy")


# The server-api's expected GET /tasks/59 (tests/routers/openml/task_get_test.py).
TASK_59: dict[str, Any] = {
    "id": 59, "name": "Task 59: mfeat-pixel (Supervised Classification)", "task_type_id": 1,
    "task_type": "Supervised Classification",
    "input": [
        {"name": "source_data", "data_set": {"data_set_id": 10, "target_feature": "class"}},
        {"name": "estimation_procedure", "estimation_procedure": {
            "id": 5, "type": "holdout", "data_splits_url": "http://php-api:80/api_splits/get/59/Task_59_splits.arff",
            "parameter": [{"name": "number_repeats", "value": 1}, {"name": "number_folds", "value": None},
                          {"name": "percentage", "value": 33}, {"name": "stratified_sampling", "value": "true"}]}},
        {"name": "cost_matrix", "cost_matrix": []},
        {"name": "evaluation_measures", "evaluation_measures": {"evaluation_measure": []}},
    ],
    "output": [{"name": "predictions", "predictions": {"format": "ARFF", "feature": [
        {"name": "repeat", "type": "integer"}, {"name": "fold", "type": "integer"},
        {"name": "row_id", "type": "integer"}, {"name": "confidence.classname", "type": "numeric"},
        {"name": "prediction", "type": "string"}]}}],
    "tags": ["OpenML100"],
}


def test_task_filled_templates() -> None:
    t = nz.task_from_json(body(TASK_59))
    assert (t.id, t.task_type_id, t.dataset_id, t.target_name) == (59, 1, 10, "class")
    ep = t.estimation_procedure
    assert ep is not None and (ep.id, ep.type, ep.number_repeats, ep.number_folds, ep.percentage,
                               ep.stratified_sampling) == (5, "holdout", 1, None, 33.0, True)
    assert t.evaluation_measures == () and t.cost_matrix is None and t.inputs == {}
    assert t.prediction_features[-1] == ("prediction", "string") and len(t.prediction_features) == 5
    assert t.tags == ("OpenML100",)  # ``tags`` on the task GET, ``tag`` elsewhere


def test_task_single_elements_and_extra_inputs() -> None:
    """xmltodict turns a one-element template list into an object; type-specific inputs stay in ``inputs``."""
    payload = {**TASK_59, "input": [
        {"name": "estimation_procedure", "estimation_procedure": {"id": 1, "type": "crossvalidation",
                                                                  "parameter": {"name": "number_folds", "value": 10}}},
        {"name": "evaluation_measures", "evaluation_measures": {"evaluation_measure": "predictive_accuracy"}},
        {"name": "number_samples", "number_samples": 12},
    ], "output": {"name": "predictions", "predictions": {"format": "ARFF", "feature": {"name": "row_id",
                                                                                       "type": "integer"}}}}
    t = nz.task_from_json(payload)
    assert t.estimation_procedure is not None and t.estimation_procedure.number_folds == 10
    assert t.evaluation_measures == ("predictive_accuracy",) and t.inputs == {"number_samples": "12"}
    assert t.prediction_features == (("row_id", "integer"),) and t.dataset_id is None


def test_task_list_rows_have_string_qualities_and_optional_parts() -> None:
    rows = nz.task_list_from_json(body([
        {"task_id": 1, "task_type_id": 1, "task_type": "Supervised Classification", "did": 1, "name": "anneal",
         "format": "ARFF", "status": "active",
         "input": [{"name": "estimation_procedure", "value": "1"}, {"name": "source_data", "value": "1"},
                   {"name": "target_feature", "value": "class"},
                   {"name": "evaluation_measures", "value": "predictive_accuracy,area_under_roc_curve"}],
         "quality": [{"name": "NumberOfInstances", "value": "898.0"}], "tag": ["OpenML100"]},
        {"task_id": 2, "task_type_id": 5, "task_type": "Clustering", "did": 3, "name": "kr-vs-kp", "format": "ARFF",
         "status": "active"},
    ]))
    first, second = rows
    assert first.name == "Task 1: anneal (Supervised Classification)" and first.format == "arff"
    assert (first.estimation_procedure_id, first.target_name) == (1, "class")
    assert first.evaluation_measures == ("predictive_accuracy", "area_under_roc_curve")
    assert [(q.name, q.value) for q in first.qualities] == [("NumberOfInstances", 898.0)]
    assert (second.inputs, second.qualities, second.tags, second.dataset_id) == ({}, (), (), 3)


def test_estimation_procedures_task_type_id_and_outer_nesting() -> None:
    rows = [{"id": 1, "task_type_id": 1, "name": "10-fold Crossvalidation", "type": "crossvalidation", "repeats": 1,
             "folds": 10, "stratified_sampling": True},
            {"id": 5, "task_type_id": 1, "name": "33% Holdout set", "type": "holdout", "percentage": 33,
             "repeats": 1, "stratified_sampling": False}]
    plain = nz.estimation_procedures_from_json(body(rows))
    assert [(p.id, p.task_type_id, p.number_folds, p.percentage, p.stratified_sampling) for p in plain] == [
        (1, 1, 10, None, True), (5, 1, None, 33.0, False)]
    php = {"estimationprocedures": {"estimationprocedure": [{**rows[0], "task_type_id": None, "ttid": "1",
                                                             "stratified_sampling": "true"}]}}
    assert nz.estimation_procedures_from_json(body(php)) == plain[:1]


def test_evaluation_measures_plain_or_nested() -> None:
    assert nz.evaluation_measures_from_json(body(["accuracy", "kappa"])) == ("accuracy", "kappa")
    nested = {"evaluation_measures": {"measures": {"measure": ["accuracy"]}}}
    assert nz.evaluation_measures_from_json(body(nested)) == ("accuracy",)


def _flow(fid: int, subflows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": fid, "uploader": 16, "name": f"weka.F{fid}", "class_name": None, "version": 1,
            "external_version": "Weka_3.9.0_10153", "description": "A &lt;rule&gt; learner", "upload_date":
            "2017-03-24T14:26:40", "language": "English", "dependencies": "Weka_3.9.0",
            "parameter": [{"name": "F", "data_type": "option", "default_value": 3, "description": ""},
                          {"name": "N", "data_type": "option", "default_value": 2.0, "description": "weight"},
                          {"name": "D", "data_type": "flag", "default_value": None, "description": "debug"},
                          {"name": "Q", "data_type": "", "default_value": "weka.K2", "description": "search"}],
            "subflows": subflows, "tag": ["weka"]}


def test_flow_subflows_become_components_recursively() -> None:
    flow = nz.flow_from_json(body(_flow(3, [{"identifier": None, "flow": _flow(4, [
        {"identifier": "inner", "flow": _flow(5, [])}])}])))
    assert [(c.identifier, c.flow.id) for c in flow.components] == [("", 4)]
    assert [f.id for f in flow.walk()] == [3, 4, 5] and flow.components[0].flow.components[0].identifier == "inner"
    assert flow.version == "1" and flow.class_name is None and flow.description == "A <rule> learner"
    assert [(p.name, p.default_value, p.data_type) for p in flow.parameters] == [
        ("F", "3", "option"), ("N", "2.0", "option"), ("D", None, "flag"), ("Q", "weka.K2", None)]
    assert flow.parameters[0].description is None and flow.tags == ("weka",)


RUN_24: dict[str, Any] = {
    "run_id": 24, "uploader": 1159, "uploader_name": "Cynthia Glover", "task_id": 115,
    "task_type": "Supervised Classification", "flow_id": 19, "flow_name": "sklearn.Pipeline(1)", "setup_id": 2,
    "setup_string": "Python_3.10.5. Sklearn_1.1.1.",
    "parameter_setting": [{"name": "C", "value": "0.1", "component": 19}, {"name": "k", "value": None,
                                                                            "component": 20}],
    "error": [], "tag": ["openml-python"],
    "input_data": [{"did": 20, "name": "diabetes", "url": "https://www.openml.org/data/download/20/diabetes.arff"}],
    "output_data": {"file": [{"file_id": 182, "name": "description"}, {"file_id": 183, "name": "predictions"}],
                    "evaluation": [
                        {"name": "area_under_roc_curve", "value": 0.839359, "array_data": "[0.839359,0.839359]"},
                        {"name": "number_of_instances", "value": 768},
                        {"name": "os_information", "array_data": "[ Oracle Corporation, 1.7.0_51 ]"},
                        {"name": "number_of_instances", "value": 77, "repeat": 0, "fold": 1},
                        {"name": "number_of_instances", "value": 77, "repeat": 0, "fold": 0},
                        {"name": "usercpu_time_millis", "value": 3.5, "repeat": 0, "fold": 0}]},
}


def test_run_typed_evaluations_files_without_url_and_error_list() -> None:
    run = nz.run_from_json(body(RUN_24))
    assert (run.id, run.flow_id, run.setup_id, run.error, run.input_dataset_ids) == (24, 19, 2, None, (20,))
    assert [(f.file_id, f.name, f.url) for f in run.output_files] == [(182, "description", None),
                                                                     (183, "predictions", None)]
    assert [(p.name, p.value, p.component) for p in run.parameter_settings] == [("C", "0.1", 19), ("k", None, 20)]
    evals = {e.measure: e for e in run.evaluations}
    assert list(evals) == ["area_under_roc_curve", "number_of_instances", "os_information", "usercpu_time_millis"]
    assert evals["area_under_roc_curve"].array_data == [0.839359, 0.839359]
    assert evals["number_of_instances"].value == 768.0 and isinstance(evals["number_of_instances"].value, float)
    assert [(f.fold, f.value) for f in evals["number_of_instances"].per_fold] == [(0, 77.0), (1, 77.0)]
    assert evals["os_information"].value is None and isinstance(evals["os_information"].array_data, str)
    assert evals["usercpu_time_millis"].value is None and len(evals["usercpu_time_millis"].per_fold) == 1


def test_run_error_list_and_php_input_data_shape() -> None:
    run = nz.run_from_json({**RUN_24, "error": ["Attribute confidence.1 not found among predictions. "],
                            "input_data": {"dataset": {"did": "10", "name": "mfeat-pixel"}}})
    assert run.error == "Attribute confidence.1 not found among predictions." and run.error_message is None
    assert run.input_dataset_ids == (10,)


def test_trace_selected_is_a_string() -> None:
    trace = nz.trace_from_json(body({"run_id": 7, "trace": [
        {"repeat": 0, "fold": 0, "iteration": 0, "setup_string": "{}", "evaluation": 0.9, "selected": "true"},
        {"repeat": 0, "fold": 0, "iteration": 1, "setup_string": None, "evaluation": None, "selected": "false"}]}))
    assert [(t.iteration, t.selected, t.evaluation) for t in trace] == [(0, True, 0.9), (1, False, None)]


def test_setup_parameters_typed_and_optional() -> None:
    full = nz.setup_from_json(body({"setup_parameters": {"setup_id": 1, "flow_id": 60, "parameter": [
        {"id": 3432, "flow_id": 60, "flow_name": "weka.J48", "full_name": "weka.J48(1)_C", "parameter_name": "C",
         "name": "C", "data_type": "option", "default_value": "0.25", "value": "0.9"},
        {"id": 3433, "flow_id": 60, "flow_name": "weka.J48", "full_name": "weka.J48(1)_U", "parameter_name": "U",
         "name": "U", "data_type": "flag"}]}}))
    assert (full.id, full.flow_id) == (1, 60)
    assert [(p.name, p.default_value, p.value) for p in full.parameters] == [("C", "0.25", "0.9"), ("U", None, None)]
    empty = nz.setup_from_json(body({"setup_parameters": {"setup_id": 2, "flow_id": 61}}))
    assert empty.parameters == ()


def test_study_flat_id_lists() -> None:
    study = nz.study_from_json(body({
        "id": 1, "name": "Test Suite", "alias": None, "main_entity_type": "task", "description": "d",
        "visibility": "public", "status": "in_preparation", "creation_date": "2019-02-25T17:15:01", "creator": 1,
        "task_ids": [1, 2], "run_ids": [], "data_ids": ["1", 2], "setup_ids": [], "flow_ids": []}))
    assert (study.task_ids, study.data_ids, study.run_ids, study.main_entity_type) == ((1, 2), (1, 2), (), "task")
    assert study.creation_date == datetime(2019, 2, 25, 17, 15, 1)


@pytest.mark.parametrize(("payload", "root", "tags"), [
    ({"data_tag": {"id": "21", "tag": ["study_14", "uci"]}}, "data_tag", ("study_14", "uci")),
    ({"data_untag": {"id": "21", "tag": "uci"}}, "data_untag", ("uci",)),
    ({"data_untag": {"id": "21"}}, "data_untag", ()),
    ({"setup_untag": {"id": "3", "tag": []}}, "setup_untag", ()),
], ids=["tag-list", "untag-one-string", "untag-none-left", "setup-untag-empty"])
def test_tag_results_with_string_ids(payload: dict[str, Any], root: str, tags: tuple[str, ...]) -> None:
    result = nz.tag_result_from_json(body(payload), root)
    assert result.id == int(next(iter(payload.values()))["id"]) and result.tags == tags


# ---- malformed success bodies -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("parse", "raw"), [
    (nz.dataset_from_json, b"<html>502 Bad Gateway</html>"),
    (nz.dataset_from_json, b"[1, 2]"),
    (nz.dataset_from_json, b'{"name": "no id"}'),
    (nz.features_from_json, b'[{"name": "no index"}]'),
    (nz.run_from_json, b'{"run_id": 1, "output_data": {"file": [{"name": "x"}]}}'),
    (nz.task_list_from_json, b'{"detail": "not a list"}'),
    (nz.task_list_from_json, b'[{"task_id": "abc"}]'),
], ids=["html", "list-for-object", "missing-id", "feature-without-index", "file-without-id", "object-for-list",
        "non-numeric-id"])
def test_malformed_bodies_are_backend_errors(parse: Any, raw: bytes) -> None:
    with pytest.raises(BackendError) as info:
        parse(raw)
    assert info.value.backend == "openml"


def test_problem_with_2xx_status_still_raises() -> None:
    problem = {"type": "https://openml.org/problems/dataset-not-found", "title": "Dataset Not Found", "status": 404,
               "detail": "No dataset with id 9 found.", "code": "111"}
    with pytest.raises(NotFoundError):
        nz.dataset_from_json(body(problem))


# ---- RFC 9457 problems ----------------------------------------------------------------------------------------------

def problem(slug: str, status: int, detail: Any = "explained", **extra: Any) -> bytes:
    return body({"type": f"https://openml.org/problems/{slug}", "title": slug.title(), "status": status,
                 "detail": detail, **extra})


PROBLEMS: list[tuple[str, bytes, int, type[GatewayError], str | None]] = [
    ("dataset-not-found", problem("dataset-not-found", 404, code="111"), 404, NotFoundError, "111"),
    ("int-code", problem("run-not-found", 404, code=236), 404, NotFoundError, "236"),
    ("float-code", problem("setup-not-found", 404, code=281.0), 404, NotFoundError, "281"),
    ("no-code", problem("flow-not-found", 404), 404, NotFoundError, None),
    ("blank-code", problem("task-not-found", 404, code=" "), 404, NotFoundError, None),
    ("auth-failed", problem("authentication-failed", 401, code="103"), 401, UnauthenticatedError, "103"),
    ("auth-required", problem("authentication-required", 401, code="103"), 401, UnauthenticatedError, "103"),
    ("no-access", problem("dataset-no-access", 403, code="112"), 403, ForbiddenError, "112"),
    ("tag-not-owned", problem("tag-not-owned", 403, code="476"), 403, ForbiddenError, "476"),
    ("tag-exists", problem("tag-already-exists", 409, code="473"), 409, BadUserInputError, "473"),
    ("study-legacy", problem("study-legacy", 410), 410, NotFoundError, None),
    ("no-data-file", problem("dataset-no-data-file", 412, code="113"), 412, BackendError, "113"),
    ("processing-error", problem("dataset-processing-error", 412, code="364"), 412, BackendError, "364"),
    ("internal", problem("internal-error", 500), 500, BackendError, None),
    ("unknown-slug-by-status", problem("something-new", 403), 403, ForbiddenError, None),
    ("older-detail-object", body({"detail": {"code": "111", "message": "Unknown dataset"}}), 412, NotFoundError,
     "111"),
    ("older-detail-int-code", body({"detail": {"code": 103, "message": "Authentication failed"}}), 412,
     UnauthenticatedError, "103"),
    ("fastapi-not-found", body({"detail": "Not Found"}), 404, NotFoundError, None),
    ("fastapi-422-list", body({"detail": [{"loc": ["path", "dataset_id"], "msg": "Input should be a valid integer",
                                           "type": "int_parsing"}]}), 422, BadUserInputError, None),
    ("html-500", b"<html><body>500</body></html>", 500, BackendError, None),
    ("html-503", b"<html><body>503</body></html>", 503, BackendUnavailableError, None),
    ("empty-429", b"", 429, BackendUnavailableError, None),
]


@pytest.mark.parametrize(("raw", "status", "cls", "code"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_problems_map_onto_the_taxonomy(raw: bytes, status: int, cls: type[GatewayError], code: str | None) -> None:
    error = error_from_response(raw, status)
    assert type(error) is cls
    assert isinstance(error, GatewayError) and error.backend == "openml" and error.backend_code == code
    assert error.message and "http://" not in error.message


def test_problem_detail_is_the_message() -> None:
    error = error_from_response(problem("dataset-not-found", 404, "No dataset with id 9 found.", code="111"), 404)
    assert isinstance(error, NotFoundError) and error.message == "No dataset with id 9 found."
    older = error_from_response(body({"detail": {"code": "111", "message": "Unknown dataset"}}), 412)
    assert older.message == "Unknown dataset"  # type: ignore[union-attr]


def test_validation_problem_lists_the_fields() -> None:
    raw = body({"type": "https://openml.org/problems/validation-error", "title": "Validation Error", "status": 422,
                "detail": "Input validation failed.", "errors": [
                    {"type": "less_than_equal", "loc": ["body", "pagination", "limit"],
                     "msg": "Input should be less than or equal to 1000", "input": 5000, "ctx": {"le": 1000}}]})
    error = error_from_response(raw, 422)
    assert isinstance(error, BadUserInputError) and error.backend_code is None
    assert error.message == ("Input validation failed. (body.pagination.limit: Input should be less than or equal "
                             "to 1000)")


@pytest.mark.parametrize(("raw", "code"), [
    (problem("no-results", 404, code="372"), "372"),
    (problem("no-results", 404, code="482"), "482"),
    (problem("dataset-not-processed", 412, code="363"), "363"),
    (problem("quality-no-qualities", 412, code="362"), "362"),
    (problem("dataset-no-features", 412, code="272"), "272"),
    (body({"detail": {"code": "372", "message": "No results"}}), "372"),
], ids=["datasets", "tasks", "not-processed", "no-qualities", "no-features", "older-shape"])
def test_no_results_are_not_errors(raw: bytes, code: str) -> None:
    outcome = error_from_response(raw, 404)
    assert isinstance(outcome, NoResults) and outcome.code == code


def test_parse_problem_reads_every_field_leniently() -> None:
    parsed = parse_problem(problem("run-not-found", 404, "Run 9 not found.", code=236, instance="/run/9"))
    assert parsed is not None and (parsed.slug, parsed.status, parsed.code, parsed.detail) == (
        "run-not-found", 404, "236", "Run 9 not found.")
    assert parse_problem(b"[]") is None and parse_problem(b"not json") is None
    odd = parse_problem(body({"type": "about:blank", "status": "404", "title": 7, "detail": None, "code": True}))
    assert odd is not None and (odd.slug, odd.status, odd.title, odd.detail, odd.code) == (None, None, None, None,
                                                                                           None)
