"""Pure normalizers for OpenML v1 datasets and tasks (descriptions, features, qualities, lists)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

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
from adapters._xml import sniff
from adapters.openml_v1._common import (
    _doc,
    _extra,
    _guard,
    _lower,
    _req_int,
    _rows,
    _strs,
    error_from_body,
    fast_float,
    fast_int,
    fast_str,
)
from adapters.openml_v1.errors import BACKEND
from adapters.records import (
    DatasetFeatureRecord,
    DatasetQualityRecord,
    DatasetRecord,
    DatasetSummaryRecord,
    EstimationProcedureRecord,
    TaskRecord,
    TaskSummaryRecord,
)
from gateway.errors import BackendError

__all__ = [
    "dataset_from_json",
    "dataset_from_xml",
    "dataset_list_from_xml",
    "estimation_procedures_from_xml",
    "features_from_xml",
    "qualities_from_xml",
    "task_from_xml",
    "task_list_from_xml",
    "task_name",
]

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
    return _dataset(_doc(body, "oml:data_set_description", _DATASET_LISTS))

def _dataset(n: Mapping[str, Any]) -> DatasetRecord:
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

def _inline_qualities(row: dict[str, Any]) -> tuple[DatasetQualityRecord, ...]:
    """Qualities written as ``<oml:quality name="X">5.0</oml:quality>`` in list rows."""
    return tuple(
        DatasetQualityRecord(name=attrs["name"], value=fast_float(text))
        for attrs, text in row.get("oml:quality*", ())
        if attrs.get("name")
    )

def _repeated(row: dict[str, Any], name: str) -> list[str]:
    """Every text of a child that may repeat (``oml:tag``), in order."""
    many = row.get(name + "*")
    if many is not None:
        return [text for _attrs, text in many]
    one = row.get(name)
    return [] if one is None else [one]

@_guard
def dataset_list_from_xml(body: bytes) -> tuple[DatasetSummaryRecord, ...]:
    """Normalize ``data/list/...`` rows."""
    return tuple(
        DatasetSummaryRecord(
            id=_req_int(d, "oml:did"),
            name=fast_str(d.get("oml:name")) or "",
            version=fast_int(d.get("oml:version")),
            status=_lower(d.get("oml:status")),
            format=_lower(d.get("oml:format")),
            file_id=fast_int(d.get("oml:file_id")),
            uploader=fast_int(d.get("oml:uploader")),
            qualities=_inline_qualities(d),
        )
        for d in _rows(body, "oml:data", "oml:dataset")
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

@_guard
def task_list_from_xml(body: bytes) -> tuple[TaskSummaryRecord, ...]:
    """Normalize ``task/list/...`` rows; ``name`` is built as the server builds ``task_name``."""
    out = []
    for t in _rows(body, "oml:tasks", "oml:task"):
        inputs = {attrs["name"]: (fast_str(text) or "") for attrs, text in t.get("oml:input*", ())
                  if attrs.get("name")}
        task_id = _req_int(t, "oml:task_id")
        dataset_name = fast_str(t.get("oml:name"))
        task_type = fast_str(t.get("oml:task_type"))
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
            qualities=_inline_qualities(t),
            tags=_strs(_repeated(t, "oml:tag")),
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

# ---------------------------------------------------------------------------------------------- other formats

_JSON_ROOTS = {"data_set_description"}

def _as_xml_node(value: Any) -> Any:
    """PHP's XML-to-JSON conversion back into xmltodict's shape: ``oml:`` keys, ``[]`` for empty -> None."""
    if isinstance(value, dict):
        return {f"oml:{key}": _as_xml_node(item) for key, item in value.items()}
    if isinstance(value, list):
        return None if not value else [_as_xml_node(item) for item in value]
    return value

@_guard
def dataset_from_json(body: bytes) -> DatasetRecord:
    """Normalize the PHP JSON variant of ``data/{id}`` (every value a string, empty as ``[]``).

    The JSON variant trims text and drops nothing else of the description, so it yields the same record as
    the XML (corpus ``v1-json/data_130_php_json.json``). An XML body on the JSON URL (errors raised before
    dispatch, OpenML #1200) is read as XML.
    """
    if sniff(body) != "json":
        return dataset_from_xml(body)
    payload = json.loads(body)
    if not isinstance(payload, dict) or "error" in payload:
        raise error_from_body(body, 412)
    (root, node), = payload.items()
    if root not in _JSON_ROOTS or not isinstance(node, dict):
        raise BackendError(f"Expected a data_set_description document from openml, got {root!r}.", backend=BACKEND)
    return _dataset(_as_xml_node(node))

_ARFF_ATTRIBUTE = re.compile(r"^@attribute\s+('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S+)\s+(.+)$", re.IGNORECASE)

@_guard
def arff_header(body: bytes) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """Return the relation name and ``(attribute, type)`` pairs of an ARFF file (data or splits), header only."""
    relation: str | None = None
    attributes: list[tuple[str, str]] = []
    for raw in body.decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        low = line.lower()
        if low.startswith("@data"):
            break
        if low.startswith("@relation"):
            relation = line.split(None, 1)[1].strip().strip("'\"") if " " in line else None
        elif low.startswith("@attribute"):
            match = _ARFF_ATTRIBUTE.match(line)
            if match is None:
                raise ValueError(f"bad ARFF attribute line {line[:80]!r}")
            attributes.append((match.group(1).strip("'\""), match.group(2).strip()))
    return relation, tuple(attributes)
