"""Request dispatch of the OpenML v1 emulator: routes, auth rules, reads, tags and deletes (no HTTP here)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from adapters.openml_v1 import emulator_lists as lists
from adapters.openml_v1 import emulator_render as render
from adapters.openml_v1 import emulator_values as vals
from adapters.openml_v1.emulator_data import Store, TagEntry, stable_rng
from adapters.openml_v1.emulator_filters import FilterError

__all__ = ["ADMIN_USER", "ApiError", "ApiRequest", "dispatch", "splits_arff"]

ADMIN_USER = 1
_TAG_RE = re.compile(r"[a-zA-Z0-9._-]{1,64}")
_TAGGABLE = ("data", "task", "flow", "run", "setup")
# DELETE without a key: the endpoint's own "please provide API key" code.
_DELETE_NO_KEY = {"data": 350, "flow": 320, "run": 400, "task": 460}
_TYPES = ("data", "task", "tasktype", "flow", "run", "setup", "evaluation", "evaluationmeasure",
          "estimationprocedure", "study", "user", "file", "job", "votes", "downloads", "gamification", "badges")


class ApiError(Exception):
    """An `oml:error` answer: v1 `code`, optional additional information, HTTP status (412 by default)."""

    def __init__(self, code: int, additional: str | None = None, status: int = 412) -> None:
        super().__init__(code, additional)
        self.code = code
        self.additional = additional
        self.status = status


@dataclass(slots=True)
class ApiRequest:
    method: str
    segments: list[str]
    params: dict[str, str]  # query string and form fields, form winning
    user_id: int | None
    key_supplied: bool
    base: str


def _int(seg: str, code: int) -> int:
    if not seg.isdigit():
        raise ApiError(code)
    return int(seg)


def _raw_or(store: Store, key: str, render_fn: object) -> str | bytes:
    raw = store.raw.get(key)
    return raw if raw is not None else render_fn()  # type: ignore[operator]


def dispatch(store: Store, req: ApiRequest) -> str | bytes:
    """Answer one API call; raises `ApiError` for every `oml:error` outcome."""
    segs = req.segments
    if not segs or segs[0] not in _TYPES:
        raise ApiError(100)
    if req.method != "GET" and req.user_id is None:
        if req.method == "DELETE" and segs[0] in _DELETE_NO_KEY:
            raise ApiError(_DELETE_NO_KEY[segs[0]])
        raise ApiError(102)
    kind, rest = segs[0], segs[1:]
    try:
        if req.method == "DELETE":
            if len(rest) != 1:
                raise ApiError(100)
            return _delete(store, kind, rest[0], req.user_id or 0)
        if req.method == "POST" and kind in _TAGGABLE and rest in (["tag"], ["untag"]):
            return _tag(store, kind, rest[0] == "untag", req)
        return _read(store, kind, rest, req)
    except FilterError as exc:
        raise ApiError(exc.code, exc.additional) from exc


def _read(store: Store, kind: str, rest: list[str], req: ApiRequest) -> str | bytes:
    head = rest[0] if rest else ""
    if head == "list" and kind in ("data", "task", "flow", "run", "setup", "study"):
        fn = {"data": lists.list_data, "task": lists.list_tasks, "flow": lists.list_flows, "run": lists.list_runs,
              "setup": lists.list_setups, "study": lists.list_studies}[kind]
        return fn(store, rest[1:])
    if kind == "data":
        if len(rest) == 1:
            d = store.datasets.get(_int(head, 111))
            if d is None:
                raise ApiError(111)
            return _raw_or(store, f"data/{d.id}", lambda: render.data_description(store, d, req.base))
        if len(rest) == 2 and head in ("features", "qualities"):
            code = 271 if head == "features" else 361
            d = store.datasets.get(_int(rest[1], code))
            if d is None:
                raise ApiError(code)
            fn = render.data_features if head == "features" else render.data_qualities
            return _raw_or(store, f"data/{head}/{d.id}", lambda: fn(store, d))
    elif kind == "task" and len(rest) == 1:
        t = store.tasks.get(_int(head, 151))
        if t is None:
            raise ApiError(151)
        return _raw_or(store, f"task/{t.id}", lambda: render.task_xml(store, t, req.base))
    elif kind == "flow":
        if head == "exists":
            return _flow_exists(store, rest[1:], req)
        if len(rest) == 1:
            f = store.flows.get(_int(head, 181))
            if f is None:
                raise ApiError(181)
            return _raw_or(store, f"flow/{f.id}", lambda: render.flow_xml(store, f))
    elif kind == "run":
        if head == "trace" and len(rest) == 2:
            r = store.run(_int(rest[1], 571))
            if r is None:
                raise ApiError(571)
            rows = vals.run_trace(store, r)
            if rows is None:
                raise ApiError(572)
            return render.trace_xml(r.id, rows)
        if len(rest) == 1:
            r = store.run(_int(head, 236))
            if r is None:
                raise ApiError(236)
            return _raw_or(store, f"run/{r.id}", lambda: render.run_xml(store, r, req.base))
    elif kind == "setup" and len(rest) == 1:
        s = store.setups.get(_int(head, 281))
        if s is None:
            raise ApiError(281)
        return _raw_or(store, f"setup/{s.id}", lambda: render.setup_xml(store, s))
    elif kind == "evaluation":
        if head == "list":
            return lists.evaluation_list(store, rest[1:], with_setup=False)
        if rest[:2] == ["setup", "list"]:
            return lists.evaluation_list(store, rest[2:], with_setup=True)
    elif kind == "evaluationmeasure" and rest == ["list"]:
        return lists.evaluation_measures_xml()
    elif kind == "estimationprocedure" and rest == ["list"]:
        return _raw_or(store, "estimationprocedure/list", lists.estimation_procedures_xml)
    elif kind == "tasktype" and rest == ["list"]:
        return lists.task_types_xml()
    elif kind == "user" and rest[:2] == ["list", "user_id"] and len(rest) == 3:
        if not re.fullmatch(r"[0-9]+(,[0-9]+)*", rest[2]):
            raise ApiError(370)
        key = "user/list/user_id/" + rest[2]
        return _raw_or(store, key, lambda: lists.users_xml(store, [int(i) for i in rest[2].split(",")]))
    elif kind == "study" and len(rest) == 1:
        st = store.studies.get(int(head)) if head.isdigit() else next(
            (s for s in store.studies.values() if s.alias == head), None)
        if st is None:
            raise ApiError(601)
        return _raw_or(store, f"study/{st.id}", lambda: render.study_xml(st, store))
    raise ApiError(100)


def _flow_exists(store: Store, rest: list[str], req: ApiRequest) -> str:
    if req.method == "POST":
        name, version = req.params.get("name"), req.params.get("external_version")
    else:
        name, version = (rest[0] if rest else None), (rest[1] if len(rest) > 1 else None)
    if not name or not version:
        raise ApiError(330)
    found = next((f.id for f in sorted(store.flows.values(), key=lambda f: f.id)
                  if f.name == name and f.external_version == version), None)
    return render.flow_exists_xml(found)


def _tags_of(store: Store, kind: str, entity_id: int) -> list[TagEntry] | None:
    if kind == "run":
        return None if store.run(entity_id) is None else store.run_tags.setdefault(entity_id, [])
    table = {"data": store.datasets, "task": store.tasks, "flow": store.flows, "setup": store.setups}[kind]
    entity = table.get(entity_id)
    return None if entity is None else entity.tags  # type: ignore[attr-defined]


def _tag(store: Store, kind: str, untag: bool, req: ApiRequest) -> str:
    raw_id, tag = req.params.get(f"{kind}_id", ""), req.params.get("tag", "")
    if not raw_id or not tag:
        raise ApiError(471)
    if not _TAG_RE.fullmatch(tag):
        raise ApiError(477, f"tag={tag}", status=450)
    tags = _tags_of(store, kind, int(raw_id)) if raw_id.isdigit() else None
    if tags is None:
        raise ApiError(472)
    entity_id = int(raw_id)
    existing = next((t for t in tags if t.tag == tag), None)
    if untag:
        if existing is None:
            raise ApiError(475)
        if existing.uploader != req.user_id and req.user_id != ADMIN_USER:
            raise ApiError(476)
        tags.remove(existing)
    else:
        if existing is not None:
            raise ApiError(473, f"id={entity_id}; tag={tag}", status=450)
        tags.append(TagEntry(tag, req.user_id or 0))
    names = [t.tag for t in tags]
    raw_key = f"{kind}/{entity_id}"
    if raw_key in store.raw and kind in _RETAG_BEFORE:  # a recorded entity: its served bytes show the change too
        store.raw[raw_key] = _retag(store.raw[raw_key], names, _RETAG_BEFORE[kind])
    return render.tag_xml(kind, untag, entity_id, names)


# Where the template puts tags when an entity had none: before these elements (else before the root's end).
_RETAG_BEFORE = {"data": (b"<oml:visibility>", b"<oml:status>"), "task": (), "run": (b"<oml:input_data>",)}
_TAG_ELEMENT = re.compile(rb"[ \t]*<oml:tag>[^<]*</oml:tag>[ \t]*\n?")


def _retag(raw: bytes, tags: list[str], before: tuple[bytes, ...]) -> bytes:
    """Rewrite the top-level ``oml:tag`` elements of a recorded data/task/run body (none of them nest tags)."""
    lines = b"".join(b"  <oml:tag>" + html.escape(t).encode() + b"</oml:tag>\n" for t in tags)
    first = _TAG_ELEMENT.search(raw)
    stripped = _TAG_ELEMENT.sub(b"", raw)
    if first is not None:
        at = first.start()
    else:
        found = [stripped.find(marker) for marker in before if stripped.find(marker) >= 0]
        at = min(found) if found else stripped.rstrip().rfind(b"</oml:")
    return stripped[:at] + lines + stripped[at:]


def _delete(store: Store, kind: str, raw_id: str, user: int) -> str:
    admin = user == ADMIN_USER
    codes = {"data": 352, "task": 452, "flow": 322, "run": 392, "setup": 402, "study": 592}
    if kind not in codes:
        raise ApiError(100)
    eid = int(raw_id) if raw_id.isdigit() else -1
    if kind == "data":
        d = store.datasets.get(eid)
        if d is None:
            raise ApiError(352)
        if d.uploader != user and not admin:
            raise ApiError(353)
        if any(t.did == eid for t in store.tasks.values()):
            raise ApiError(354)
        del store.datasets[eid]
    elif kind == "task":
        t = store.tasks.get(eid)
        if t is None:
            raise ApiError(452)
        if t.uploader != user and not admin:
            raise ApiError(453)
        if store.live_runs_of(store.runs_by_task, eid):
            raise ApiError(454)
        del store.tasks[eid]
    elif kind == "flow":
        f = store.flows.get(eid)
        if f is None:
            raise ApiError(322)
        if f.uploader != user and not admin:
            raise ApiError(323)
        runs = store.live_runs_of(store.runs_by_flow, eid)
        if runs:
            raise ApiError(324, "{" + ", ".join(str(r) for r in runs[:10]) + "} ()")
        parents = [p for p in store.parents.get(eid, []) if p in store.flows]
        if parents:
            raise ApiError(328, "{" + ", ".join(str(p) for p in parents) + "}")
        del store.flows[eid]
    elif kind == "run":
        r = store.run(eid)
        if r is None:
            raise ApiError(392)
        if r.uploader != user and not admin:
            raise ApiError(393)
        store.delete_run(eid)
    elif kind == "setup":
        if eid not in store.setups:
            raise ApiError(402)
        if store.live_runs_of(store.runs_by_setup, eid):
            raise ApiError(404)
        del store.setups[eid]
    else:
        st = store.studies.get(eid)
        if st is None:
            raise ApiError(592)
        if st.creator != user and not admin:
            raise ApiError(594)
        if st.main_entity_type != "run" and st.status != "in_preparation":
            raise ApiError(595)
        del store.studies[eid]
    store.raw.pop(f"{kind}/{eid}", None)
    return render.delete_xml(kind, eid)


def splits_arff(store: Store, task_id: int) -> str | bytes | None:
    """The `api_splits` ARFF of a task (recorded one for task 631), None for an unknown task."""
    if f"splits/{task_id}" in store.raw:
        return store.raw[f"splits/{task_id}"]
    t = store.tasks.get(task_id)
    d = store.datasets.get(t.did) if t else None
    if t is None or d is None:
        return None
    p = vals.procedure(t.proc_id)
    repeats, folds = min(p[4] or 1, 10), p[5] or 1
    lines = [f"@RELATION Task_{task_id}_splits", "", "@ATTRIBUTE type {TRAIN,TEST}", "@ATTRIBUTE rowid INTEGER",
             "@ATTRIBUTE repeat INTEGER", "@ATTRIBUTE fold INTEGER", "", "@DATA"]
    for rep in range(repeats):
        order = list(range(d.n_instances))
        stable_rng(store.seed, "splits", task_id, rep).shuffle(order)
        for fold in range(folds):
            test = set(order[fold::folds]) if folds > 1 else set(order[: d.n_instances * (p[6] or 33) // 100])
            lines += [f"{'TEST' if i in test else 'TRAIN'},{i},{rep},{fold}" for i in range(d.n_instances)]
    return "\n".join(lines) + "\n"
