"""Pure normalizers for OpenML v2 datasets and tasks (descriptions, features, qualities, lists, procedures).

Each function takes the decoded JSON (or the raw body) of one server-api response and returns the same
records the v1 normalizer builds for the same entity (``adapters/records/openml.py``).
"""

from __future__ import annotations

from typing import Any

from adapters._coerce import as_list, opt_bool, opt_datetime, opt_float, opt_int, split_csv
from adapters.openml_v2._common import (
    Node,
    extra,
    guard,
    keep_text,
    load,
    lower,
    num_text,
    obj,
    req_int,
    strs,
    text_of,
    unescaped,
)
from adapters.records import (
    DatasetFeatureRecord,
    DatasetQualityRecord,
    DatasetRecord,
    DatasetSummaryRecord,
    EstimationProcedureRecord,
    TaskRecord,
    TaskSummaryRecord,
)

__all__ = [
    "dataset_from_json",
    "dataset_list_from_json",
    "estimation_procedures_from_json",
    "evaluation_measures_from_json",
    "features_from_json",
    "qualities_from_json",
    "quality_names_from_json",
    "task_from_json",
    "task_list_from_json",
    "task_name",
]

# ---------------------------------------------------------------------------------------------- datasets

_DATASET_KNOWN = frozenset({
    "id", "visibility", "status", "name", "licence", "version", "version_label", "language", "creator",
    "contributor", "citation", "paper_url", "upload_date", "processing_date", "error", "warning",
    "collection_date", "description", "description_version", "tag", "tags", "default_target_attribute",
    "ignore_attribute", "row_id_attribute", "url", "parquet_url", "file_id", "format", "original_data_url",
    "md5_checksum", "uploader",
})


def _csv(value: Any) -> tuple[str, ...]:
    """v2 already splits CSV columns into lists; a bare string (older builds) is split the same way."""
    return split_csv(text_of(v) for v in as_list(value))


@guard
def dataset_from_json(body: bytes | Any) -> DatasetRecord:
    """Normalize ``GET /datasets/{id}`` (``DatasetMetadata``).

    ``description_version`` 0 is the server's "no description row" sentinel and becomes None; ``""`` for
    version_label, language and citation (the server's default for null columns) becomes None.
    """
    n = obj(load(body), "dataset")
    md5 = text_of(n.get("md5_checksum"))
    return DatasetRecord(
        id=req_int(n, "id"),
        name=text_of(n.get("name")) or "",
        version=opt_int(n.get("version")),
        description=unescaped(n.get("description")),
        description_version=opt_int(n.get("description_version")) or None,
        format=lower(n.get("format")),
        creators=_csv(n.get("creator")),
        contributors=_csv(n.get("contributor")),
        collection_date=text_of(n.get("collection_date")),
        upload_date=opt_datetime(text_of(n.get("upload_date"))),
        language=text_of(n.get("language")),
        licence=text_of(n.get("licence")),
        url=text_of(n.get("url")),
        parquet_url=text_of(n.get("parquet_url")),
        file_id=opt_int(n.get("file_id")),
        default_target_attributes=_csv(n.get("default_target_attribute")),
        row_id_attributes=_csv(n.get("row_id_attribute")),
        ignore_attributes=_csv(n.get("ignore_attribute")),
        version_label=text_of(n.get("version_label")),
        citation=unescaped(n.get("citation")),
        tags=strs(as_list(n.get("tag", n.get("tags")))),
        visibility=lower(n.get("visibility")),
        original_data_urls=_csv(n.get("original_data_url")),
        paper_url=text_of(n.get("paper_url")),
        status=lower(n.get("status")),
        processing_date=opt_datetime(text_of(n.get("processing_date"))),
        error=text_of(n.get("error")),
        warning=text_of(n.get("warning")),
        md5_checksum=None if md5 == "NotApplicable" else md5,
        uploader=opt_int(n.get("uploader")),  # not served by v2 (v1 has it): None
        raw_extra=extra(n, _DATASET_KNOWN),
    )


def _quality(q: Any) -> DatasetQualityRecord | None:
    if not isinstance(q, dict) or text_of(q.get("name")) is None:
        return None
    return DatasetQualityRecord(
        name=text_of(q.get("name")) or "",
        value=opt_float(num_text(q.get("value"))),  # float, "898.0" (task list) or "None" (a NULL row)
        interval_start=opt_float(num_text(q.get("interval_start"))),
        interval_end=opt_float(num_text(q.get("interval_end"))),
    )


def _qualities(values: Any) -> tuple[DatasetQualityRecord, ...]:
    return tuple(q for q in (_quality(v) for v in as_list(values)) if q is not None)


@guard
def features_from_json(body: bytes | Any) -> tuple[DatasetFeatureRecord, ...]:
    """Normalize ``GET /datasets/features/{id}``; nominal values keep their significant whitespace."""
    out = []
    for f in as_list(load(body)):
        f = obj(f, "feature")
        out.append(DatasetFeatureRecord(
            index=req_int(f, "index"),
            name=text_of(f.get("name"), strip=False) or "",
            data_type=lower(f.get("data_type")),
            nominal_values=tuple(v for v in (keep_text(x) for x in as_list(f.get("nominal_values")))
                                 if v is not None),
            ontologies=strs(as_list(f.get("ontology"))),
            is_target=bool(opt_bool(num_text(f.get("is_target")))),
            is_ignore=bool(opt_bool(num_text(f.get("is_ignore")))),
            is_row_identifier=bool(opt_bool(num_text(f.get("is_row_identifier")))),
            number_of_missing_values=opt_int(f.get("number_of_missing_values")),
        ))
    return tuple(sorted(out, key=lambda feature: feature.index))


@guard
def qualities_from_json(body: bytes | Any) -> tuple[DatasetQualityRecord, ...]:
    """Normalize ``GET /datasets/qualities/{id}``: ``[{name, value: float | null}]``."""
    return _qualities(load(body))


@guard
def quality_names_from_json(body: bytes | Any) -> tuple[str, ...]:
    """Normalize ``GET /datasets/qualities/list``: the PHP nesting ``{"data_qualities_list": {"quality": [...]}}``."""
    payload = load(body)
    if isinstance(payload, dict):
        payload = (payload.get("data_qualities_list") or {}).get("quality")
    return strs(as_list(payload))


@guard
def dataset_list_from_json(body: bytes | Any) -> tuple[DatasetSummaryRecord, ...]:
    """Normalize ``/datasets/list`` rows. ``format`` is raw there (``ARFF``) and lower-cased here; the list
    has no ``uploader`` (v1's has) and ``md5_checksum`` is always ``""`` (dropped)."""
    out = []
    for d in as_list(load(body)):
        d = obj(d, "dataset row")
        out.append(DatasetSummaryRecord(
            id=req_int(d, "did"),
            name=text_of(d.get("name")) or "",
            version=opt_int(d.get("version")),
            status=lower(d.get("status")),
            format=lower(d.get("format")),
            file_id=opt_int(d.get("file_id")),
            uploader=opt_int(d.get("uploader")),
            qualities=_qualities(d.get("quality")),
        ))
    return tuple(out)


# ---------------------------------------------------------------------------------------------- tasks

_TASK_KNOWN = frozenset({"id", "name", "task_type_id", "task_type", "input", "output", "tags", "tag"})


def task_name(task_id: int, dataset_name: str | None, task_type: str | None) -> str:
    """Build the name the server writes (``Task 7: kr-vs-kp (Supervised Classification)``)."""
    return f"Task {task_id}: {dataset_name or ''} ({task_type or ''})"


def _procedure(ep: Node) -> EstimationProcedureRecord:
    params = {text_of(p.get("name")): p.get("value") for p in as_list(ep.get("parameter")) if isinstance(p, dict)}
    return EstimationProcedureRecord(
        id=opt_int(ep.get("id")),
        type=lower(ep.get("type")),
        data_splits_url=text_of(ep.get("data_splits_url")),
        number_repeats=opt_int(params.get("number_repeats")),
        number_folds=opt_int(params.get("number_folds")),
        percentage=opt_float(num_text(params.get("percentage"))),
        stratified_sampling=opt_bool(num_text(params.get("stratified_sampling"))),
    )


def _texts(value: Any) -> Any:
    """Template leaves as v1 carries them (strings), keeping nested objects as maps."""
    if isinstance(value, dict):
        return {key: _texts(item) for key, item in value.items()}
    if isinstance(value, list) and value:
        return [_texts(item) for item in value]
    return text_of(value)


@guard
def task_from_json(body: bytes | Any) -> TaskRecord:
    """Normalize ``GET /tasks/{id}``: the filled templates of ``input`` become typed fields.

    Each input is ``{"name": X, <template root>: {...}}``; a template directive without a value was
    filled with ``[]`` (read as None). The task's tags are under ``tags`` here (``tag`` elsewhere).
    """
    n = obj(load(body), "task")
    inputs: dict[str, Any] = {}
    dataset_id = target = cost_matrix = None
    procedure = None
    measures: tuple[str, ...] = ()
    for inp in as_list(n.get("input")):
        if not isinstance(inp, dict):
            continue
        name = text_of(inp.get("name")) or ""
        inner = {key: value for key, value in inp.items() if key != "name"}
        if name == "source_data":
            data_set = inner.get("data_set") if isinstance(inner.get("data_set"), dict) else {}
            dataset_id = opt_int(data_set.get("data_set_id"))
            target = text_of(data_set.get("target_feature"))
        elif name == "estimation_procedure":
            ep = inner.get("estimation_procedure")
            procedure = _procedure(ep if isinstance(ep, dict) else {})
        elif name == "evaluation_measures":
            wrapper = inner.get("evaluation_measures")
            measures = strs(as_list(wrapper.get("evaluation_measure") if isinstance(wrapper, dict) else wrapper))
        elif name == "cost_matrix":
            cost_matrix = text_of(inner.get("cost_matrix"))
        elif len(inner) == 1:
            inputs[name] = _texts(next(iter(inner.values())))
        else:
            inputs[name] = _texts(inner) if inner else None
    features: list[tuple[str, str]] = []
    for out in as_list(n.get("output")):
        predictions = out.get("predictions") if isinstance(out, dict) else None
        for feature in as_list((predictions or {}).get("feature") if isinstance(predictions, dict) else None):
            if isinstance(feature, dict):
                features.append((text_of(feature.get("name")) or "", text_of(feature.get("type")) or ""))
    return TaskRecord(
        id=req_int(n, "id"),
        name=text_of(n.get("name")),
        task_type_id=opt_int(n.get("task_type_id")),
        task_type=text_of(n.get("task_type")),
        dataset_id=dataset_id,
        target_name=target,
        estimation_procedure=procedure,
        evaluation_measures=measures,
        cost_matrix=cost_matrix,
        inputs=inputs,
        prediction_features=tuple(features),
        tags=strs(as_list(n.get("tags", n.get("tag")))),
        raw_extra=extra(n, _TASK_KNOWN),
    )


@guard
def task_list_from_json(body: bytes | Any) -> tuple[TaskSummaryRecord, ...]:
    """Normalize ``/tasks/list`` rows: inputs are strings, quality values are **strings** (``"898.0"``),
    and ``input``/``quality``/``tag`` are absent rather than empty."""
    out = []
    for t in as_list(load(body)):
        t = obj(t, "task row")
        inputs = {text_of(i.get("name")) or "": text_of(i.get("value")) or "" for i in as_list(t.get("input"))
                  if isinstance(i, dict) and text_of(i.get("name"))}
        task_id = req_int(t, "task_id")
        dataset_name = text_of(t.get("name"))
        task_type = text_of(t.get("task_type"))
        out.append(TaskSummaryRecord(
            id=task_id,
            name=task_name(task_id, dataset_name, task_type),
            task_type_id=opt_int(t.get("task_type_id")),
            task_type=task_type,
            dataset_id=opt_int(t.get("did")) or opt_int(inputs.get("source_data")),
            dataset_name=dataset_name,
            status=lower(t.get("status")),
            format=lower(t.get("format")),
            target_name=text_of(inputs.get("target_feature")),
            estimation_procedure_id=opt_int(inputs.get("estimation_procedure")),
            evaluation_measures=split_csv([inputs.get("evaluation_measures")]),
            inputs=inputs,
            qualities=_qualities(t.get("quality")),
            tags=strs(as_list(t.get("tag", t.get("tags")))),
        ))
    return tuple(out)


@guard
def estimation_procedures_from_json(body: bytes | Any) -> tuple[EstimationProcedureRecord, ...]:
    """Normalize ``GET /estimationprocedure/list`` (v1's ``ttid`` is ``task_type_id``; the outer
    ``estimationprocedures`` nesting of v1 JSON is gone, but is unwrapped if present)."""
    payload = load(body)
    if isinstance(payload, dict):
        payload = (payload.get("estimationprocedures") or {}).get("estimationprocedure")
    return tuple(
        EstimationProcedureRecord(
            id=req_int(p, "id"),
            type=lower(p.get("type")),
            name=text_of(p.get("name")),
            task_type_id=opt_int(p["task_type_id"] if p.get("task_type_id") is not None else p.get("ttid")),
            number_repeats=opt_int(p.get("repeats")),
            number_folds=opt_int(p.get("folds")),
            percentage=opt_float(num_text(p.get("percentage"))),
            stratified_sampling=opt_bool(num_text(p.get("stratified_sampling"))),
        )
        for p in (obj(row, "estimation procedure") for row in as_list(payload))
    )


@guard
def evaluation_measures_from_json(body: bytes | Any) -> tuple[str, ...]:
    """Normalize ``GET /evaluationmeasure/list``: a plain list of names (v1 JSON nested it twice)."""
    payload = load(body)
    if isinstance(payload, dict):
        payload = ((payload.get("evaluation_measures") or {}).get("measures") or {}).get("measure")
    return strs(as_list(payload))
