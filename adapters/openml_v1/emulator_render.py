"""XML rendering of single OpenML v1 entities, errors and write responses (pure string building)."""

from __future__ import annotations

import html
from xml.sax.saxutils import escape

from adapters.openml_v1 import emulator_values as vals
from adapters.openml_v1.emulator_catalog import TASK_TYPES
from adapters.openml_v1.emulator_data import DatasetRec, FlowRec, RunRec, SetupRec, Store, StudyRec, TaskRec, fmt_time

__all__ = [
    "ERROR_MESSAGES",
    "NS",
    "data_description",
    "data_features",
    "data_qualities",
    "delete_xml",
    "error_xml",
    "flow_exists_xml",
    "flow_xml",
    "run_xml",
    "setup_xml",
    "study_xml",
    "tag_xml",
    "task_xml",
    "trace_xml",
]

NS = 'xmlns:oml="http://openml.org/openml"'

ERROR_MESSAGES: dict[int, str] = {
    100: "Function not valid", 102: "No authentication (Please provide API key for all requests other than HTTP GET)",
    103: "Authentication failed", 104: "This is a read-only account, it does not have permission for write "
    "operations. ", 107: "Database connection error. Usually due to high server load. Please wait for N seconds "
    "and try again. ", 110: "Please provide data_id", 111: "Unknown dataset", 151: "Unknown task",
    180: "Please provide flow_id", 181: "Unknown flow", 235: "Please provide run_id", 236: "Run not found",
    271: "Unknown dataset", 281: "Unknown setup", 320: "Please provide API key", 322: "flow does not exist",
    323: "flow is not owned by you", 324: "flow is in use by other content (runs). Can not be deleted",
    328: "flow is in use by other content (it is a subflow). Can not be deleted",
    330: "Mandatory fields not present.", 350: "Please provide API key", 352: "Dataset does not exist",
    353: "Dataset is not owned by you", 354: "Dataset is in use by other content. Can not be deleted",
    361: "Unknown dataset", 370: "Illegal filter specified", 371: "Input not safe", 372: "No results",
    373: "Can not specify an offset without a limit", 392: "Run does not exist", 393: "Run is not owned by you",
    400: "Please provide API key", 401: "Authentication failed", 402: "Setup does not exist",
    404: "Setup is in use by other content (runs, schedules, etc). Can not be deleted",
    452: "Task does not exist", 453: "Task is not owned by you",
    454: "Task is executed in some runs. Delete these first", 460: "Please provide API key",
    471: "Please give entity_id {data_id, flow_id, run_id} and tag.", 472: "Entity not found.",
    473: "Entity already tagged by this tag. ", 475: "Tag not found.", 476: "Tag is not owned by you",
    477: "Tag is not valid. Tags may contain only [a-zA-Z0-9._-] and at most 64 characters. ",
    480: "Illegal filter specified", 481: "Filter input not according to constraints", 482: "No results",
    483: "Can not specify an offset without a limit", 500: "No results", 501: "Illegal filter operation",
    502: "Illegal filter value", 503: "Can not specify an offset without a limit",
    510: "Please provide at least task, flow or setup, uploader or run, to filter results. ",
    511: "Input not safe", 512: "No results", 513: "Too many results", 514: "Illegal filter specified",
    515: "Can not specify offset without limit", 516: "Requested result limit too high. ",
    517: "Problem with the study filter. The study should exists, be run-based and non-legacy",
    540: "Please provide at least task, flow or setup, uploader or run, to filter results. ",
    541: "Input not safe", 542: "No results", 543: "Too many results", 544: "Illegal filter specified",
    545: "Can not specify offset without limit", 546: "Requested result limit too high. ",
    547: 'Per fold can only be set to value "true" or "false". ',
    549: 'If set, sort should be set to either "asc" or "desc"', 571: "Run not found.",
    572: "No successful trace associated with this run.", 591: "Authentication failed",
    592: "Study does not exist", 594: "Study not owned by this user",
    595: "Can only delete studies based on runs or studies in preparation", 596: "Illegal filter. ",
    597: "Illegal filter input. ", 598: "Can only set an offset if limit is also specified. ",
    599: "No studies according to the specified criteria. ", 601: "Study does not exist. ",
    670: "Please specify at least one filter. ", 671: "Illegal filter. ", 672: "Illegal filter input. ",
    673: "Result set too big. Please use one of the filters or the limit option. ",
    674: "No results, please check the filter. ", 675: "Can not specify offset without limit",
    676: "Requested result limit too high. ",
}


def _e(value: object) -> str:
    return escape(str(value))


def error_xml(code: int, message: str | None = None, additional: str | None = None) -> str:
    """The `oml:error` body; the message is htmlentities()-ed and then escaped, as the PHP server does."""
    msg = _e(html.escape(message if message is not None else ERROR_MESSAGES.get(code, "Error")))
    extra = "" if not additional else f"\n    <oml:additional_information>{_e(html.escape(additional))}" \
                                      "</oml:additional_information>"
    return (f"<oml:error {NS}>\n\t<oml:code>{code}</oml:code>\n\t<oml:message>{msg}</oml:message>{extra}\n"
            "</oml:error>\n")


def _el(name: str, value: object | None, indent: str = "  ") -> str:
    return "" if value is None else f"{indent}<oml:{name}>{_e(value)}</oml:{name}>"


def data_description(store: Store, d: DatasetRec, base: str) -> str:
    """`GET data/{id}` for a generated dataset (field order of data-get.tpl.php)."""
    det = vals.dataset_detail(store, d)
    ext = d.format.lower()
    parts = [f"<oml:data_set_description {NS}>", _el("id", d.id), _el("name", d.name), _el("version", d.version),
             _el("description", det["description"]), _el("description_version", det["description_version"]),
             _el("format", d.format)]
    line = "".join(f"<oml:creator>{_e(c)}</oml:creator>" for c in det["creators"])
    line += f"     <oml:collection_date>{_e(det['collection_date'])}</oml:collection_date>"
    line += f"  <oml:upload_date>{fmt_time(d.upload_ts, 'T')}</oml:upload_date>"
    parts.append("  " + line)
    line = f"<oml:language>{det['language']}</oml:language>  <oml:licence>{_e(det['licence'])}</oml:licence>"
    url = f"{base}/data/v1/download/{d.file_id}/{_e(d.name)}.{ext}"
    line += f"  <oml:url>{url}</oml:url>"
    parts.append("  " + line)
    line = ""
    if d.format != "Sparse_ARFF":  # the template's case-sensitive check (OpenML #1189)
        parquet = f"{base}/datasets/{d.id // 10000:04d}/{d.id:04d}/dataset_{d.id}.pq"
        line += f"<oml:parquet_url>{parquet}</oml:parquet_url>"
    line += f"  <oml:file_id>{d.file_id}</oml:file_id>"
    line += f"  <oml:default_target_attribute>{_e(d.target)}</oml:default_target_attribute>"
    line += f"      <oml:version_label>{d.version}</oml:version_label>"
    if det["citation"]:
        line += f"  <oml:citation>{_e(det['citation'])}</oml:citation>"
    line += "  " + "".join(f"<oml:tag>{_e(t.tag)}</oml:tag>" for t in d.tags)
    line += "  <oml:visibility>public</oml:visibility>"
    if det["original_data_url"]:
        line += f"  <oml:original_data_url>{_e(det['original_data_url'])}</oml:original_data_url>"
    line += f"  <oml:status>{d.status}</oml:status>"
    parts.append("  " + line)
    parts.append(f"  <oml:processing_date>{fmt_time(d.upload_ts + 86400)}</oml:processing_date>"
                 f"      <oml:md5_checksum>{det['md5']}</oml:md5_checksum>")
    parts.append("</oml:data_set_description>\n")
    return "\n".join(p for p in parts if p)


def data_features(store: Store, d: DatasetRec) -> str:
    """`GET data/features/{id}`; nominal values keep their leading whitespace."""
    out = [f"<oml:data_features {NS}>"]
    for f in vals.dataset_features(store, d):
        nominal = "".join(f"\n          <oml:nominal_value>{_e(v)}</oml:nominal_value>" for v in f.nominal_values)
        out.append(f"    <oml:feature>\n    <oml:index>{f.index}</oml:index>\n    <oml:name>{_e(f.name)}</oml:name>\n"
                   f"    <oml:data_type>{f.data_type}</oml:data_type>{nominal}\n"
                   f"        <oml:is_target>{str(f.is_target).lower()}</oml:is_target>\n"
                   "    <oml:is_ignore>false</oml:is_ignore>\n"
                   "    <oml:is_row_identifier>false</oml:is_row_identifier>\n"
                   f"    <oml:number_of_missing_values>{f.n_missing}</oml:number_of_missing_values>\n  </oml:feature>")
    out.append("</oml:data_features>\n")
    return "\n".join(out)


def data_qualities(store: Store, d: DatasetRec) -> str:
    """`GET data/qualities/{id}`; a null value is an empty `<oml:value />`."""
    out = [f"<oml:data_qualities {NS}>"]
    for name, value in vals.dataset_qualities(store, d):
        v = "<oml:value />" if value is None else f"<oml:value>{value}</oml:value>"
        out.append(f"        \n  <oml:quality  >\n    <oml:name>{name}</oml:name>\n    {v}\n  </oml:quality>")
    out.append("</oml:data_qualities>\n")
    return "\n".join(out)


def task_xml(store: Store, t: TaskRec, base: str) -> str:
    """`GET task/{id}` in the current shape (with `task_name`)."""
    d = store.datasets.get(t.did)
    type_name = TASK_TYPES[t.type_id][0]
    p = vals.procedure(t.proc_id)
    target = f"\n<oml:target_feature>{_e(t.target)}</oml:target_feature>" if t.target else ""
    params = [("number_repeats", p[4]), ("number_folds", p[5]), ("percentage", p[6])]
    if p[7] is not None:
        params.append(("stratified_sampling", str(p[7]).lower()))
    ptxt = "".join(f'\n<oml:parameter name="{n}">{"" if v is None else v}</oml:parameter>' for n, v in params)
    inputs = [("source_data", f"<oml:data_set>\n<oml:data_set_id>{t.did}</oml:data_set_id>{target}\n</oml:data_set>"),
              ("estimation_procedure", f"<oml:estimation_procedure>\n<oml:id>{p[0]}</oml:id>\n<oml:type>{p[3]}"
               f"</oml:type>\n<oml:data_splits_url>{base}/api_splits/get/{t.id}/Task_{t.id}_splits.arff"
               f"</oml:data_splits_url>{ptxt}\n</oml:estimation_procedure>")]
    if t.type_id in (1, 3):
        inputs.append(("cost_matrix", "<oml:cost_matrix></oml:cost_matrix>"))
    inputs.append(("evaluation_measures", "<oml:evaluation_measures>\n<oml:evaluation_measure>"
                   f"{t.measure or ''}</oml:evaluation_measure>\n</oml:evaluation_measures>"))
    feats = ['<oml:feature name="repeat" type="integer"/>', '<oml:feature name="fold" type="integer"/>',
             '<oml:feature name="row_id" type="integer"/>']
    if t.type_id in (1, 3):
        feats.append('<oml:feature name="confidence.classname" type="numeric"/>')
    feats.append('<oml:feature name="cluster" type="integer"/>' if t.type_id == 5
                 else '<oml:feature name="prediction" type="string"/>')
    out = [f"<oml:task {NS}>", f"\t<oml:task_id>{t.id}</oml:task_id>",
           f"  <oml:task_name>Task {t.id}: {_e(d.name if d else '')} ({type_name})</oml:task_name>",
           f"\t<oml:task_type_id>{t.type_id}</oml:task_type_id>", f"\t<oml:task_type>{type_name}</oml:task_type>"]
    out += [f'\t      <oml:input name="{n}">\n    {body}  </oml:input>' for n, body in inputs]
    out.append('\t      <oml:output name="predictions">\n    <oml:predictions>\n<oml:format>ARFF</oml:format>\n'
               + "\n".join(feats) + "\n</oml:predictions>  </oml:output>")
    out.append("\t" + "\n".join(f"    <oml:tag>{_e(tag.tag)}</oml:tag>" for tag in t.tags) + "\n  </oml:task>\n")
    return "\n".join(out)


def flow_xml(store: Store, f: FlowRec) -> str:
    """`GET flow/{id}`; nested component flows declare the namespace again, as the real server does.

    The template starts every flow, nested ones too, with a blank line (corpus flow_5270).
    """
    det = vals.flow_detail(f)
    out = ["", f"<oml:flow {NS}>", f"  <oml:id>{f.id}</oml:id>",
           f"<oml:uploader>{f.uploader}</oml:uploader>", f"<oml:name>{_e(f.name)}</oml:name>"]
    if det["class_name"]:
        out.append(f"<oml:class_name>{_e(det['class_name'])}</oml:class_name>")
    out += [f"<oml:version>{f.version}</oml:version>",
            f"<oml:external_version>{_e(f.external_version)}</oml:external_version>",
            f"<oml:description>{_e(det['description'])}</oml:description>",
            f"<oml:upload_date>{fmt_time(f.upload_ts, 'T')}</oml:upload_date>",
            f"<oml:language>{det['language']}</oml:language>",
            f"<oml:dependencies>{_e(det['dependencies'])}</oml:dependencies>"]
    for name, dtype, default, desc in vals.flow_parameters(store, f):
        out.append(f"<oml:parameter>\n\t<oml:name>{_e(name)}</oml:name>\n\t<oml:data_type>{_e(dtype)}</oml:data_type>"
                   f"\n\t<oml:default_value>{_e(default)}</oml:default_value>\n\t<oml:description>{_e(desc)}"
                   "</oml:description>\n</oml:parameter>")
    for ident, cid in f.components:
        sub = store.flows.get(cid)
        body = flow_xml(store, sub) if sub else ""
        out.append(f"<oml:component>\n  <oml:identifier>{_e(ident)}</oml:identifier>\n\t{body}</oml:component>")
    out += [f"<oml:tag>{_e(t.tag)}</oml:tag>" for t in f.tags]
    out.append("</oml:flow>\n")
    return "\n".join(out)


def run_xml(store: Store, r: RunRec, base: str) -> str:
    """`GET run/{id}` with aggregate and per-fold (`repeat`/`fold` attributes) evaluations."""
    task = store.tasks.get(r.task)
    flow = store.flows.get(r.flow)
    d = store.datasets.get(task.did) if task else None
    setup = store.setups.get(r.setup)
    type_id = task.type_id if task else 1
    out = [f"<oml:run {NS}>", f"  <oml:run_id>{r.id}</oml:run_id>", f"  <oml:uploader>{r.uploader}</oml:uploader>",
           f"  <oml:uploader_name>{_e(store.users.get(r.uploader, ''))}</oml:uploader_name>",
           f"  <oml:task_id>{r.task}</oml:task_id>", f"  <oml:task_type>{TASK_TYPES[type_id][0]}</oml:task_type>"]
    if task and task.measure:
        out.append(f"  <oml:task_evaluation_measure>{task.measure}</oml:task_evaluation_measure>")
    out += [f"    <oml:flow_id>{r.flow}</oml:flow_id>",
            f"  <oml:flow_name>{_e(flow.full_name if flow else '')}</oml:flow_name>",
            f"  <oml:setup_id>{r.setup}</oml:setup_id>"]
    error = "Error while evaluating: could not read predictions file. " if r.error else ""
    out.append(f"   <oml:error>{error}</oml:error>       <oml:setup_string></oml:setup_string>")
    for p in vals.setup_parameters(store, setup) if setup else []:
        out.append(f"      <oml:parameter_setting>\n      <oml:name>{_e(p.name)}</oml:name>\n      <oml:value>"
                   f"{_e(p.value)}</oml:value>\n      <oml:component>{p.flow_id}</oml:component>\n"
                   "    </oml:parameter_setting>")
    out += [f"    <oml:tag>{_e(t.tag)}</oml:tag>" for t in store.run_tags.get(r.id, [])]
    if d:
        out.append(f"          <oml:input_data>\n          <oml:dataset>\n        <oml:did>{d.id}</oml:did>\n"
                   f"        <oml:name>{_e(d.name)}</oml:name>\n        <oml:url>{base}/data/download/{d.file_id}/"
                   f"{_e(d.name)}.arff</oml:url>\n      </oml:dataset>\n        </oml:input_data>")
    out.append("        <oml:output_data>")
    for offset, name, ext in ((0, "description", "xml"), (1, "predictions", "arff")):
        fid = 2_000_000 + r.id * 2 + offset
        out.append("                <oml:file>\n        <oml:did>-1</oml:did> <!-- Deprecated field, will be "
                   f"removed during next upgrade. -->\n        <oml:file_id>{fid}</oml:file_id>\n        <oml:name>"
                   f"{name}</oml:name>\n        <oml:url>{base}/data/download/{fid}/{name}.{ext}</oml:url>\n"
                   "      </oml:file>")
    folds: list[str] = []
    for name, _per_fold, _per_class in vals.measures_for(type_id):
        m = vals.measure_value(store, r, name)
        if m is None:
            continue
        arr = f"          <oml:array_data>{m.array_data}</oml:array_data>" if m.array_data else ""
        out.append(f"              <oml:evaluation>\n          <oml:name>{name}</oml:name>\n          "
                   f"<oml:value>{m.value}</oml:value>{arr}        </oml:evaluation>")
        for rep, row in enumerate(m.folds):
            for fold, v in enumerate(row):
                folds.append(f'              <oml:evaluation repeat="{rep}" fold="{fold}">\n          <oml:name>'
                             f"{name}</oml:name>\n          <oml:value>{v}</oml:value>        </oml:evaluation>")
    out += folds
    out.append("            </oml:output_data>\n  </oml:run>\n")
    return "\n".join(out)


def trace_xml(run_id: int, rows: list[tuple[int, int, int, str, str, bool]]) -> str:
    """`GET run/trace/{id}`."""
    out = [f"<oml:trace {NS}>", f"    <oml:run_id>{run_id}</oml:run_id>"]
    for rep, fold, it, setup, ev, sel in rows:
        out.append(f"    <oml:trace_iteration>\n        <oml:repeat>{rep}</oml:repeat>\n        <oml:fold>{fold}"
                   f"</oml:fold>\n        <oml:iteration>{it}</oml:iteration>\n        <oml:setup_string>"
                   f"{_e(setup)}</oml:setup_string>\n        <oml:evaluation>{ev}</oml:evaluation>\n"
                   f"        <oml:selected>{str(sel).lower()}</oml:selected>\n    </oml:trace_iteration>")
    return "\n".join(out) + "\n</oml:trace>"


def setup_params_xml(store: Store, s: SetupRec, with_name: bool, indent: str) -> str:
    """The `oml:parameter` elements of a setup (setup/list rows lack `oml:name`)."""
    out = []
    for p in vals.setup_parameters(store, s):
        name = f"{indent}\t<oml:name>{_e(p.name)}</oml:name>\n" if with_name else ""
        out.append(f"{indent}<oml:parameter>\n{indent}\t<oml:id>{p.input_id}</oml:id>\n{indent}\t<oml:flow_id>"
                   f"{p.flow_id}</oml:flow_id>\n{indent}\t<oml:flow_name>{_e(p.flow_name)}</oml:flow_name>\n"
                   f"{indent}\t<oml:full_name>{_e(p.full_name)}</oml:full_name>\n{indent}\t<oml:parameter_name>"
                   f"{_e(p.name)}</oml:parameter_name>\n{name}{indent}\t<oml:data_type>{_e(p.data_type)}"
                   f"</oml:data_type>\n{indent}\t<oml:default_value>{_e(p.default_value)}</oml:default_value>\n"
                   f"{indent}\t<oml:value>{_e(p.value)}</oml:value>\n{indent}</oml:parameter>")
    return "\n".join(out)


def setup_xml(store: Store, s: SetupRec) -> str:
    """`GET setup/{id}` (root `oml:setup_parameters`)."""
    params = setup_params_xml(store, s, True, "\t")
    return (f"<oml:setup_parameters {NS}>\n  <oml:setup_id>{s.id}</oml:setup_id>\n  <oml:flow_id>{s.flow_id}"
            f"</oml:flow_id>\n{params + chr(10) if params else ''}</oml:setup_parameters>\n")


def study_xml(st: StudyRec, store: Store) -> str:
    """`GET study/{id}` for a generated study (task suites carry only data and tasks)."""
    alias = f"\n  <oml:alias>{_e(st.alias)}</oml:alias>" if st.alias else ""
    data_ids = sorted({store.tasks[t].did for t in st.task_ids if t in store.tasks})

    def wrap(name: str, item: str, ids: list[int] | tuple[int, ...]) -> str:
        inner = "".join(f"\n        <oml:{item}>{i}</oml:{item}>" for i in ids)
        return f"    \n    <oml:{name}>{inner}\n      </oml:{name}>\n"

    body = wrap("data", "data_id", data_ids) + wrap("tasks", "task_id", st.task_ids)
    if st.main_entity_type == "run":
        runs = [store.run(r) for r in st.run_ids]
        live = [r for r in runs if r is not None]
        body += wrap("flows", "flow_id", sorted({r.flow for r in live}))
        body += wrap("setups", "setup_id", sorted({r.setup for r in live}))
        body += wrap("runs", "run_id", [r.id for r in live])
    return (f"<oml:study {NS}>\n  <oml:id>{st.id}</oml:id>{alias}\n    <oml:main_entity_type>{st.main_entity_type}"
            f"</oml:main_entity_type>\n    <oml:name>{_e(st.name)}</oml:name>\n  <oml:description>"
            f"{_e(st.description)}</oml:description>\n  <oml:visibility>public</oml:visibility>\n  <oml:status>"
            f"{st.status}</oml:status>\n  <oml:creation_date>{fmt_time(st.creation_ts, 'T')}</oml:creation_date>\n"
            f"  <oml:creator>{st.creator}</oml:creator>\n{body}</oml:study>\n")


def tag_xml(entity: str, untag: bool, entity_id: int, tags: list[str]) -> str:
    """`POST {entity}/tag|untag` response: the id and every tag the entity still has."""
    root = f"{entity}_{'untag' if untag else 'tag'}"
    inner = "".join(f"\n  <oml:tag>{_e(t)}</oml:tag>" for t in tags)
    return f"<oml:{root} {NS}>\n  <oml:id>{entity_id}</oml:id>{inner}\n</oml:{root}>\n"


def delete_xml(entity: str, entity_id: int) -> str:
    """`DELETE {entity}/{id}` success response."""
    return f"<oml:{entity}_delete {NS}>\n  <oml:id>{entity_id}</oml:id>\n</oml:{entity}_delete>\n"


def flow_exists_xml(flow_id: int | None) -> str:
    """`flow/exists` response: `exists` true/false and the id, -1 when absent."""
    exists = "true" if flow_id is not None else "false"
    return (f"<oml:flow_exists {NS}>\n  <oml:exists>{exists}</oml:exists>\n  <oml:id>"
            f"{flow_id if flow_id is not None else -1}</oml:id>\n</oml:flow_exists>\n")
