"""The OpenML v1 list endpoints of the emulator: filtering (with the server's rules) and row rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from xml.sax.saxutils import escape

from adapters.openml_v1 import emulator_values as vals
from adapters.openml_v1.emulator_catalog import ESTIMATION_PROCEDURES, TASK_TYPES
from adapters.openml_v1.emulator_data import DatasetRec, RunRec, Store, fmt_time
from adapters.openml_v1.emulator_filters import LIST_SPECS, FilterError, parse_filters, parse_range
from adapters.openml_v1.emulator_render import NS, setup_params_xml

__all__ = [
    "estimation_procedures_xml",
    "evaluation_list",
    "evaluation_measures_xml",
    "list_data",
    "list_flows",
    "list_runs",
    "list_setups",
    "list_studies",
    "list_tasks",
    "task_types_xml",
    "users_xml",
]

_RESULT_LIMIT = 10_000
_SETUP_LIMIT = 1_000


def _ids(value: str | None) -> set[int] | None:
    return None if value is None else {int(v) for v in value.split(",")}


def _page(rows: list[int], filters: dict[str, str], no_results: int) -> list[int]:
    offset = int(filters.get("offset", "0"))
    if "limit" in filters:
        rows = rows[offset: offset + int(filters["limit"])]
    if not rows:
        raise FilterError(no_results)
    return rows


def _in_range(value: int, spec: str | None) -> bool:
    if spec is None:
        return True
    lo, hi = parse_range(spec)
    return lo <= value <= hi


def _dataset_match(d: DatasetRec, f: dict[str, str], status_key: str = "status") -> bool:
    status = f.get(status_key, "active")
    return ((status == "all" or d.status == status)
            and _in_range(d.n_instances, f.get("number_instances"))
            and _in_range(d.n_features, f.get("number_features"))
            and _in_range(d.n_classes, f.get("number_classes"))
            and _in_range(d.n_missing, f.get("number_missing_values")))


def _qualities(d: DatasetRec, indent: str) -> str:
    return "".join(f'\n{indent}<oml:quality name="{n}">{v}</oml:quality>' for n, v in vals.basic_qualities(d))


def list_data(store: Store, segments: list[str]) -> str:
    """`GET data/list/...`: active datasets only unless `status` says otherwise."""
    f = parse_filters(segments, LIST_SPECS["data"])
    ids, tag = _ids(f.get("data_id")), f.get("tag")
    uploader = int(f["uploader"].split(",")[0]) if "uploader" in f else None  # MySQL coerces "1,2" to 1
    rows = [d.id for d in sorted(store.datasets.values(), key=lambda d: d.id)
            if (ids is None or d.id in ids) and _dataset_match(d, f)
            and (tag is None or any(t.tag == tag for t in d.tags))
            and ("data_name" not in f or d.name == f["data_name"])
            and ("data_version" not in f or d.version == int(f["data_version"]))
            and (uploader is None or d.uploader == uploader)]
    out = [f"<oml:data {NS}>"]
    for did in _page(rows, f, 372):
        d = store.datasets[did]
        file_id = f"\n    <oml:file_id>{d.file_id}</oml:file_id>" if d.file_id else ""
        out.append(f"  <oml:dataset>\n    <oml:did>{d.id}</oml:did>\n    <oml:name>{d.name}</oml:name>\n"
                   f"    <oml:version>{d.version}</oml:version>\n    <oml:status>{d.status}</oml:status>\n"
                   f"    <oml:format>{d.format}</oml:format>{file_id}\n    <oml:uploader>{d.uploader}</oml:uploader>"
                   f"{_qualities(d, '    ')}\n  </oml:dataset>")
    return "\n".join(out) + "\n</oml:data>\n"


def list_tasks(store: Store, segments: list[str]) -> str:
    """`GET task/list/...`: tasks on active datasets unless `status` says otherwise."""
    f = parse_filters(segments, LIST_SPECS["task"])
    tids, dids = _ids(f.get("task_id")), _ids(f.get("data_id"))
    rows = []
    for t in sorted(store.tasks.values(), key=lambda t: t.id):
        d = store.datasets.get(t.did)
        if d is None or not _dataset_match(d, f):
            continue
        if ((tids is not None and t.id not in tids) or (dids is not None and t.did not in dids)
                or ("type" in f and t.type_id != int(f["type"]))
                or ("tag" in f and not any(x.tag == f["tag"] for x in t.tags))
                or ("data_tag" in f and not any(x.tag == f["data_tag"] for x in d.tags))
                or ("data_name" in f and d.name != f["data_name"])):
            continue
        rows.append(t.id)
    out = [f"<oml:tasks {NS}>"]
    for tid in _page(rows, f, 482):
        t = store.tasks[tid]
        d = store.datasets[t.did]
        inputs = [("estimation_procedure", t.proc_id)]
        if t.measure:
            inputs.append(("evaluation_measures", t.measure))
        inputs.append(("source_data", t.did))
        if t.target:
            inputs.append(("target_feature", t.target))
        itxt = "".join(f'\n        <oml:input name="{n}">{escape(str(v))}</oml:input>' for n, v in inputs)
        tags = "".join(f"\n    <oml:tag>{escape(x.tag)}</oml:tag>" for x in t.tags)
        out.append(f"    <oml:task>\n    <oml:task_id>{t.id}</oml:task_id>\n    <oml:task_type_id>{t.type_id}"
                   f"</oml:task_type_id>\n    <oml:task_type>{TASK_TYPES[t.type_id][0]}</oml:task_type>\n"
                   f"    <oml:did>{d.id}</oml:did>\n    <oml:name>{d.name}</oml:name>\n    <oml:status>{d.status}"
                   f"</oml:status>\n    <oml:format>{d.format}</oml:format>{itxt}{_qualities(d, '        ')}{tags}\n"
                   "    </oml:task>")
    return "\n".join(out) + "\n</oml:tasks>\n"


def list_flows(store: Store, segments: list[str]) -> str:
    """`GET flow/list/...` (no id filter; `uploader` is an equality match on the first id)."""
    f = parse_filters(segments, LIST_SPECS["flow"])
    uploader = int(f["uploader"].split(",")[0]) if "uploader" in f else None
    rows = [x.id for x in sorted(store.flows.values(), key=lambda x: x.id)
            if (uploader is None or x.uploader == uploader)
            and ("tag" not in f or any(t.tag == f["tag"] for t in x.tags))]
    out = [f"<oml:flows {NS}>"]
    for fid in _page(rows, f, 500):
        x = store.flows[fid]
        out.append(f"  <oml:flow>\n    <oml:id>{x.id}</oml:id>\n    <oml:full_name>{x.full_name}</oml:full_name>\n"
                   f"    <oml:name>{x.name}</oml:name>\n    <oml:version>{x.version}</oml:version>\n"
                   f"    <oml:external_version>{escape(x.external_version)}</oml:external_version>\n"
                   f"    <oml:uploader>{x.uploader}</oml:uploader>\n  </oml:flow>")
    return "\n".join(out) + "\n</oml:flows>\n"


def _select_runs(store: Store, f: dict[str, str], show_errors: bool) -> list[RunRec]:
    candidates: Iterable[int] | None = None
    for key, index in (("task", store.runs_by_task), ("flow", store.runs_by_flow), ("setup", store.runs_by_setup)):
        if key in f:
            found = {r for k in _ids(f[key]) or () for r in index.get(k, ())}
            candidates = found if candidates is None else set(candidates) & found
    if "run" in f:
        wanted = _ids(f["run"]) or set()
        candidates = wanted if candidates is None else set(candidates) & wanted
    ids = sorted(candidates) if candidates is not None else store.all_run_ids()
    uploaders, types = _ids(f.get("uploader")), _ids(f.get("task_type"))
    study = store.studies.get(int(f["study"])) if "study" in f else None
    in_study = set(study.run_ids) if study else None
    out = []
    for rid in ids:
        r = store.run(rid)
        if r is None or (r.error and not show_errors):
            continue
        if uploaders is not None and r.uploader not in uploaders:
            continue
        if types is not None and (r.task not in store.tasks or store.tasks[r.task].type_id not in types):
            continue
        if "tag" in f and not any(t.tag == f["tag"] for t in store.run_tags.get(rid, [])):
            continue
        if in_study is not None and rid not in in_study:
            continue
        out.append(r)
    return out


def _check_run_like(store: Store, f: dict[str, str], codes: tuple[int, int, int]) -> None:
    no_filter, too_high, bad_study = codes
    if "limit" in f and int(f["limit"]) > _RESULT_LIMIT:
        raise FilterError(too_high)
    if "study" in f:
        st = store.studies.get(int(f["study"]))
        if st is None or st.main_entity_type != "run":
            raise FilterError(bad_study)
    if not any(k in f for k in ("task", "task_type", "setup", "flow", "uploader", "run", "tag", "limit", "study",
                                "function")):
        raise FilterError(no_filter)


def list_runs(store: Store, segments: list[str]) -> str:
    """`GET run/list/...`: needs a filter; hides runs with engine errors unless `show_errors/true`."""
    f = parse_filters(segments, LIST_SPECS["run"])
    _check_run_like(store, f, (510, 516, 517))
    runs = _select_runs(store, f, f.get("show_errors", "").lower() == "true")
    if "limit" not in f and len(runs) > _RESULT_LIMIT:
        raise FilterError(513, f"Size of result set: {len(runs)}; max size: {_RESULT_LIMIT}")
    by_id = {r.id: r for r in runs}
    out = [f"<oml:runs {NS}>"]
    for rid in _page(list(by_id), f, 512):
        r = by_id[rid]
        task = store.tasks.get(r.task)
        err = "Error while evaluating: could not read predictions file. " if r.error else ""
        out.append(f"    <oml:run>\n    <oml:run_id>{r.id}</oml:run_id>\n    <oml:task_id>{r.task}</oml:task_id>\n"
                   f"    <oml:task_type_id>{task.type_id if task else 1}</oml:task_type_id>\n    <oml:setup_id>"
                   f"{r.setup}</oml:setup_id>\n    <oml:flow_id>{r.flow}</oml:flow_id>\n    <oml:uploader>{r.uploader}"
                   f"</oml:uploader>\n\t\t<oml:upload_time>{fmt_time(r.upload_ts)}</oml:upload_time>\n"
                   f"    <oml:error_message>{err}</oml:error_message>\n    <oml:run_details></oml:run_details>\n"
                   "  </oml:run>")
    return "\n".join(out) + "\n  </oml:runs>\n"


def evaluation_list(store: Store, segments: list[str], with_setup: bool) -> str:
    """`GET evaluation/list/...` (and `evaluation/setup/list/...` with each run's parameters)."""
    f = parse_filters(segments, LIST_SPECS["evaluation"])
    if f.get("per_fold", "false") not in ("true", "false"):
        raise FilterError(547)
    if f.get("sort_order", "asc") not in ("asc", "desc"):
        raise FilterError(549)
    _check_run_like(store, f, (540, 546, 555))
    runs = _select_runs(store, f, False)
    if "limit" not in f and len(runs) > _RESULT_LIMIT:
        raise FilterError(543, f"Size of result set: {len(runs)}; max size: {_RESULT_LIMIT}")
    functions: Callable[[RunRec], list[str]]
    if "function" in f:
        functions = lambda _r: [f["function"]]  # noqa: E731
    else:
        functions = lambda r: [m[0] for m in vals.measures_for(  # noqa: E731
            store.tasks[r.task].type_id if r.task in store.tasks else 1)]
    offset = int(f.get("offset", "0"))
    # without a sort order, stop computing values once the requested page is complete
    stop = offset + int(f["limit"]) if "limit" in f and "sort_order" not in f else None
    rows = []
    for r in runs:
        if stop is not None and len(rows) >= stop:
            break
        for fn in functions(r):
            m = vals.measure_value(store, r, fn)
            if m is not None and m.value is not None:
                rows.append((r, fn, m))
    if "sort_order" in f:
        rows.sort(key=lambda x: float(x[2].value or 0), reverse=f["sort_order"] == "desc")
    if "limit" in f:
        rows = rows[offset: offset + int(f["limit"])]
    if not rows:
        raise FilterError(542)
    per_fold = f.get("per_fold") == "true"
    out = [f"<oml:evaluations {NS}>"]
    for r, fn, m in rows:
        task = store.tasks.get(r.task)
        flow = store.flows.get(r.flow)
        d = store.datasets.get(task.did) if task else None
        params = ""
        if with_setup and r.setup in store.setups:
            params = "\n    <oml:parameters>\n" + setup_params_xml(store, store.setups[r.setup], False, "      ") \
                + "\n    </oml:parameters>"
        extra = f"          <oml:array_data>{m.array_data}</oml:array_data>" if m.array_data else ""
        if per_fold and m.folds:
            extra += "<oml:values>[" + ",".join("[" + ",".join(row) + "]" for row in m.folds) + "]</oml:values>"
        out.append(f"    <oml:evaluation>\n    <oml:run_id>{r.id}</oml:run_id>\n    <oml:uploader>{r.uploader}"
                   f"</oml:uploader>\n    <oml:task_id>{r.task}</oml:task_id>\n    <oml:setup_id>{r.setup}"
                   f"</oml:setup_id>\n    <oml:flow_id>{r.flow}</oml:flow_id>\n    <oml:flow_name>"
                   f"{flow.full_name if flow else ''}</oml:flow_name>{params}\n        <oml:data_id>"
                   f"{d.id if d else ''}</oml:data_id>    <oml:data_name>{d.name if d else ''}</oml:data_name>"
                   "    <oml:evaluation_engine_id>1</oml:evaluation_engine_id>\n    <oml:function>"
                   f"{fn}</oml:function>\n    <oml:upload_time>{fmt_time(r.upload_ts)}</oml:upload_time>\n"
                   f"    <oml:value>{m.value}</oml:value>{extra}          </oml:evaluation>")
    return "\n".join(out) + "\n</oml:evaluations>\n"


def list_setups(store: Store, segments: list[str]) -> str:
    """`GET setup/list/...`: needs a filter, limit at most 1,000."""
    f = parse_filters(segments, LIST_SPECS["setup"])
    if not any(k in f for k in ("flow", "setup", "tag", "limit")):
        raise FilterError(670)
    if "limit" in f and int(f["limit"]) > _SETUP_LIMIT:
        raise FilterError(676)
    sids, fids = _ids(f.get("setup")), _ids(f.get("flow"))
    rows = [s.id for s in sorted(store.setups.values(), key=lambda s: s.id)
            if (sids is None or s.id in sids) and (fids is None or s.flow_id in fids)
            and ("tag" not in f or any(t.tag == f["tag"] for t in s.tags))]
    if "limit" not in f and len(rows) > _SETUP_LIMIT:
        raise FilterError(673)
    out = [f"<oml:setups {NS}>"]
    for sid in _page(rows, f, 674):
        s = store.setups[sid]
        params = setup_params_xml(store, s, False, "\t\t")
        out.append(f"\t<oml:setup>\n\t\t<oml:setup_id>{s.id}</oml:setup_id>\n\t\t<oml:flow_id>{s.flow_id}"
                   f"</oml:flow_id>\n{params + chr(10) if params else ''}\t</oml:setup>")
    return "\n".join(out) + "\n</oml:setups>\n"


def list_studies(store: Store, segments: list[str]) -> str:
    """`GET study/list/...`: active studies only unless `status/all`."""
    f = parse_filters(segments, LIST_SPECS["study"])
    status = f.get("status", "active")
    rows = [s.id for s in sorted(store.studies.values(), key=lambda s: s.id)
            if (status == "all" or s.status == status)
            and ("main_entity_type" not in f or s.main_entity_type == f["main_entity_type"])
            and ("uploader" not in f or s.creator == int(f["uploader"]))]
    out = [f"<oml:study_list {NS}>"]
    for sid in _page(rows, f, 599):
        s = store.studies[sid]
        alias = f"\n    <oml:alias>{s.alias}</oml:alias>" if s.alias else ""
        out.append(f"  <oml:study>\n    <oml:id>{s.id}</oml:id>{alias}\n    <oml:main_entity_type>"
                   f"{s.main_entity_type}</oml:main_entity_type>\n    <oml:name>{s.name}</oml:name>\n"
                   f"    <oml:status>{s.status}</oml:status>\n    <oml:creation_date>{fmt_time(s.creation_ts)}"
                   f"</oml:creation_date>\n    <oml:creator>{s.creator}</oml:creator>\n  </oml:study>")
    return "\n".join(out) + "\n</oml:study_list>\n"


def users_xml(store: Store, ids: list[int]) -> str:
    """`GET user/list/user_id/{csv}`."""
    rows = "".join(f"\n    <oml:user>\n    <oml:id>{i}</oml:id>\n    <oml:username>{escape(store.users[i])}"
                   "</oml:username>\n  </oml:user>" for i in sorted(set(ids)) if i in store.users)
    return f"<oml:users {NS}>{rows}\n  </oml:users>\n"


def estimation_procedures_xml() -> str:
    """`GET estimationprocedure/list` when no recording is available."""
    out = [f"<oml:estimationprocedures {NS}>"]
    for pid, ttid, name, typ, repeats, folds, pct, strat in ESTIMATION_PROCEDURES:
        opt = "".join(f"\n<oml:{k}>{v}</oml:{k}>" for k, v in (("repeats", repeats), ("folds", folds),
                      ("percentage", pct)) if v is not None)
        if strat is not None:
            opt += f"\n<oml:stratified_sampling>{str(strat).lower()}</oml:stratified_sampling>"
        out.append(f"<oml:estimationprocedure>\n<oml:id>{pid}</oml:id>\n<oml:ttid>{ttid}</oml:ttid>\n<oml:name>"
                   f"{name}</oml:name>\n<oml:type>{typ}</oml:type>{opt}\n</oml:estimationprocedure>")
    return "\n".join(out) + "\n</oml:estimationprocedures>\n"


def evaluation_measures_xml() -> str:
    """`GET evaluationmeasure/list`."""
    names = sorted({m[0] for ms in (vals.measures_for(1), vals.measures_for(2)) for m in ms})
    inner = "".join(f"\n    <oml:measure>{n}</oml:measure>" for n in names)
    return f"<oml:evaluation_measures {NS}>\n  <oml:measures>{inner}\n  </oml:measures>\n</oml:evaluation_measures>\n"


def task_types_xml() -> str:
    """`GET tasktype/list`."""
    rows = "".join(f"\n  <oml:task_type>\n    <oml:id>{i}</oml:id>\n    <oml:name>{n}</oml:name>\n    "
                   f"<oml:description>{escape(desc)}</oml:description>\n    <oml:creator>{escape(c)}</oml:creator>\n"
                   "  </oml:task_type>" for i, (n, desc, c, _d) in TASK_TYPES.items())
    return f"<oml:task_types {NS}>{rows}\n</oml:task_types>\n"
