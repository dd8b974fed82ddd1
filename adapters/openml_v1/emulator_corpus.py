"""Loads the recorded OpenML corpus into the emulator's store: verbatim bodies plus consistent summaries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import xmltodict

from adapters.openml_v1.emulator_data import (
    DatasetRec,
    FlowRec,
    RunRec,
    SetupRec,
    Store,
    StudyRec,
    TagEntry,
    TaskRec,
)

__all__ = ["RESERVED_IDS", "load_corpus"]

# Ids of the recorded corpus entities (setups 12 and 23161 are the ones runs 100 and 26936 refer to);
# generated data leaves them free so that the recordings and the generated lists stay consistent.
RESERVED_IDS: dict[str, frozenset[int]] = {
    "data": frozenset({2, 61, 106, 395, 4136, 40945}), "task": frozenset({7, 59, 631, 1882}),
    "flow": frozenset({2, 5270, 5271, 75243}), "run": frozenset({100, 26936}),
    "setup": frozenset({12, 100, 23161}),
}

# Dataset statistics that the recorded descriptions do not carry:
# did -> (instances, features, classes, missing values, numeric features, uploader).
_KNOWN_STATS: dict[int, tuple[int, int, int, int, int, int]] = {
    2: (898, 39, 5, 22175, 6, 1), 61: (150, 5, 3, 0, 4, 1), 106: (52, 4, 0, 0, 4, 1),
    395: (1657, 3759, 25, 0, 3758, 1), 4136: (600, 20001, 2, 0, 20000, 1), 40945: (1309, 14, 2, 3855, 7, 1),
}
_TYPE_IDS = {"Supervised Classification": 1, "Supervised Regression": 2, "Learning Curve": 3, "Clustering": 5}
_FORCE = ("oml:tag", "oml:parameter", "oml:component", "oml:parameter_setting", "oml:evaluation",
          "oml:input", "oml:file", "oml:creator")
_T0 = 0


def _parse(raw: bytes) -> dict[str, Any]:
    return xmltodict.parse(raw, force_list=_FORCE, disable_entities=True)


def _tags(doc: dict[str, Any]) -> list[TagEntry]:
    return [TagEntry(t, 1) for t in doc.get("oml:tag") or [] if t]


def _dataset(store: Store, raw: bytes) -> None:
    doc = _parse(raw)["oml:data_set_description"]
    did = int(doc["oml:id"])
    n_inst, n_feat, n_cls, n_miss, n_num, uploader = _KNOWN_STATS.get(did, (100, 5, 2, 0, 4, 1))
    file_id = int(doc["oml:file_id"]) if doc.get("oml:file_id") else None
    store.datasets[did] = DatasetRec(
        did, doc["oml:name"], int(doc["oml:version"]), doc.get("oml:status") or "active", doc["oml:format"],
        uploader, file_id, _T0, n_inst, n_feat, n_cls, n_miss, n_num,
        doc.get("oml:default_target_attribute") or "class", _tags(doc), corpus=True)
    store.raw[f"data/{did}"] = raw


def _task(store: Store, raw: bytes) -> None:
    doc = _parse(raw)["oml:task"]
    tid = int(doc["oml:task_id"])
    type_id = int(doc.get("oml:task_type_id") or _TYPE_IDS.get(doc["oml:task_type"], 1))
    inputs = {i["@name"]: i for i in doc["oml:input"]}
    ds = inputs["source_data"]["oml:data_set"]
    ep = inputs["estimation_procedure"]["oml:estimation_procedure"]
    params = {p["@name"]: p.get("#text") for p in ep.get("oml:parameter") or []}
    proc = int(ep["oml:id"]) if ep.get("oml:id") else (
        {1: 1, 2: 7, 3: 13, 5: 17}[type_id] if params.get("number_repeats") == "1" else 3)
    measures = (inputs.get("evaluation_measures") or {}).get("oml:evaluation_measures") or {}
    measure = measures.get("oml:evaluation_measure") if isinstance(measures, dict) else None
    store.tasks[tid] = TaskRec(tid, type_id, int(ds["oml:data_set_id"]), proc, ds.get("oml:target_feature"),
                               1, measure if isinstance(measure, str) else None, _tags(doc), corpus=True)
    store.raw[f"task/{tid}"] = raw


def _flow(store: Store, doc: dict[str, Any], raw: bytes) -> int:
    fid = int(doc["oml:id"])
    comps = []
    for comp in doc.get("oml:component") or []:
        comps.append((comp["oml:identifier"], _flow(store, comp["oml:flow"], _nested_raw(raw, comp))))
    ts = _T0
    store.flows[fid] = FlowRec(fid, doc["oml:name"], int(float(doc["oml:version"])),
                               doc.get("oml:external_version") or "", int(doc["oml:uploader"]), ts, -1,
                               "classif" if ".classif." in doc["oml:name"] else "other", tuple(comps),
                               _tags(doc), corpus=True)
    store.flow_params[fid] = tuple(
        (p.get("oml:name") or "", p.get("oml:data_type") or "", p.get("oml:default_value") or "",
         p.get("oml:description") or "") for p in doc.get("oml:parameter") or [] if p and p.get("oml:name"))
    for _, c in comps:
        store.parents.setdefault(c, []).append(fid)
    store.raw.setdefault(f"flow/{fid}", raw)
    return fid


def _nested_raw(raw: bytes, comp: dict[str, Any]) -> bytes:
    """The bytes of a nested `<oml:flow xmlns:oml=...>` element, served as that subflow's own response."""
    fid = comp["oml:flow"]["oml:id"]
    text = raw.decode()
    m = re.search(r'<oml:flow xmlns:oml="http://openml.org/openml">\s*<oml:id>' + re.escape(fid) + r"</oml:id>",
                  text)
    if m is None:
        return b""
    depth, pos = 0, m.start()
    for tok in re.finditer(r"<oml:flow[\s>]|</oml:flow>", text[m.start():]):
        depth += -1 if tok.group().startswith("</") else 1
        if depth == 0:
            pos = m.start() + tok.end()
            break
    return ("\n" + text[m.start():pos] + "\n").encode()


def _run(store: Store, raw: bytes) -> None:
    doc = _parse(raw)["oml:run"]
    rid = int(doc["oml:run_id"])
    setup_id = int(doc["oml:setup_id"])
    flow_id = int(doc["oml:flow_id"])
    values = {p["oml:name"]: p.get("oml:value") or "" for p in doc.get("oml:parameter_setting") or []}
    if setup_id not in store.setups:
        store.setups[setup_id] = SetupRec(setup_id, flow_id, 0, corpus=True)
        store.setup_values[setup_id] = values
    evals = {}
    for ev in (doc.get("oml:output_data") or {}).get("oml:evaluation") or []:
        if "@repeat" not in ev and ev.get("oml:value") is not None:
            evals[ev["oml:name"]] = ev["oml:value"]
    store.run_evals[rid] = evals
    error = bool((doc.get("oml:error") or "").strip())
    store.add_run(RunRec(rid, int(doc["oml:task_id"]), flow_id, setup_id, int(doc["oml:uploader"]),
                         86400 * 10 + rid, error))
    store.raw[f"run/{rid}"] = raw


def _setup(store: Store, raw: bytes) -> None:
    doc = _parse(raw)["oml:setup_parameters"]
    sid = int(doc["oml:setup_id"])
    store.setups[sid] = SetupRec(sid, int(doc["oml:flow_id"]), 0, corpus=True)
    store.setup_values[sid] = {p["oml:parameter_name"]: p.get("oml:value") or "" for p in doc["oml:parameter"]}
    store.raw[f"setup/{sid}"] = raw


def _study(store: Store, raw: bytes) -> None:
    doc = xmltodict.parse(raw, force_list=("oml:task_id", "oml:run_id"), disable_entities=True)["oml:study"]
    sid = int(doc["oml:id"])
    tasks = tuple(int(t) for t in ((doc.get("oml:tasks") or {}).get("oml:task_id") or []))
    runs = tuple(int(r) for r in ((doc.get("oml:runs") or {}).get("oml:run_id") or []))
    store.studies[sid] = StudyRec(sid, doc.get("oml:alias"), doc["oml:main_entity_type"], doc["oml:name"],
                                  doc.get("oml:description") or "", doc["oml:status"], _T0,
                                  int(doc["oml:creator"]), tasks, runs, corpus=True)
    store.raw[f"study/{sid}"] = raw


def load_corpus(store: Store, corpus_dir: Path) -> None:
    """Merge the recorded entities under `corpus_dir` into `store` (recorded ids take precedence)."""
    xml = corpus_dir / "v1-xml"
    if not xml.is_dir():
        return
    for path in sorted((xml / "data").glob("data_[0-9]*.xml")):
        _dataset(store, path.read_bytes())
    for name, key in (("data_features_2.xml", "data/features/2"), ("data_qualities_2.xml", "data/qualities/2")):
        if (xml / "data" / name).is_file():
            store.raw[key] = (xml / "data" / name).read_bytes()
    for path in sorted((xml / "task").glob("task_*.xml")):
        _task(store, path.read_bytes())
    for path in sorted((xml / "flow").glob("flow_*.xml")):
        raw = path.read_bytes()
        _flow(store, _parse(raw)["oml:flow"], raw)
    for path in sorted((xml / "setup").glob("setup_*.xml")):
        _setup(store, path.read_bytes())
    for path in sorted((xml / "run").glob("run_[0-9]*.xml")):
        _run(store, path.read_bytes())
    for path in sorted((xml / "study").glob("study_[0-9]*.xml")):
        _study(store, path.read_bytes())
    misc = {"estimationprocedure/list": xml / "misc" / "estimationprocedure_list.xml",
            "user/list/user_id/3229": xml / "misc" / "user_list_user_id_3229.xml",
            "splits/631": corpus_dir / "arff" / "task_631_datasplits.arff",
            "download/3629": corpus_dir / "arff" / "data_106_vineyard.arff"}
    for key, path in misc.items():
        if path.is_file():
            store.raw[key] = path.read_bytes()
