"""v2 JSON of the recorded corpus entities the v1 emulator serves verbatim (``Store.raw``), as v2 renders them.

A recording is the v1 server's view of database rows; this module renders the same rows the way the
server-api does. What v2 derives instead of reading (so that it differs from an old recording on purpose):
``url``/``parquet_url``/``data_splits_url`` come from the routing config, a task's name is always built and
its type id and estimation-procedure id are always known, a flow's ``version`` is an int, a parameter
setting always names its ``component``. Everything else is the recorded value.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from adapters._coerce import as_list, opt_str, text
from adapters._xml import parse_xml
from adapters.openml_v1.emulator_data import Store
from adapters.openml_v2.emulator_render import Roots, csv_as_list, drop_none, parquet_url, str_to_num

__all__ = [
    "recorded_dataset",
    "recorded_features",
    "recorded_flow",
    "recorded_procedures",
    "recorded_qualities",
    "recorded_run",
    "recorded_setup",
    "recorded_study",
    "recorded_task",
]

# repeatable elements per recorded root (a study's oml:task_id repeats, a run's must not become a list)
_LISTS: dict[str, frozenset[str]] = {
    "oml:data_set_description": frozenset({"oml:creator", "oml:contributor", "oml:tag", "oml:default_target_attribute",
                                           "oml:row_id_attribute", "oml:ignore_attribute", "oml:original_data_url"}),
    "oml:data_features": frozenset({"oml:feature", "oml:nominal_value", "oml:ontology"}),
    "oml:data_qualities": frozenset({"oml:quality"}),
    "oml:task": frozenset({"oml:input", "oml:output", "oml:parameter", "oml:evaluation_measure", "oml:feature",
                           "oml:tag"}),
    "oml:flow": frozenset({"oml:parameter", "oml:component", "oml:tag"}),
    "oml:run": frozenset({"oml:parameter_setting", "oml:tag", "oml:dataset", "oml:file", "oml:evaluation"}),
    "oml:setup_parameters": frozenset({"oml:parameter"}),
    "oml:study": frozenset({"oml:data_id", "oml:task_id", "oml:flow_id", "oml:setup_id", "oml:run_id", "oml:tag"}),
    "oml:estimationprocedures": frozenset({"oml:estimationprocedure"}),
}


def _root(raw: bytes, name: str) -> dict[str, Any]:
    doc = parse_xml(raw, backend="openml", force_list=_LISTS[name])
    node = doc[name]
    return node if isinstance(node, dict) else {}


def _s(node: dict[str, Any], key: str) -> str | None:
    return opt_str(node.get(f"oml:{key}"))


def _int(node: dict[str, Any], key: str) -> int | None:
    value = _s(node, key)
    return int(float(value)) if value is not None else None


def _all(node: dict[str, Any], key: str) -> list[str]:
    return [v for v in (opt_str(x) for x in as_list(node.get(f"oml:{key}"))) if v is not None]


def _iso(value: str | None) -> str | None:
    """Both recorded date formats, written as the server's JSON encoder writes a naive datetime."""
    if value is None:
        return None
    return datetime.fromisoformat(value.replace(" ", "T")).isoformat()


def _csv_column(node: dict[str, Any], key: str) -> list[str]:
    """Repeated elements are one CSV column in the database; v2 splits it on every comma."""
    values = _all(node, key)
    return csv_as_list(",".join(f'"{v}"' if "," in v else v for v in values)) if values else []


def recorded_dataset(raw: bytes, roots: Roots) -> dict[str, Any]:
    """``GET /datasets/{id}`` of a recorded description; ``file_id`` None means the route answers 412."""
    n = _root(raw, "oml:data_set_description")
    did = _int(n, "id") or 0
    fmt = (_s(n, "format") or "arff").lower()
    file_id = _int(n, "file_id")
    name = _s(n, "name") or ""
    return {
        "id": did, "visibility": (_s(n, "visibility") or "public").lower(), "status": _s(n, "status") or "active",
        "name": name, "licence": _s(n, "licence") or "", "version": _int(n, "version"),
        "version_label": _s(n, "version_label") or "", "language": _s(n, "language") or "",
        "creator": _csv_column(n, "creator"), "contributor": _csv_column(n, "contributor"),
        "citation": _s(n, "citation") or "", "paper_url": _s(n, "paper_url"),
        "upload_date": _iso(_s(n, "upload_date")), "processing_date": _iso(_s(n, "processing_date")),
        "error": _s(n, "error"), "warning": _s(n, "warning"), "collection_date": _s(n, "collection_date"),
        "description": (_s(n, "description") or "").replace("\r", "").strip(),
        "description_version": _int(n, "description_version") or 0, "tag": _all(n, "tag"),
        "default_target_attribute": _csv_column(n, "default_target_attribute"),
        "ignore_attribute": _csv_column(n, "ignore_attribute"), "row_id_attribute": _csv_column(n, "row_id_attribute"),
        "url": f"{roots.server}data/v1/download/{file_id}/{html.escape(name)}.{fmt}",
        "parquet_url": parquet_url(did, fmt, roots),
        "file_id": file_id, "format": fmt, "original_data_url": _csv_column(n, "original_data_url"),
        "md5_checksum": _s(n, "md5_checksum") or "",
    }


def recorded_features(raw: bytes) -> list[dict[str, Any]]:
    """``GET /datasets/features/{id}`` of a recorded feature list (nominal values verbatim)."""
    out = []
    for f in as_list(_root(raw, "oml:data_features").get("oml:feature")):
        nominal = [v for v in (text(x) for x in as_list(f.get("oml:nominal_value"))) if v is not None]
        out.append(drop_none({
            "index": _int(f, "index"), "name": text(f.get("oml:name")), "data_type": (_s(f, "data_type") or "").lower(),
            "ontology": _all(f, "ontology") or None, "is_target": _s(f, "is_target") == "true",
            "is_ignore": _s(f, "is_ignore") == "true", "is_row_identifier": _s(f, "is_row_identifier") == "true",
            "number_of_missing_values": _int(f, "number_of_missing_values") or 0, "nominal_values": nominal or None,
        }))
    return out


def recorded_qualities(raw: bytes) -> list[dict[str, Any]]:
    """``GET /datasets/qualities/{id}`` of a recorded quality list."""
    rows = as_list(_root(raw, "oml:data_qualities").get("oml:quality"))
    return [{"name": _s(q, "name"), "value": None if _s(q, "value") is None else float(_s(q, "value") or 0)}
            for q in rows if isinstance(q, dict)]


def _typed(value: str | None) -> int | str | None:
    """A template value from the database: digits typed, empty null, other text kept."""
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def recorded_task(store: Store, raw: bytes, roots: Roots) -> dict[str, Any]:
    """``GET /tasks/{id}`` of a recorded task: the recorded inputs, with what v2 always knows filled in."""
    n = _root(raw, "oml:task")
    tid = _int(n, "task_id") or 0
    rec = store.tasks.get(tid)
    type_name = _s(n, "task_type") or ""
    inputs = []
    for inp in as_list(n.get("oml:input")):
        name = inp.get("@name") or ""
        if name == "source_data":
            ds = inp.get("oml:data_set") or {}
            source: dict[str, Any] = {"data_set_id": _int(ds, "data_set_id")}
            if "oml:target_feature" in ds:
                source["target_feature"] = _s(ds, "target_feature") or []
            inputs.append({"data_set": source, "name": name})
        elif name == "estimation_procedure":
            ep = inp.get("oml:estimation_procedure") or {}
            params = [{"name": p.get("@name"), "value": _typed(opt_str(p.get("#text")))}
                      for p in as_list(ep.get("oml:parameter")) if isinstance(p, dict)]
            inputs.append({"estimation_procedure": {
                "id": _int(ep, "id") or (rec.proc_id if rec else None), "type": _s(ep, "type"),
                "data_splits_url": f"{roots.server}api_splits/get/{tid}/Task_{tid}_splits.arff", "parameter": params,
            }, "name": name})
        elif name == "evaluation_measures":
            measures = _all(inp.get("oml:evaluation_measures") or {}, "evaluation_measure")
            inputs.append({"evaluation_measures": {"evaluation_measure": measures[0] if measures else []},
                           "name": name})
        else:
            inner = {k.removeprefix("oml:"): opt_str(v) or [] for k, v in inp.items() if not k.startswith(("@", "#"))}
            inputs.append({**inner, "name": name})
    output = []
    for out in as_list(n.get("oml:output")):
        predictions = out.get("oml:predictions") or {}
        feats = [{"name": f.get("@name"), "type": f.get("@type")} for f in as_list(predictions.get("oml:feature"))]
        output.append({"predictions": {"format": _s(predictions, "format"), "feature": feats},
                       "name": out.get("@name")})
    d = store.datasets.get(rec.did) if rec else None
    # always built from the database, never read (task 7 was recorded on the test server, where dataset 2
    # is kr-vs-kp; in this store, as on production, it is anneal)
    name = f"Task {tid}: {d.name} ({type_name})" if d else f"Task {tid} ({type_name})"
    return {"id": tid, "name": name, "task_type_id": _int(n, "task_type_id") or (rec.type_id if rec else None),
            "task_type": type_name, "input": inputs, "output": output, "tags": _all(n, "tag")}


def _default(value: str | None) -> int | float | str | None:
    return str_to_num(value) if value else None


def _flow(store: Store, n: dict[str, Any]) -> dict[str, Any]:
    params = [{"name": _s(p, "name"), "default_value": _default(_s(p, "default_value")),
               "data_type": _s(p, "data_type") or "", "description": _s(p, "description") or ""}
              for p in as_list(n.get("oml:parameter")) if isinstance(p, dict)]
    subflows = [{"identifier": _s(c, "identifier"), "flow": _flow(store, c["oml:flow"])}
                for c in as_list(n.get("oml:component")) if isinstance(c, dict) and isinstance(c.get("oml:flow"), dict)]
    return {
        "id": _int(n, "id"), "uploader": _int(n, "uploader"), "name": _s(n, "name"), "class_name": _s(n, "class_name"),
        "version": _int(n, "version"), "external_version": _s(n, "external_version") or "",
        "description": _s(n, "description"), "upload_date": _iso(_s(n, "upload_date")),
        "language": _s(n, "language"), "dependencies": _s(n, "dependencies"), "parameter": params,
        "subflows": subflows, "tag": _all(n, "tag"),
    }


def recorded_flow(store: Store, raw: bytes) -> dict[str, Any]:
    """``GET /flows/{id}`` of a recorded flow (nested components become ``subflows``)."""
    return _flow(store, _root(raw, "oml:flow"))


def _owner(store: Store, flow_id: int, parameter: str) -> int:
    """The (sub)flow that declares ``parameter``: the database knows it, old recordings do not say."""
    for f in store.flow_tree(flow_id):
        names = {p[0] for p in store.flow_params.get(f.id, ())}
        if parameter in names:
            return f.id
    return flow_id


def _number(value: str | None) -> int | float | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def recorded_run(store: Store, raw: bytes) -> dict[str, Any]:
    """``GET /run/{id}`` of a recorded run: typed, ``error`` a list, no ``did``/``url`` on files."""
    n = _root(raw, "oml:run")
    flow_id = _int(n, "flow_id") or 0
    output = n.get("oml:output_data") or {}
    evaluations = []
    for e in as_list(output.get("oml:evaluation")):
        if not isinstance(e, dict) or e.get("@sample") is not None:
            continue
        evaluations.append(drop_none({
            "name": _s(e, "name"), "value": _number(_s(e, "value")), "array_data": _s(e, "array_data"),
            "repeat": int(e["@repeat"]) if e.get("@repeat") is not None else None,
            "fold": int(e["@fold"]) if e.get("@fold") is not None else None,
        }))
    error = text(n.get("oml:error")) or ""
    return drop_none({
        "run_id": _int(n, "run_id"), "uploader": _int(n, "uploader"), "uploader_name": _s(n, "uploader_name"),
        "task_id": _int(n, "task_id"), "task_type": _s(n, "task_type"),
        "task_evaluation_measure": _s(n, "task_evaluation_measure"), "flow_id": flow_id,
        "flow_name": _s(n, "flow_name"), "setup_id": _int(n, "setup_id"), "setup_string": _s(n, "setup_string"),
        "parameter_setting": [
            {"name": _s(p, "name"), "value": text(p.get("oml:value")),
             "component": _int(p, "component") or _owner(store, flow_id, _s(p, "name") or "")}
            for p in as_list(n.get("oml:parameter_setting")) if isinstance(p, dict)
        ],
        "error": [error] if error.strip() else [], "tag": _all(n, "tag"),
        "input_data": [{"did": _int(d, "did"), "name": _s(d, "name"), "url": _s(d, "url")}
                       for d in as_list((n.get("oml:input_data") or {}).get("oml:dataset")) if isinstance(d, dict)],
        "output_data": {"file": [{"file_id": _int(f, "file_id"), "name": _s(f, "name")}
                                 for f in as_list(output.get("oml:file")) if isinstance(f, dict)],
                        "evaluation": evaluations},
    })


def recorded_setup(raw: bytes) -> dict[str, Any]:
    """``GET /setup/{id}`` of a recorded setup (the database has ``name`` even where the recording lacks it)."""
    n = _root(raw, "oml:setup_parameters")
    params = [drop_none({
        "id": _int(p, "id"), "flow_id": _int(p, "flow_id"), "flow_name": _s(p, "flow_name"),
        "full_name": _s(p, "full_name"), "parameter_name": _s(p, "parameter_name"),
        "name": _s(p, "name") or _s(p, "parameter_name"), "data_type": _s(p, "data_type"),
        "default_value": text(p.get("oml:default_value")), "value": text(p.get("oml:value")),
    }) for p in as_list(n.get("oml:parameter")) if isinstance(p, dict)]
    return {"setup_parameters": drop_none({"setup_id": _int(n, "setup_id"), "flow_id": _int(n, "flow_id"),
                                           "parameter": params or None})}


def recorded_study(raw: bytes) -> dict[str, Any]:
    """``GET /studies/{id}`` of a recorded study: the wrappers become flat id lists."""
    n = _root(raw, "oml:study")

    def ids(wrapper: str, item: str) -> list[int]:
        node = n.get(f"oml:{wrapper}")
        return [int(v) for v in _all(node, item)] if isinstance(node, dict) else []

    return {
        "id": _int(n, "id"), "name": _s(n, "name"), "alias": _s(n, "alias"),
        "main_entity_type": _s(n, "main_entity_type"), "description": _s(n, "description") or "",
        "visibility": _s(n, "visibility") or "public", "status": _s(n, "status"),
        "creation_date": _iso(_s(n, "creation_date")), "creator": _int(n, "creator"),
        "task_ids": ids("tasks", "task_id"), "run_ids": ids("runs", "run_id"), "data_ids": ids("data", "data_id"),
        "setup_ids": ids("setups", "setup_id"), "flow_ids": ids("flows", "flow_id"),
    }


def recorded_procedures(raw: bytes) -> list[dict[str, Any]]:
    """``GET /estimationprocedure/list`` of the recorded list (``ttid`` -> ``task_type_id``, booleans typed)."""
    rows = as_list(_root(raw, "oml:estimationprocedures").get("oml:estimationprocedure"))
    return [drop_none({
        "id": _int(p, "id"), "task_type_id": _int(p, "ttid"), "name": _s(p, "name"), "type": _s(p, "type"),
        "percentage": _int(p, "percentage"), "repeats": _int(p, "repeats"), "folds": _int(p, "folds"),
        "stratified_sampling": None if _s(p, "stratified_sampling") is None else _s(p, "stratified_sampling") == "true",
    }) for p in rows if isinstance(p, dict)]
