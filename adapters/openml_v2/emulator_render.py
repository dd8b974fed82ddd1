"""v2 JSON of the emulator's generated entities, built from v1's seeded data model (pure, no I/O).

The v1 emulator renders the same ``Store`` as XML; here every entity is rendered the way the server-api
renders a database row (openml-api.md §5.1): typed values, lists always lists, ``format`` lower-cased on
GET (raw in the list), CSV columns split on every comma, dates ISO with ``T``, nulls omitted where the route
sets ``response_model_exclude_none``. URLs are derived from the server's routing config (``Roots``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.openml_v1 import emulator_values as vals
from adapters.openml_v1.emulator_catalog import (
    BASIC_QUALITIES,
    ESTIMATION_PROCEDURES,
    EXTRA_QUALITIES,
    TASK_TYPES,
)
from adapters.openml_v1.emulator_data import DatasetRec, FlowRec, RunRec, SetupRec, Store, StudyRec, TaskRec, fmt_time

__all__ = [
    "ERROR_TEXT",
    "Roots",
    "csv_as_list",
    "dataset_json",
    "dataset_row",
    "drop_none",
    "estimation_procedures_json",
    "evaluation_measures_json",
    "features_json",
    "flow_json",
    "parquet_url",
    "qualities_json",
    "quality_names_json",
    "run_json",
    "setup_json",
    "str_to_num",
    "study_json",
    "task_json",
    "task_row",
    "task_types_json",
    "trace_json",
]

ERROR_TEXT = "Error while evaluating: could not read predictions file. "  # v1's run/list error_message too


@dataclass(frozen=True, slots=True)
class Roots:
    """The server-api's ``routing`` config: where data files (PHP server) and parquet files (MinIO) live.

    Both end with ``/``, as in the server's ``config.toml``.
    """

    server: str
    minio: str


def drop_none(values: dict[str, Any]) -> dict[str, Any]:
    """What ``response_model_exclude_none`` does to one level of a response."""
    return {key: value for key, value in values.items() if value is not None}


def csv_as_list(text: str | None) -> list[str]:
    """The server's ``_csv_as_list``: split on EVERY comma, strip quotes and blanks (``"a,,b"`` keeps ``""``)."""
    if not text:
        return []
    return [item.strip("'\"\t ") for item in text.split(",")]


def _as_csv(values: list[str] | str | None) -> str | None:
    """Several values stored in one CSV column, quoting those that hold a comma (as fgetcsv reads them)."""
    if values is None or isinstance(values, str):
        return values
    return ",".join(f'"{v}"' if "," in v else v for v in values)


def str_to_num(text: str) -> int | float | str:
    """The server's ``_str_to_num``: ``"100"`` -> 100, ``"0.25"`` -> 0.25, ``"null"`` / ``"nan"`` stay text."""
    if text.isdigit():
        return int(text)
    try:
        value = float(text)
    except ValueError:
        return text
    return text if math.isnan(value) or math.isinf(value) else value


def _typed(value: str | None) -> int | float | None:
    """An evaluation value as the server types it: whole numbers as int."""
    if value is None or not value.strip():
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def parquet_url(did: int, fmt: str, roots: Roots) -> str | None:
    """Only ``arff`` datasets have one (case-insensitive, unlike PHP's check: OpenML #1189)."""
    if fmt.lower() != "arff":
        return None
    return f"{roots.minio}datasets/{did // 10_000:04d}/{did:04d}/dataset_{did}.pq"


def dataset_json(store: Store, d: DatasetRec, roots: Roots) -> dict[str, Any]:
    """``GET /datasets/{id}`` of a generated dataset (``DatasetMetadata``; nulls kept)."""
    det = vals.dataset_detail(store, d)
    fmt = d.format.lower()
    return {
        "id": d.id, "visibility": "public", "status": d.status, "name": d.name, "licence": det["licence"],
        "version": d.version, "version_label": str(d.version), "language": det["language"] or "",
        "creator": csv_as_list(_as_csv(det["creators"])), "contributor": [], "citation": det["citation"] or "",
        "paper_url": None, "upload_date": fmt_time(d.upload_ts, "T"),
        "processing_date": fmt_time(d.upload_ts + 86400, "T"), "error": None, "warning": None,
        "collection_date": det["collection_date"], "description": str(det["description"]).replace("\r", "").strip(),
        "description_version": int(str(det["description_version"])), "tag": [t.tag for t in d.tags],
        "default_target_attribute": csv_as_list(d.target), "ignore_attribute": [], "row_id_attribute": [],
        "url": f"{roots.server}data/v1/download/{d.file_id}/{html.escape(d.name)}.{fmt}",
        "parquet_url": parquet_url(d.id, fmt, roots), "file_id": d.file_id, "format": fmt,
        "original_data_url": csv_as_list(_as_csv(det["original_data_url"])), "md5_checksum": det["md5"],
    }


def features_json(store: Store, d: DatasetRec) -> list[dict[str, Any]]:
    """``GET /datasets/features/{id}``: nominal values only on nominal features, verbatim."""
    return [
        drop_none({
            "index": f.index, "name": f.name, "data_type": f.data_type, "is_target": f.is_target,
            "is_ignore": False, "is_row_identifier": False, "number_of_missing_values": f.n_missing,
            "nominal_values": list(f.nominal_values) if f.data_type == "nominal" else None,
        })
        for f in vals.dataset_features(store, d)
    ]


def qualities_json(store: Store, d: DatasetRec) -> list[dict[str, Any]]:
    """``GET /datasets/qualities/{id}``: ``value`` is a float or null."""
    return [{"name": n, "value": None if v is None else float(v)} for n, v in vals.dataset_qualities(store, d)]


def quality_names_json() -> dict[str, Any]:
    """``GET /datasets/qualities/list`` (the PHP nesting is kept by v2)."""
    names = sorted({*BASIC_QUALITIES, *EXTRA_QUALITIES, "Dimensionality"})
    return {"data_qualities_list": {"quality": names}}


def dataset_row(d: DatasetRec) -> dict[str, Any]:
    """A ``/datasets/list`` row: ``format`` raw, ``md5_checksum`` always ``""``, basic non-null qualities."""
    return {
        "did": d.id, "name": d.name, "version": d.version, "format": d.format, "file_id": d.file_id,
        "status": d.status, "md5_checksum": "",
        "quality": [{"name": n, "value": float(v)} for n, v in vals.basic_qualities(d)],
    }


def _prediction_features(type_id: int) -> list[dict[str, str]]:
    feats = [("repeat", "integer"), ("fold", "integer"), ("row_id", "integer")]
    if type_id in (1, 3):
        feats.append(("confidence.classname", "numeric"))
    feats.append(("cluster", "integer") if type_id == 5 else ("prediction", "string"))
    return [{"name": n, "type": t} for n, t in feats]


def task_json(store: Store, t: TaskRec, roots: Roots) -> dict[str, Any]:
    """``GET /tasks/{id}``: the task type's XML templates filled and converted to JSON (``[]`` = no input)."""
    d = store.datasets.get(t.did)
    type_name = TASK_TYPES[t.type_id][0]
    p = vals.procedure(t.proc_id)
    source: dict[str, Any] = {"data_set_id": t.did}
    if t.type_id != 5:  # the clustering template has no target
        source["target_feature"] = t.target or []
    params: list[dict[str, Any]] = [{"name": "number_repeats", "value": p[4]},
                                    {"name": "number_folds", "value": p[5]}, {"name": "percentage", "value": p[6]}]
    if p[7] is not None:
        params.append({"name": "stratified_sampling", "value": str(p[7]).lower()})  # a string column
    procedure = {"id": p[0], "type": p[3],
                 "data_splits_url": f"{roots.server}api_splits/get/{t.id}/Task_{t.id}_splits.arff",
                 "parameter": params}
    inputs: list[dict[str, Any]] = [{"data_set": source, "name": "source_data"},
                                    {"estimation_procedure": procedure, "name": "estimation_procedure"}]
    if t.type_id in (1, 3):
        inputs.append({"cost_matrix": [], "name": "cost_matrix"})
    inputs.append({"evaluation_measures": {"evaluation_measure": t.measure or []}, "name": "evaluation_measures"})
    name = f"Task {t.id}: {d.name} ({type_name})" if d else f"Task {t.id} ({type_name})"
    return {
        "id": t.id, "name": name, "task_type_id": t.type_id, "task_type": type_name, "input": inputs,
        "output": [{"predictions": {"format": "ARFF", "feature": _prediction_features(t.type_id)},
                    "name": "predictions"}],
        "tags": [x.tag for x in t.tags],
    }


def task_row(t: TaskRec, d: DatasetRec) -> dict[str, Any]:
    """A ``/tasks/list`` row: basic inputs and qualities as **strings**; absent (not empty) when none."""
    row: dict[str, Any] = {"task_id": t.id, "task_type_id": t.type_id, "task_type": TASK_TYPES[t.type_id][0],
                           "did": d.id, "name": d.name, "format": d.format, "status": d.status}
    inputs = [("estimation_procedure", str(t.proc_id))]
    if t.measure:
        inputs.append(("evaluation_measures", t.measure))
    inputs.append(("source_data", str(t.did)))
    if t.target:
        inputs.append(("target_feature", t.target))
    row["input"] = [{"name": n, "value": v} for n, v in inputs]
    qualities = [{"name": n, "value": str(float(v))} for n, v in vals.basic_qualities(d)]
    if qualities:
        row["quality"] = qualities
    if t.tags:
        row["tag"] = [x.tag for x in t.tags]
    return row


def estimation_procedures_json() -> list[dict[str, Any]]:
    """``GET /estimationprocedure/list`` from the catalogue (``ttid`` is ``task_type_id``; nulls omitted)."""
    return [
        drop_none({"id": pid, "task_type_id": ttid, "name": name, "type": typ, "percentage": pct,
                   "repeats": repeats, "folds": folds, "stratified_sampling": strat})
        for pid, ttid, name, typ, repeats, folds, pct, strat in ESTIMATION_PROCEDURES
    ]


def evaluation_measures_json() -> list[str]:
    """``GET /evaluationmeasure/list``: the outer nesting of v1 is gone."""
    return sorted({m[0] for ms in (vals.measures_for(1), vals.measures_for(2)) for m in ms})


def task_types_json() -> dict[str, Any]:
    """``GET /tasktype/list``: every value stringified, as PHP printed them."""
    return {"task_types": {"task_type": [
        {"id": str(i), "name": n, "description": desc, "creator": c} for i, (n, desc, c, _d) in TASK_TYPES.items()
    ]}}


def flow_json(store: Store, f: FlowRec,
              render_recorded: Callable[[int], dict[str, Any] | None] | None = None) -> dict[str, Any]:
    """``GET /flows/{id}``: components as ``subflows``, parameter defaults typed by ``_str_to_num``.

    ``render_recorded(fid)`` renders a recorded subflow (None when there is none).
    """
    det = vals.flow_detail(f)
    subflows = []
    for ident, cid in f.components:
        sub = store.flows.get(cid)
        if sub is None:
            continue
        recorded = render_recorded(cid) if render_recorded is not None else None
        subflows.append({"identifier": ident, "flow": recorded or flow_json(store, sub, render_recorded)})
    return {
        "id": f.id, "uploader": f.uploader, "name": f.name, "class_name": det["class_name"] or None,
        "version": f.version, "external_version": f.external_version, "description": det["description"],
        "upload_date": fmt_time(f.upload_ts, "T"), "language": det["language"], "dependencies": det["dependencies"],
        "parameter": [{"name": n, "default_value": str_to_num(dv) if dv else None, "data_type": dt, "description": ds}
                      for n, dt, dv, ds in vals.flow_parameters(store, f)],
        "subflows": subflows, "tag": [t.tag for t in f.tags],
    }


def run_json(store: Store, r: RunRec, roots: Roots) -> dict[str, Any]:
    """``GET /run/{id}``: ``error`` a list, files without ``did``/``url``, typed evaluations, nulls omitted."""
    task = store.tasks.get(r.task)
    flow = store.flows.get(r.flow)
    d = store.datasets.get(task.did) if task else None
    setup = store.setups.get(r.setup)
    type_id = task.type_id if task else 1
    aggregates: list[dict[str, Any]] = []
    folds: list[dict[str, Any]] = []
    for name, _per_fold, _per_class in vals.measures_for(type_id):
        m = vals.measure_value(store, r, name)
        if m is None:
            continue
        aggregates.append(drop_none({"name": name, "value": _typed(m.value), "array_data": m.array_data}))
        folds.extend({"name": name, "value": _typed(v), "repeat": rep, "fold": fold}
                     for rep, row in enumerate(m.folds) for fold, v in enumerate(row))
    return drop_none({
        "run_id": r.id, "uploader": r.uploader, "uploader_name": store.users.get(r.uploader) or None,
        "task_id": r.task, "task_type": TASK_TYPES[type_id][0],
        "task_evaluation_measure": task.measure if task else None, "flow_id": r.flow,
        "flow_name": flow.full_name if flow else None, "setup_id": r.setup, "setup_string": None,
        "parameter_setting": [{"name": p.name, "value": p.value, "component": p.flow_id}
                              for p in (vals.setup_parameters(store, setup) if setup else [])],
        "error": [ERROR_TEXT] if r.error else [], "tag": [t.tag for t in store.run_tags.get(r.id, [])],
        "input_data": [{"did": d.id, "name": d.name, "url": f"{roots.server}data/download/{d.file_id}/{d.name}.arff"}]
        if d else [],
        "output_data": {"file": [{"file_id": 2_000_000 + r.id * 2 + offset, "name": name}
                                 for offset, name in ((0, "description"), (1, "predictions"))],
                        "evaluation": [drop_none(e) for e in aggregates + folds]},
    })


def trace_json(run_id: int, rows: list[tuple[int, int, int, str, str, bool]]) -> dict[str, Any]:
    """``GET /run/trace/{id}``: ``selected`` stays the string ``"true"``/``"false"``."""
    return {"run_id": run_id, "trace": [
        {"repeat": rep, "fold": fold, "iteration": it, "setup_string": setup, "evaluation": float(ev),
         "selected": str(sel).lower()}
        for rep, fold, it, setup, ev, sel in rows
    ]}


def setup_json(store: Store, s: SetupRec) -> dict[str, Any]:
    """``GET /setup/{id}``: ints typed, ``parameter`` omitted when empty, null fields omitted."""
    params = [
        drop_none({"id": p.input_id, "flow_id": p.flow_id, "flow_name": p.flow_name, "full_name": p.full_name,
                   "parameter_name": p.name, "name": p.name, "data_type": p.data_type,
                   "default_value": p.default_value, "value": p.value})
        for p in vals.setup_parameters(store, s)
    ]
    return {"setup_parameters": drop_none({"setup_id": s.id, "flow_id": s.flow_id, "parameter": params or None})}


def study_json(store: Store, st: StudyRec) -> dict[str, Any]:
    """``GET /studies/{id}``: flat id lists; a task suite has no flows, setups or runs."""
    runs = [r for r in (store.run(i) for i in st.run_ids) if r is not None] if st.main_entity_type == "run" else []
    return {
        "id": st.id, "name": st.name, "alias": st.alias, "main_entity_type": st.main_entity_type,
        "description": st.description, "visibility": "public", "status": st.status,
        "creation_date": fmt_time(st.creation_ts, "T"), "creator": st.creator, "task_ids": list(st.task_ids),
        "run_ids": [r.id for r in runs],
        "data_ids": sorted({store.tasks[t].did for t in st.task_ids if t in store.tasks}),
        "setup_ids": sorted({r.setup for r in runs}), "flow_ids": sorted({r.flow for r in runs}),
    }
