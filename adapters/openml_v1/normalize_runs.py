"""Pure normalizers for OpenML v1 flows, runs, setups, evaluations, users, studies, tags and deletes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapters._coerce import (
    as_list,
    opt_datetime,
    opt_float,
    opt_int,
    opt_str,
    split_csv,
    unescape_html,
)
from adapters._openml import evaluations, setup_parameters
from adapters.openml_v1._common import (
    _doc,
    _extra,
    _guard,
    _lower,
    _req_int,
    _rows,
    _strs,
    fast_datetime,
    fast_float,
    fast_int,
    fast_str,
    parse_array,
)
from adapters.records import (
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
    SetupRecord,
    StudyRecord,
    TagResultRecord,
    UserRecord,
)

__all__ = [
    "delete_from_xml",
    "evaluation_list_from_xml",
    "flow_from_xml",
    "flow_list_from_xml",
    "run_from_xml",
    "run_list_from_xml",
    "setup_from_xml",
    "setup_list_from_xml",
    "study_from_xml",
    "tag_result_from_xml",
    "users_from_xml",
]

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

@_guard
def flow_list_from_xml(body: bytes) -> tuple[FlowSummaryRecord, ...]:
    """Normalize ``flow/list/...`` rows."""
    return tuple(
        FlowSummaryRecord(
            id=_req_int(f, "oml:id"),
            name=fast_str(f.get("oml:name")) or "",
            full_name=fast_str(f.get("oml:full_name")),
            version=fast_str(f.get("oml:version")),
            external_version=fast_str(f.get("oml:external_version")),
            uploader=fast_int(f.get("oml:uploader")),
        )
        for f in _rows(body, "oml:flows", "oml:flow")
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
    """Group ``oml:evaluation`` elements (fold and repeat are attributes) by measure."""
    return evaluations(nodes, prefix="oml:", attr="@", text=opt_str, number=opt_float)

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

@_guard
def run_list_from_xml(body: bytes) -> tuple[RunSummaryRecord, ...]:
    """Normalize ``run/list/...`` rows (``upload_time`` is written with a space)."""
    return tuple(
        RunSummaryRecord(
            id=_req_int(r, "oml:run_id"),
            task_id=fast_int(r.get("oml:task_id")),
            setup_id=fast_int(r.get("oml:setup_id")),
            flow_id=fast_int(r.get("oml:flow_id")),
            uploader=fast_int(r.get("oml:uploader")),
            upload_time=fast_datetime(r.get("oml:upload_time")),
            task_type_id=fast_int(r.get("oml:task_type_id")),
            error_message=unescape_html(fast_str(r.get("oml:error_message"))),
            run_details=fast_str(r.get("oml:run_details")),
        )
        for r in _rows(body, "oml:runs", "oml:run")
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
    params = setup_parameters(n.get("oml:parameter"), prefix="oml:", text=opt_str)
    return SetupRecord(id=_req_int(n, "oml:setup_id"), flow_id=opt_int(n.get("oml:flow_id")), parameters=params)

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
    return tuple(
        EvaluationRowRecord(
            run_id=_req_int(e, "oml:run_id"),
            function=fast_str(e.get("oml:function")) or "",
            value=fast_float(e.get("oml:value")),
            task_id=fast_int(e.get("oml:task_id")),
            setup_id=fast_int(e.get("oml:setup_id")),
            flow_id=fast_int(e.get("oml:flow_id")),
            flow_name=fast_str(e.get("oml:flow_name")),
            data_id=fast_int(e.get("oml:data_id")),
            data_name=fast_str(e.get("oml:data_name")),
            uploader=fast_int(e.get("oml:uploader")),
            upload_time=fast_datetime(e.get("oml:upload_time")),
            array_data=parse_array(fast_str(e.get("oml:array_data"))),
            per_fold=_per_fold(fast_str(e.get("oml:values"))),
        )
        for e in _rows(body, "oml:evaluations", "oml:evaluation")
    )

