"""Pure normalizers for OpenML v2 flows, runs, traces, setups, studies and tag results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from adapters._coerce import as_list, opt_bool, opt_datetime, opt_float, opt_int, split_csv
from adapters._openml import evaluations, setup_parameters
from adapters.openml_v2._common import (
    Node,
    extra,
    guard,
    ids,
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
    EvaluationRecord,
    FlowComponentRecord,
    FlowParameterRecord,
    FlowRecord,
    ParameterSettingRecord,
    RunFileRecord,
    RunRecord,
    SetupRecord,
    StudyRecord,
    TagResultRecord,
)

__all__ = [
    "TraceIterationRecord",
    "flow_from_json",
    "run_from_json",
    "setup_from_json",
    "study_from_json",
    "tag_result_from_json",
    "trace_from_json",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceIterationRecord:
    """One iteration of a run's hyperparameter search (v1 has no normalizer for traces yet).

    Belongs in ``adapters/records/openml.py`` once v1 reads traces too (see the adapter's report).
    """

    repeat: int
    fold: int
    iteration: int
    setup_string: str | None
    evaluation: float | None
    selected: bool


# ---------------------------------------------------------------------------------------------- flows

_FLOW_KNOWN = frozenset({
    "id", "uploader", "name", "custom_name", "class_name", "version", "external_version", "description",
    "creator", "contributor", "upload_date", "licence", "language", "full_description", "installation_notes",
    "dependencies", "parameter", "subflows", "component", "tag", "source_url", "binary_url",
})


def _flow(n: Node, depth: int = 0) -> FlowRecord:
    if depth > 64:
        raise ValueError("subflows nested more than 64 levels")
    components = []
    for sub in as_list(n.get("subflows", n.get("component"))):  # v1 JSON called them components
        if isinstance(sub, dict) and isinstance(sub.get("flow"), dict):
            components.append(FlowComponentRecord(
                identifier=text_of(sub.get("identifier")) or "",
                flow=_flow(sub["flow"], depth + 1),
            ))
    return FlowRecord(
        id=req_int(n, "id"),
        name=text_of(n.get("name")) or "",
        version=text_of(n.get("version")),  # an int in v2: 1 -> "1" (v1 recordings also carry "1.0")
        uploader=opt_int(n.get("uploader")),
        custom_name=text_of(n.get("custom_name")),
        class_name=text_of(n.get("class_name")),
        external_version=text_of(n.get("external_version")),
        description=unescaped(n.get("description")),
        creators=split_csv(text_of(v) for v in as_list(n.get("creator"))),
        contributors=split_csv(text_of(v) for v in as_list(n.get("contributor"))),
        upload_date=opt_datetime(text_of(n.get("upload_date"))),
        licence=text_of(n.get("licence")),
        language=text_of(n.get("language")),
        full_description=unescaped(n.get("full_description")),
        installation_notes=text_of(n.get("installation_notes")),
        dependencies=text_of(n.get("dependencies")),
        parameters=tuple(
            FlowParameterRecord(
                name=text_of(p.get("name")) or "",
                data_type=text_of(p.get("data_type")),
                # typed by the server ("0.25" -> 0.25, "100" -> 100); back to the text v1 carries
                default_value=text_of(p.get("default_value"), strip=False),
                description=unescaped(p.get("description")),
            )
            for p in as_list(n.get("parameter"))
            if isinstance(p, dict)
        ),
        components=tuple(components),
        tags=strs(as_list(n.get("tag", n.get("tags")))),
        source_url=text_of(n.get("source_url")),
        binary_url=text_of(n.get("binary_url")),
        raw_extra=extra(n, _FLOW_KNOWN),
    )


@guard
def flow_from_json(body: bytes | Any) -> FlowRecord:
    """Normalize ``GET /flows/{id}``: ``subflows[{identifier, flow}]`` become components, recursively."""
    return _flow(obj(load(body), "flow"))


# ---------------------------------------------------------------------------------------------- runs

_RUN_KNOWN = frozenset({
    "run_id", "uploader", "uploader_name", "task_id", "task_type", "task_evaluation_measure", "flow_id",
    "flow_name", "setup_id", "setup_string", "parameter_setting", "error", "error_message", "run_details", "tag",
    "input_data", "output_data",
})


def _number(value: Any) -> float | None:
    return opt_float(num_text(value))  # whole numbers arrive as ints


def _evaluations(nodes: Iterable[Any]) -> tuple[EvaluationRecord, ...]:
    """Group evaluations by measure, as v1 does."""
    return evaluations(nodes, prefix="", attr="", text=text_of, number=_number)


def _errors(value: Any) -> str | None:
    """``error`` is a list in v2 (``[]`` or one uploader message); v1 carries one string."""
    parts = [p for p in (unescaped(v) for v in as_list(value)) if p]
    return "\n".join(parts) or None


def _input_datasets(value: Any) -> list[Any]:
    if isinstance(value, dict):  # the PHP shape {"dataset": [...]}
        value = value.get("dataset")
    return as_list(value)


@guard
def run_from_json(body: bytes | Any) -> RunRecord:
    """Normalize ``GET /run/{id}``. Output files carry no ``url`` (v2 has no file endpoint yet) and no
    ``did``; evaluations are typed; nulls are omitted by the server."""
    n = obj(load(body), "run")
    output_data = n.get("output_data") if isinstance(n.get("output_data"), dict) else {}
    return RunRecord(
        id=req_int(n, "run_id"),
        task_id=opt_int(n.get("task_id")),
        flow_id=opt_int(n.get("flow_id")),
        setup_id=opt_int(n.get("setup_id")),
        uploader=opt_int(n.get("uploader")),
        uploader_name=text_of(n.get("uploader_name")),
        task_type=text_of(n.get("task_type")),
        task_evaluation_measure=text_of(n.get("task_evaluation_measure")),
        flow_name=text_of(n.get("flow_name")),
        error=_errors(n.get("error")),
        error_message=unescaped(n.get("error_message")),
        run_details=text_of(n.get("run_details")),
        setup_string=text_of(n.get("setup_string")),
        parameter_settings=tuple(
            ParameterSettingRecord(
                name=text_of(p.get("name")) or "",
                value=text_of(p.get("value"), strip=False),
                component=opt_int(p.get("component")),
            )
            for p in as_list(n.get("parameter_setting"))
            if isinstance(p, dict)
        ),
        tags=strs(as_list(n.get("tag", n.get("tags")))),
        input_dataset_ids=tuple(
            did for did in (opt_int(d.get("did")) for d in _input_datasets(n.get("input_data"))
                            if isinstance(d, dict)) if did is not None
        ),
        output_files=tuple(
            RunFileRecord(file_id=req_int(f, "file_id"), name=text_of(f.get("name")) or "",
                          url=text_of(f.get("url")))
            for f in as_list(output_data.get("file"))
            if isinstance(f, dict)
        ),
        evaluations=_evaluations(as_list(output_data.get("evaluation"))),
        raw_extra=extra(n, _RUN_KNOWN),
    )


@guard
def trace_from_json(body: bytes | Any) -> tuple[TraceIterationRecord, ...]:
    """Normalize ``GET /run/trace/{id}``; ``selected`` arrives as the **string** ``"true"``/``"false"``."""
    n = obj(load(body), "trace")
    return tuple(
        TraceIterationRecord(
            repeat=req_int(t, "repeat"),
            fold=req_int(t, "fold"),
            iteration=req_int(t, "iteration"),
            setup_string=text_of(t.get("setup_string")),
            evaluation=opt_float(num_text(t.get("evaluation"))),
            selected=bool(opt_bool(num_text(t.get("selected")))),
        )
        for t in (obj(row, "trace iteration") for row in as_list(n.get("trace")))
    )


# ---------------------------------------------------------------------------------------------- setups, studies


@guard
def setup_from_json(body: bytes | Any) -> SetupRecord:
    """Normalize ``GET /setup/{id}``: ``{"setup_parameters": {setup_id, flow_id, parameter?}}`` (ints typed,
    ``parameter`` omitted when the setup has none, null fields omitted)."""
    payload = obj(load(body), "setup")
    n = obj(payload.get("setup_parameters", payload), "setup_parameters")
    params = setup_parameters(n.get("parameter"), prefix="", text=text_of)
    return SetupRecord(id=req_int(n, "setup_id"), flow_id=opt_int(n.get("flow_id")), parameters=params)


@guard
def study_from_json(body: bytes | Any) -> StudyRecord:
    """Normalize ``GET /studies/{id_or_alias}``: flat id lists (``task_ids``, ``run_ids``, ...)."""
    n = obj(load(body), "study")
    return StudyRecord(
        id=req_int(n, "id"),
        name=text_of(n.get("name")),
        alias=text_of(n.get("alias")),
        main_entity_type=lower(n.get("main_entity_type")),
        description=unescaped(n.get("description")),
        status=lower(n.get("status")),
        visibility=lower(n.get("visibility")),
        creation_date=opt_datetime(text_of(n.get("creation_date"))),
        creator=opt_int(n.get("creator")),
        data_ids=ids(n.get("data_ids")),
        task_ids=ids(n.get("task_ids")),
        flow_ids=ids(n.get("flow_ids")),
        setup_ids=ids(n.get("setup_ids")),
        run_ids=ids(n.get("run_ids")),
    )


@guard
def tag_result_from_json(body: bytes | Any, root: str) -> TagResultRecord:
    """Normalize ``{"<root>": {"id": "21", "tag": [...]}}`` (``data_tag``, ``data_untag``, ``task_tag``,
    ``setup_tag``, ``setup_untag``). The id is a **string**; the deprecated ``data_untag`` sends one tag as a
    plain string and omits ``tag`` when none is left."""
    payload = obj(load(body), "tag result")
    n = obj(payload.get(root), root)
    return TagResultRecord(id=req_int(n, "id"), tags=strs(as_list(n.get("tag"))))
