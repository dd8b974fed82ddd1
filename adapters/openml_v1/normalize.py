"""Pure normalizers: OpenML v1 XML bodies -> frozen records (no I/O).

Every function takes the response body as bytes, raises the taxonomy's error for an ``oml:error``
body (``errors.error_for_code``) and ``BackendError`` for a body of the wrong shape, and returns typed
records following design.md's normalization rules: numbers typed, multi-valued fields as tuples,
both date formats parsed, formats lower-cased, one more level of HTML entities decoded in
descriptions and messages, significant whitespace kept in nominal values.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from adapters._coerce import (
    as_list,
    opt_bool,
    opt_datetime,
    opt_float,
    opt_int,
    opt_str,
    split_csv,
    text,
    unescape_html,
)
from adapters._xml import DEFAULT_MAX_BYTES, parse_xml, sniff
from adapters.openml_v1.errors import BACKEND, NO_RESULT_CODES, error_for_code
from adapters.records import (
    DatasetFeatureRecord,
    DatasetQualityRecord,
    DatasetRecord,
    DatasetSummaryRecord,
    EstimationProcedureRecord,
    EvaluationRecord,
    EvaluationRowRecord,
    FlowComponentRecord,
    FlowParameterRecord,
    FlowRecord,
    FlowSummaryRecord,
    FoldValueRecord,
    ParameterSettingRecord,
    RunFileRecord,
    RunRecord,
    RunSummaryRecord,
    SetupParameterRecord,
    SetupRecord,
    StudyRecord,
    TagResultRecord,
    TaskRecord,
    TaskSummaryRecord,
    UserRecord,
)
from gateway.errors import BackendError, GatewayError

__all__ = [
    "NoResults",
    "dataset_from_xml",
    "dataset_list_from_xml",
    "delete_from_xml",
    "error_from_body",
    "estimation_procedures_from_xml",
    "evaluation_list_from_xml",
    "features_from_xml",
    "flow_from_xml",
    "flow_list_from_xml",
    "parse_array",
    "qualities_from_xml",
    "run_from_xml",
    "run_list_from_xml",
    "setup_from_xml",
    "setup_list_from_xml",
    "study_from_xml",
    "tag_result_from_xml",
    "task_from_xml",
    "task_list_from_xml",
    "task_name",
    "users_from_xml",
]

P = ParamSpec("P")
R = TypeVar("R")
Node = dict[str, Any]

_ERROR_LISTS = frozenset({"oml:code"})


class NoResults(Exception):
    """The backend said "no results" (a list error code): callers return an empty list."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _guard(func: Callable[P, R]) -> Callable[P, R]:
    """Turn shape errors (a missing id, a non-numeric count) into BackendError."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (GatewayError, NoResults):
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            kind = func.__name__.removesuffix("_from_xml")
            raise BackendError(
                f"The openml backend returned a malformed {kind} document ({exc}).", backend=BACKEND
            ) from exc

    return wrapper


def error_from_body(body: bytes, status: int) -> GatewayError | NoResults:
    """Return the error an error response stands for, whatever its format.

    ``oml:error`` XML and ``{"error": {...}}`` JSON bodies map through the code table ("no results"
    codes come back as NoResults); HTML pages and other bodies become BackendError naming the status.
    """
    kind = sniff(body)
    code: str | None = None
    message = ""
    if kind == "xml":
        try:
            doc = parse_xml(body, backend=BACKEND, force_list=_ERROR_LISTS)
        except BackendError as exc:
            return BackendError(f"HTTP {status} with a malformed body: {exc.message}", backend=BACKEND)
        (root, node), = doc.items()
        if root.split(":")[-1] != "error" or not isinstance(node, dict):
            return BackendError(f"HTTP {status} with an unexpected <{root}> body.", backend=BACKEND)
        code = opt_str(as_list(node.get("oml:code"))[0] if node.get("oml:code") else None)
        message = _message(node.get("oml:message"), node.get("oml:additional_information"))
    elif kind == "json":
        try:
            payload = json.loads(body)
            err = payload["error"]
            code = opt_str(str(err.get("code"))) if err.get("code") is not None else None
            message = _message(err.get("message"), err.get("additional_information"))
        except (ValueError, KeyError, TypeError, AttributeError):
            return BackendError(f"HTTP {status} with an unreadable JSON body.", backend=BACKEND)
    elif kind == "html":
        return BackendError(f"The openml backend answered HTTP {status} with an HTML page.", backend=BACKEND)
    else:
        return BackendError(f"The openml backend answered HTTP {status} with an unexpected body.", backend=BACKEND)
    if code is None:
        return BackendError(f"HTTP {status}: an error without a code ({message}).", backend=BACKEND)
    if code in NO_RESULT_CODES:
        return NoResults(code)
    return error_for_code(code, message or f"OpenML error {code}")


def _message(message: Any, info: Any) -> str:
    msg = unescape_html(opt_str(message)) or ""
    extra = unescape_html(opt_str(info))
    return f"{msg}: {extra}" if extra else msg


def _doc(body: bytes, root: str, force_list: frozenset[str], max_bytes: int = DEFAULT_MAX_BYTES) -> Node:
    """Parse ``body`` and return the root node, raising the mapped error for ``oml:error`` bodies."""
    if sniff(body) == "json":
        error = error_from_body(body, 200)
        raise error
    doc = parse_xml(body, backend=BACKEND, force_list=force_list | _ERROR_LISTS, max_bytes=max_bytes)
    (name, node), = doc.items()
    if name == "oml:error":
        raise error_from_body(body, 200)
    if name != root:
        raise BackendError(f"Expected a <{root}> document from openml, got <{name}>.", backend=BACKEND)
    return node if isinstance(node, dict) else {}


def _req_int(node: Mapping[str, Any], key: str) -> int:
    value = opt_int(node.get(key))
    if value is None:
        raise ValueError(f"missing {key}")
    return value


def _strs(values: Iterable[Any], *, strip: bool = True) -> tuple[str, ...]:
    out = []
    for value in values:
        item = opt_str(value, strip=strip)
        if item is not None:
            out.append(item)
    return tuple(out)


def _lower(value: Any) -> str | None:
    raw = opt_str(value)
    return raw.lower() if raw is not None else None


def _extra(node: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {
        key.removeprefix("oml:"): value
        for key, value in node.items()
        if key not in known and not key.startswith(("@", "#"))
    }


def parse_array(raw: str | None) -> Any:
    """Decode ``array_data`` when it is JSON (``[0.9,0.8]``), else keep the backend's string."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# ---------------------------------------------------------------------------------------------- datasets

_DATASET_LISTS = frozenset({"oml:creator", "oml:contributor", "oml:ignore_attribute", "oml:tag",
                            "oml:default_target_attribute", "oml:row_id_attribute", "oml:original_data_url"})
_DATASET_KNOWN = frozenset({
    "oml:id", "oml:name", "oml:version", "oml:description", "oml:description_version", "oml:format",
    "oml:creator", "oml:contributor", "oml:collection_date", "oml:upload_date", "oml:language", "oml:licence",
    "oml:url", "oml:parquet_url", "oml:file_id", "oml:default_target_attribute", "oml:row_id_attribute",
    "oml:ignore_attribute", "oml:version_label", "oml:citation", "oml:tag", "oml:visibility",
    "oml:original_data_url", "oml:paper_url", "oml:status", "oml:processing_date", "oml:error", "oml:warning",
    "oml:md5_checksum", "oml:uploader", "oml:minio_url",
})


@_guard
def dataset_from_xml(body: bytes) -> DatasetRecord:
    """Normalize ``data/{id}`` (``oml:data_set_description``)."""
    n = _doc(body, "oml:data_set_description", _DATASET_LISTS)
    md5 = opt_str(n.get("oml:md5_checksum"))
    return DatasetRecord(
        id=_req_int(n, "oml:id"),
        name=opt_str(n.get("oml:name")) or "",
        version=opt_int(n.get("oml:version")),
        description=unescape_html(opt_str(n.get("oml:description"))),
        description_version=opt_int(n.get("oml:description_version")),
        format=_lower(n.get("oml:format")),
        creators=split_csv(as_list(n.get("oml:creator"))),
        contributors=split_csv(as_list(n.get("oml:contributor"))),
        collection_date=opt_str(n.get("oml:collection_date")),
        upload_date=opt_datetime(n.get("oml:upload_date")),
        language=opt_str(n.get("oml:language")),
        licence=opt_str(n.get("oml:licence")),
        url=opt_str(n.get("oml:url")),
        parquet_url=opt_str(n.get("oml:parquet_url")),
        file_id=opt_int(n.get("oml:file_id")),
        default_target_attributes=split_csv(as_list(n.get("oml:default_target_attribute"))),
        row_id_attributes=split_csv(as_list(n.get("oml:row_id_attribute"))),
        ignore_attributes=split_csv(as_list(n.get("oml:ignore_attribute"))),
        version_label=opt_str(n.get("oml:version_label")),
        citation=unescape_html(opt_str(n.get("oml:citation"))),
        tags=_strs(as_list(n.get("oml:tag"))),
        visibility=_lower(n.get("oml:visibility")),
        original_data_urls=split_csv(as_list(n.get("oml:original_data_url"))),
        paper_url=opt_str(n.get("oml:paper_url")),
        status=_lower(n.get("oml:status")),
        processing_date=opt_datetime(n.get("oml:processing_date")),
        error=opt_str(n.get("oml:error")),
        warning=opt_str(n.get("oml:warning")),
        md5_checksum=None if md5 == "NotApplicable" else md5,
        uploader=opt_int(n.get("oml:uploader")),
        raw_extra=_extra(n, _DATASET_KNOWN),
    )


_FEATURE_LISTS = frozenset({"oml:feature", "oml:nominal_value", "oml:ontology"})


@_guard
def features_from_xml(body: bytes) -> tuple[DatasetFeatureRecord, ...]:
    """Normalize ``data/features/{id}``; nominal values keep leading and trailing spaces."""
    n = _doc(body, "oml:data_features", _FEATURE_LISTS)
    out = []
    for f in as_list(n.get("oml:feature")):
        out.append(DatasetFeatureRecord(
            index=_req_int(f, "oml:index"),
            name=opt_str(f.get("oml:name"), strip=False) or "",
            data_type=_lower(f.get("oml:data_type")),
            nominal_values=tuple(v for v in (text(x) for x in as_list(f.get("oml:nominal_value"))) if v is not None),
            ontologies=_strs(as_list(f.get("oml:ontology"))),
            is_target=bool(opt_bool(f.get("oml:is_target"))),
            is_ignore=bool(opt_bool(f.get("oml:is_ignore"))),
            is_row_identifier=bool(opt_bool(f.get("oml:is_row_identifier"))),
            number_of_missing_values=opt_int(f.get("oml:number_of_missing_values")),
        ))
    return tuple(sorted(out, key=lambda feature: feature.index))


_QUALITY_LISTS = frozenset({"oml:quality"})


@_guard
def qualities_from_xml(body: bytes) -> tuple[DatasetQualityRecord, ...]:
    """Normalize ``data/qualities/{id}``; an empty value is None."""
    n = _doc(body, "oml:data_qualities", _QUALITY_LISTS)
    return tuple(
        DatasetQualityRecord(
            name=opt_str(q.get("oml:name")) or "",
            value=opt_float(q.get("oml:value")),
            interval_start=opt_float(q.get("@interval_start")),
            interval_end=opt_float(q.get("@interval_end")),
        )
        for q in as_list(n.get("oml:quality"))
        if isinstance(q, dict)
    )


def _inline_qualities(values: Iterable[Any]) -> tuple[DatasetQualityRecord, ...]:
    """Qualities written as ``<oml:quality name="X">5.0</oml:quality>`` in list rows."""
    out = []
    for q in values:
        if isinstance(q, dict) and q.get("@name"):
            out.append(DatasetQualityRecord(name=q["@name"], value=opt_float(q.get("#text"))))
    return tuple(out)


_DATA_LIST_LISTS = frozenset({"oml:dataset", "oml:quality"})


@_guard
def dataset_list_from_xml(body: bytes) -> tuple[DatasetSummaryRecord, ...]:
    """Normalize ``data/list/...`` rows."""
    n = _doc(body, "oml:data", _DATA_LIST_LISTS)
    return tuple(
        DatasetSummaryRecord(
            id=_req_int(d, "oml:did"),
            name=opt_str(d.get("oml:name")) or "",
            version=opt_int(d.get("oml:version")),
            status=_lower(d.get("oml:status")),
            format=_lower(d.get("oml:format")),
            file_id=opt_int(d.get("oml:file_id")),
            uploader=opt_int(d.get("oml:uploader")),
            qualities=_inline_qualities(as_list(d.get("oml:quality"))),
        )
        for d in as_list(n.get("oml:dataset"))
    )


# ---------------------------------------------------------------------------------------------- tasks

_TASK_LISTS = frozenset({"oml:input", "oml:output", "oml:parameter", "oml:evaluation_measure", "oml:feature",
                         "oml:tag"})
_TASK_KNOWN = frozenset({"oml:task_id", "oml:task_name", "oml:task_type_id", "oml:task_type", "oml:input",
                         "oml:output", "oml:tag"})


def _estimation_procedure(node: Mapping[str, Any]) -> EstimationProcedureRecord:
    params = {p.get("@name"): p.get("#text") for p in as_list(node.get("oml:parameter")) if isinstance(p, dict)}
    return EstimationProcedureRecord(
        id=opt_int(node.get("oml:id")),
        type=_lower(node.get("oml:type")),
        data_splits_url=opt_str(node.get("oml:data_splits_url")),
        number_repeats=opt_int(params.get("number_repeats")),
        number_folds=opt_int(params.get("number_folds")),
        percentage=opt_float(params.get("percentage")),
        stratified_sampling=opt_bool(params.get("stratified_sampling")),
    )


@_guard
def task_from_xml(body: bytes) -> TaskRecord:
    """Normalize ``task/{id}``: the heterogeneous ``oml:input name=`` list becomes typed fields."""
    n = _doc(body, "oml:task", _TASK_LISTS)
    inputs: dict[str, Any] = {}
    dataset_id = target = cost_matrix = None
    procedure = None
    measures: tuple[str, ...] = ()
    for inp in as_list(n.get("oml:input")):
        if not isinstance(inp, dict):
            continue
        name = inp.get("@name") or ""
        if name == "source_data":
            data_set = inp.get("oml:data_set") or {}
            dataset_id = opt_int(data_set.get("oml:data_set_id"))
            target = opt_str(data_set.get("oml:target_feature"))
        elif name == "estimation_procedure":
            procedure = _estimation_procedure(inp.get("oml:estimation_procedure") or {})
        elif name == "evaluation_measures":
            wrapper = inp.get("oml:evaluation_measures") or {}
            measures = _strs(as_list(wrapper.get("oml:evaluation_measure")))
        elif name == "cost_matrix":
            cost_matrix = opt_str(inp.get("oml:cost_matrix"))
        else:
            inner = {k.removeprefix("oml:"): v for k, v in inp.items() if not k.startswith(("@", "#"))}
            inputs[name] = opt_str(inp.get("#text")) if not inner else (
                opt_str(next(iter(inner.values()))) if len(inner) == 1 else inner
            )
    features: list[tuple[str, str]] = []
    for out in as_list(n.get("oml:output")):
        predictions = out.get("oml:predictions") if isinstance(out, dict) else None
        for feature in as_list((predictions or {}).get("oml:feature")):
            if isinstance(feature, dict):
                features.append((feature.get("@name") or "", feature.get("@type") or ""))
    return TaskRecord(
        id=_req_int(n, "oml:task_id"),
        name=opt_str(n.get("oml:task_name")),
        task_type_id=opt_int(n.get("oml:task_type_id")),
        task_type=opt_str(n.get("oml:task_type")),
        dataset_id=dataset_id,
        target_name=target,
        estimation_procedure=procedure,
        evaluation_measures=measures,
        cost_matrix=cost_matrix,
        inputs=inputs,
        prediction_features=tuple(features),
        tags=_strs(as_list(n.get("oml:tag"))),
        raw_extra=_extra(n, _TASK_KNOWN),
    )


def task_name(task_id: int, dataset_name: str | None, task_type: str | None) -> str:
    """Build the name the server writes as ``task_name`` (``Task 7: kr-vs-kp (Supervised Classification)``)."""
    return f"Task {task_id}: {dataset_name or ''} ({task_type or ''})"


_TASK_LIST_LISTS = frozenset({"oml:task", "oml:input", "oml:quality", "oml:tag"})


@_guard
def task_list_from_xml(body: bytes) -> tuple[TaskSummaryRecord, ...]:
    """Normalize ``task/list/...`` rows; ``name`` is built as the server builds ``task_name``."""
    n = _doc(body, "oml:tasks", _TASK_LIST_LISTS)
    out = []
    for t in as_list(n.get("oml:task")):
        inputs = {i["@name"]: (opt_str(i.get("#text")) or "") for i in as_list(t.get("oml:input"))
                  if isinstance(i, dict) and i.get("@name")}
        task_id = _req_int(t, "oml:task_id")
        dataset_name = opt_str(t.get("oml:name"))
        task_type = opt_str(t.get("oml:task_type"))
        out.append(TaskSummaryRecord(
            id=task_id,
            name=task_name(task_id, dataset_name, task_type),
            task_type_id=opt_int(t.get("oml:task_type_id")),
            task_type=task_type,
            dataset_id=opt_int(t.get("oml:did")) or opt_int(inputs.get("source_data")),
            dataset_name=dataset_name,
            status=_lower(t.get("oml:status")),
            format=_lower(t.get("oml:format")),
            target_name=opt_str(inputs.get("target_feature")),
            estimation_procedure_id=opt_int(inputs.get("estimation_procedure")),
            evaluation_measures=split_csv([inputs.get("evaluation_measures")]),
            inputs=inputs,
            qualities=_inline_qualities(as_list(t.get("oml:quality"))),
            tags=_strs(as_list(t.get("oml:tag"))),
        ))
    return tuple(out)


_PROCEDURE_LISTS = frozenset({"oml:estimationprocedure"})


@_guard
def estimation_procedures_from_xml(body: bytes) -> tuple[EstimationProcedureRecord, ...]:
    """Normalize ``estimationprocedure/list``."""
    n = _doc(body, "oml:estimationprocedures", _PROCEDURE_LISTS)
    return tuple(
        EstimationProcedureRecord(
            id=_req_int(p, "oml:id"),
            type=_lower(p.get("oml:type")),
            name=opt_str(p.get("oml:name")),
            task_type_id=opt_int(p.get("oml:ttid")),
            number_repeats=opt_int(p.get("oml:repeats")),
            number_folds=opt_int(p.get("oml:folds")),
            percentage=opt_float(p.get("oml:percentage")),
            stratified_sampling=opt_bool(p.get("oml:stratified_sampling")),
        )
        for p in as_list(n.get("oml:estimationprocedure"))
    )


# ---------------------------------------------------------------------------------------------- flows

_FLOW_LISTS = frozenset({"oml:parameter", "oml:component", "oml:tag", "oml:creator", "oml:contributor"})
_FLOW_KNOWN = frozenset({
    "oml:id", "oml:uploader", "oml:name", "oml:custom_name", "oml:class_name", "oml:version",
    "oml:external_version", "oml:description", "oml:creator", "oml:contributor", "oml:upload_date",
    "oml:licence", "oml:language", "oml:full_description", "oml:installation_notes", "oml:dependencies",
    "oml:parameter", "oml:component", "oml:tag", "oml:source_url", "oml:binary_url",
})


def _flow(n: Mapping[str, Any], depth: int = 0) -> FlowRecord:
    if depth > 64:
        raise ValueError("flow components nested more than 64 levels")
    components = []
    for comp in as_list(n.get("oml:component")):
        if isinstance(comp, dict) and isinstance(comp.get("oml:flow"), dict):
            components.append(FlowComponentRecord(
                identifier=opt_str(comp.get("oml:identifier")) or "",
                flow=_flow(comp["oml:flow"], depth + 1),
            ))
    return FlowRecord(
        id=_req_int(n, "oml:id"),
        name=opt_str(n.get("oml:name")) or "",
        version=opt_str(n.get("oml:version")),
        uploader=opt_int(n.get("oml:uploader")),
        custom_name=opt_str(n.get("oml:custom_name")),
        class_name=opt_str(n.get("oml:class_name")),
        external_version=opt_str(n.get("oml:external_version")),
        description=unescape_html(opt_str(n.get("oml:description"))),
        creators=split_csv(as_list(n.get("oml:creator"))),
        contributors=split_csv(as_list(n.get("oml:contributor"))),
        upload_date=opt_datetime(n.get("oml:upload_date")),
        licence=opt_str(n.get("oml:licence")),
        language=opt_str(n.get("oml:language")),
        full_description=unescape_html(opt_str(n.get("oml:full_description"))),
        installation_notes=opt_str(n.get("oml:installation_notes")),
        dependencies=opt_str(n.get("oml:dependencies")),
        parameters=tuple(
            FlowParameterRecord(
                name=opt_str(p.get("oml:name")) or "",
                data_type=opt_str(p.get("oml:data_type")),
                default_value=opt_str(p.get("oml:default_value"), strip=False),
                description=unescape_html(opt_str(p.get("oml:description"))),
            )
            for p in as_list(n.get("oml:parameter"))
            if isinstance(p, dict)
        ),
        components=tuple(components),
        tags=_strs(as_list(n.get("oml:tag"))),
        source_url=opt_str(n.get("oml:source_url")),
        binary_url=opt_str(n.get("oml:binary_url")),
        raw_extra=_extra(n, _FLOW_KNOWN),
    )


@_guard
def flow_from_xml(body: bytes) -> FlowRecord:
    """Normalize ``flow/{id}`` with its recursive ``oml:component/oml:flow`` tree."""
    return _flow(_doc(body, "oml:flow", _FLOW_LISTS))


_FLOW_LIST_LISTS = frozenset({"oml:flow"})


@_guard
def flow_list_from_xml(body: bytes) -> tuple[FlowSummaryRecord, ...]:
    """Normalize ``flow/list/...`` rows."""
    n = _doc(body, "oml:flows", _FLOW_LIST_LISTS)
    return tuple(
        FlowSummaryRecord(
            id=_req_int(f, "oml:id"),
            name=opt_str(f.get("oml:name")) or "",
            full_name=opt_str(f.get("oml:full_name")),
            version=opt_str(f.get("oml:version")),
            external_version=opt_str(f.get("oml:external_version")),
            uploader=opt_int(f.get("oml:uploader")),
        )
        for f in as_list(n.get("oml:flow"))
    )


# ---------------------------------------------------------------------------------------------- runs

_RUN_LISTS = frozenset({"oml:parameter_setting", "oml:tag", "oml:dataset", "oml:file", "oml:evaluation"})
_RUN_KNOWN = frozenset({
    "oml:run_id", "oml:uploader", "oml:uploader_name", "oml:task_id", "oml:task_type",
    "oml:task_evaluation_measure", "oml:flow_id", "oml:flow_name", "oml:setup_id", "oml:error",
    "oml:error_message", "oml:run_details", "oml:setup_string", "oml:parameter_setting", "oml:tag",
    "oml:input_data", "oml:output_data",
})


def _evaluations(nodes: Iterable[Any]) -> tuple[EvaluationRecord, ...]:
    """Group aggregate and per-fold ``oml:evaluation`` elements by measure, in first-seen order."""
    aggregates: dict[str, dict[str, Any]] = {}
    folds: dict[str, list[FoldValueRecord]] = {}
    for e in nodes:
        if not isinstance(e, dict):
            continue
        name = opt_str(e.get("oml:name"))
        if name is None:
            continue
        if e.get("@fold") is not None or e.get("@repeat") is not None:
            if e.get("@sample") is not None:
                continue  # per-sample values (learning curves) are not exposed
            folds.setdefault(name, []).append(FoldValueRecord(
                repeat=opt_int(e.get("@repeat")) or 0,
                fold=opt_int(e.get("@fold")) or 0,
                value=opt_float(e.get("oml:value")),
            ))
            aggregates.setdefault(name, {})
        else:
            aggregates[name] = {
                "value": opt_float(e.get("oml:value")),
                "stdev": opt_float(e.get("oml:stdev")),
                "array_data": parse_array(opt_str(e.get("oml:array_data"))),
            }
    return tuple(
        EvaluationRecord(
            measure=name,
            value=agg.get("value"),
            stdev=agg.get("stdev"),
            array_data=agg.get("array_data"),
            per_fold=tuple(sorted(folds.get(name, ()), key=lambda f: (f.repeat, f.fold))),
        )
        for name, agg in aggregates.items()
    )


@_guard
def run_from_xml(body: bytes) -> RunRecord:
    """Normalize ``run/{id}``: parameter settings, files, aggregate and per-fold evaluations."""
    n = _doc(body, "oml:run", _RUN_LISTS)
    input_data = n.get("oml:input_data") or {}
    output_data = n.get("oml:output_data") or {}
    return RunRecord(
        id=_req_int(n, "oml:run_id"),
        task_id=opt_int(n.get("oml:task_id")),
        flow_id=opt_int(n.get("oml:flow_id")),
        setup_id=opt_int(n.get("oml:setup_id")),
        uploader=opt_int(n.get("oml:uploader")),
        uploader_name=opt_str(n.get("oml:uploader_name")),
        task_type=opt_str(n.get("oml:task_type")),
        task_evaluation_measure=opt_str(n.get("oml:task_evaluation_measure")),
        flow_name=opt_str(n.get("oml:flow_name")),
        error=unescape_html(opt_str(n.get("oml:error"))),
        error_message=unescape_html(opt_str(n.get("oml:error_message"))),
        run_details=opt_str(n.get("oml:run_details")),
        setup_string=opt_str(n.get("oml:setup_string")),
        parameter_settings=tuple(
            ParameterSettingRecord(
                name=opt_str(p.get("oml:name")) or "",
                value=opt_str(p.get("oml:value"), strip=False),
                component=opt_int(p.get("oml:component")),
            )
            for p in as_list(n.get("oml:parameter_setting"))
            if isinstance(p, dict)
        ),
        tags=_strs(as_list(n.get("oml:tag"))),
        input_dataset_ids=tuple(
            did for did in (opt_int(d.get("oml:did")) for d in as_list(input_data.get("oml:dataset"))
                            if isinstance(d, dict)) if did is not None
        ),
        output_files=tuple(
            RunFileRecord(
                file_id=_req_int(f, "oml:file_id"),
                name=opt_str(f.get("oml:name")) or "",
                url=opt_str(f.get("oml:url")),
            )
            for f in as_list(output_data.get("oml:file"))
            if isinstance(f, dict)
        ),
        evaluations=_evaluations(as_list(output_data.get("oml:evaluation"))),
        raw_extra=_extra(n, _RUN_KNOWN),
    )


_RUN_LIST_LISTS = frozenset({"oml:run"})


@_guard
def run_list_from_xml(body: bytes) -> tuple[RunSummaryRecord, ...]:
    """Normalize ``run/list/...`` rows (``upload_time`` is written with a space)."""
    n = _doc(body, "oml:runs", _RUN_LIST_LISTS)
    return tuple(
        RunSummaryRecord(
            id=_req_int(r, "oml:run_id"),
            task_id=opt_int(r.get("oml:task_id")),
            setup_id=opt_int(r.get("oml:setup_id")),
            flow_id=opt_int(r.get("oml:flow_id")),
            uploader=opt_int(r.get("oml:uploader")),
            upload_time=opt_datetime(r.get("oml:upload_time")),
            task_type_id=opt_int(r.get("oml:task_type_id")),
            error_message=unescape_html(opt_str(r.get("oml:error_message"))),
            run_details=opt_str(r.get("oml:run_details")),
        )
        for r in as_list(n.get("oml:run"))
    )


# ---------------------------------------------------------------------------------------------- misc

_USER_LISTS = frozenset({"oml:user"})


@_guard
def users_from_xml(body: bytes) -> tuple[UserRecord, ...]:
    """Normalize ``user/list/user_id/...``."""
    n = _doc(body, "oml:users", _USER_LISTS)
    return tuple(
        UserRecord(id=_req_int(u, "oml:id"), name=opt_str(u.get("oml:username")))
        for u in as_list(n.get("oml:user"))
    )


_STUDY_LISTS = frozenset({"oml:data_id", "oml:task_id", "oml:flow_id", "oml:setup_id", "oml:run_id", "oml:tag"})


def _ids(wrapper: Any, key: str) -> tuple[int, ...]:
    if not isinstance(wrapper, dict):
        return ()
    return tuple(i for i in (opt_int(v) for v in as_list(wrapper.get(key))) if i is not None)


@_guard
def study_from_xml(body: bytes) -> StudyRecord:
    """Normalize ``study/{id}``; empty wrappers (``<oml:runs>\\n</oml:runs>``) are empty tuples."""
    n = _doc(body, "oml:study", _STUDY_LISTS)
    return StudyRecord(
        id=_req_int(n, "oml:id"),
        name=opt_str(n.get("oml:name")),
        alias=opt_str(n.get("oml:alias")),
        main_entity_type=_lower(n.get("oml:main_entity_type")),
        description=unescape_html(opt_str(n.get("oml:description"))),
        status=_lower(n.get("oml:status")),
        visibility=_lower(n.get("oml:visibility")),
        creation_date=opt_datetime(n.get("oml:creation_date")),
        creator=opt_int(n.get("oml:creator")),
        data_ids=_ids(n.get("oml:data"), "oml:data_id"),
        task_ids=_ids(n.get("oml:tasks"), "oml:task_id"),
        flow_ids=_ids(n.get("oml:flows"), "oml:flow_id"),
        setup_ids=_ids(n.get("oml:setups"), "oml:setup_id"),
        run_ids=_ids(n.get("oml:runs"), "oml:run_id"),
    )


_TAG_LISTS = frozenset({"oml:tag"})


@_guard
def tag_result_from_xml(body: bytes, entity: str, action: str) -> TagResultRecord:
    """Normalize ``oml:{entity}_tag`` / ``_untag``: the id and every tag the entity still has."""
    n = _doc(body, f"oml:{entity}_{action}", _TAG_LISTS)
    return TagResultRecord(id=_req_int(n, "oml:id"), tags=_strs(as_list(n.get("oml:tag"))))


@_guard
def delete_from_xml(body: bytes, entity: str) -> int:
    """Normalize ``oml:{entity}_delete`` and return the deleted id."""
    return _req_int(_doc(body, f"oml:{entity}_delete", frozenset()), "oml:id")


# ---------------------------------------------------------------------------------------------- setups

_SETUP_LISTS = frozenset({"oml:parameter"})
_SETUP_LIST_LISTS = frozenset({"oml:setup", "oml:parameter"})


def _setup(n: Mapping[str, Any]) -> SetupRecord:
    seen: set[Any] = set()
    params = []
    for p in as_list(n.get("oml:parameter")):
        if not isinstance(p, dict):
            continue
        pid = opt_int(p.get("oml:id"))
        # setup/list LEFT JOINs setup_tag, so a setup with several tags repeats its parameters
        key = pid if pid is not None else (p.get("oml:flow_id"), p.get("oml:parameter_name"), p.get("oml:name"))
        if key in seen:
            continue
        seen.add(key)
        params.append(SetupParameterRecord(
            id=pid,
            name=opt_str(p.get("oml:name")) or opt_str(p.get("oml:parameter_name")) or "",
            flow_id=opt_int(p.get("oml:flow_id")),
            flow_name=opt_str(p.get("oml:flow_name")),
            full_name=opt_str(p.get("oml:full_name")),
            data_type=opt_str(p.get("oml:data_type")),
            default_value=opt_str(p.get("oml:default_value"), strip=False),
            value=opt_str(p.get("oml:value"), strip=False),
        ))
    return SetupRecord(id=_req_int(n, "oml:setup_id"), flow_id=opt_int(n.get("oml:flow_id")),
                       parameters=tuple(params))


@_guard
def setup_from_xml(body: bytes) -> SetupRecord:
    """Normalize ``setup/{id}`` (``oml:setup_parameters``); old recordings lack ``oml:name``."""
    return _setup(_doc(body, "oml:setup_parameters", _SETUP_LISTS))


@_guard
def setup_list_from_xml(body: bytes) -> tuple[SetupRecord, ...]:
    """Normalize ``setup/list/...``, de-duplicating parameters repeated by the tag join."""
    n = _doc(body, "oml:setups", _SETUP_LIST_LISTS)
    return tuple(_setup(s) for s in as_list(n.get("oml:setup")) if isinstance(s, dict))


# ---------------------------------------------------------------------------------------------- evaluations

_EVALUATION_LISTS = frozenset({"oml:evaluation", "oml:parameter"})


def _per_fold(raw: str | None) -> tuple[FoldValueRecord, ...]:
    """Decode ``values`` of ``per_fold`` lists: ``[[r0f0, r0f1, ...], [r1f0, ...]]`` or a flat list."""
    decoded = parse_array(raw)
    if not isinstance(decoded, list):
        return ()
    rows = decoded if decoded and all(isinstance(r, list) for r in decoded) else [decoded]
    return tuple(
        FoldValueRecord(repeat=r, fold=f, value=opt_float(v))
        for r, row in enumerate(rows)
        for f, v in enumerate(row)
    )


@_guard
def evaluation_list_from_xml(body: bytes) -> tuple[EvaluationRowRecord, ...]:
    """Normalize ``evaluation/list/...`` rows (one per run and measure)."""
    n = _doc(body, "oml:evaluations", _EVALUATION_LISTS)
    return tuple(
        EvaluationRowRecord(
            run_id=_req_int(e, "oml:run_id"),
            function=opt_str(e.get("oml:function")) or "",
            value=opt_float(e.get("oml:value")),
            task_id=opt_int(e.get("oml:task_id")),
            setup_id=opt_int(e.get("oml:setup_id")),
            flow_id=opt_int(e.get("oml:flow_id")),
            flow_name=opt_str(e.get("oml:flow_name")),
            data_id=opt_int(e.get("oml:data_id")),
            data_name=opt_str(e.get("oml:data_name")),
            uploader=opt_int(e.get("oml:uploader")),
            upload_time=opt_datetime(e.get("oml:upload_time")),
            array_data=parse_array(opt_str(e.get("oml:array_data"))),
            per_fold=_per_fold(opt_str(e.get("oml:values"))),
        )
        for e in as_list(n.get("oml:evaluation"))
        if isinstance(e, dict)
    )
