"""Request dispatch of the OpenML v2 emulator: the routes of openml-api.md §5.1 over v1's seeded store.

Pure (no HTTP): ``dispatch(api, request)`` returns a ``Reply`` or raises ``Problem``. Like the server,
only routes that read the caller (datasets, lists, tags) look at ``api_key``: an unknown key there is a
401 problem with code ``"103"``, a missing one on a tag route too; elsewhere the key is ignored. Unknown
paths and methods get FastAPI's plain ``{"detail": "Not Found"}`` / ``"Method Not Allowed"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from adapters.openml_v1 import emulator_values as vals
from adapters.openml_v1.emulator_data import DatasetRec, Store, TagEntry, TaskRec
from adapters.openml_v2 import emulator_corpus as rec
from adapters.openml_v2 import emulator_render as render
from adapters.openml_v2.emulator_checks import TAG, Checks, Problem
from adapters.openml_v2.emulator_lists import list_datasets, list_tasks
from adapters.openml_v2.emulator_render import Roots

__all__ = ["ADMIN_USER", "NO_BODY", "Api", "Reply", "Request", "dispatch"]

ADMIN_USER = 1
NO_BODY: Any = object()


@dataclass(slots=True)
class Api:
    """What a route reads: the store, the api keys and the routing config."""

    store: Store
    api_keys: Mapping[str, int]
    roots: Roots


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    body: Any = NO_BODY  # decoded JSON, or NO_BODY


@dataclass(slots=True)
class Reply:
    status: int
    payload: Any
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Api, Request, dict[str, str]], Reply]
_ROUTES: list[tuple[frozenset[str], re.Pattern[str], Handler]] = []


def route(methods: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _ROUTES.append((frozenset(methods.split("|")), re.compile(f"^{pattern}$"), fn))
        return fn

    return register


def dispatch(api: Api, req: Request) -> Reply:
    """Answer one request; raises Problem for every problem+json outcome."""
    path_matched = False
    for methods, pattern, handler in _ROUTES:
        match = pattern.match(req.path)
        if match is None:
            continue
        if req.method not in methods:
            path_matched = True
            continue
        return handler(api, req, {k: unquote(v) for k, v in match.groupdict().items()})
    if path_matched:
        return Reply(405, {"detail": "Method Not Allowed"})
    return Reply(404, {"detail": "Not Found"})


def _ok(payload: Any) -> Reply:
    return Reply(200, payload)


def _caller(api: Api, req: Request, *, required: bool) -> int | None:
    """The user of ``api_key``; 401 (code 103) for an unknown key, or for none where one is required."""
    key = req.query.get("api_key")
    if key:
        user = api.api_keys.get(key)
        if user is None:
            raise Problem("authentication-failed", "Invalid API key provided.", 103)
        return user
    if required:
        raise Problem("authentication-required", "No API key provided.", 103)
    return None


def _path_id(raw: str, name: str, *, positive: bool = True) -> int:
    checks = Checks()
    value = checks.integer(("path", name), raw, gt=0 if positive else None)
    checks.done()
    assert value is not None  # done() raised otherwise
    return value


def _body(req: Request) -> dict[str, Any]:
    if req.body is NO_BODY or req.body is None:
        return {}
    if not isinstance(req.body, dict):
        checks = Checks()
        checks.fail("dict_type", ("body",), "Input should be a valid dictionary", req.body)
        checks.done()
    return dict(req.body)


# ---------------------------------------------------------------------------------------------- datasets


def _dataset(api: Api, did: int, code: int = 111) -> DatasetRec:
    d = api.store.datasets.get(did)
    if d is None:
        raise Problem("dataset-not-found", f"No dataset with id {did} found.", code)
    return d


@route("GET|POST", "/datasets/list")
def _datasets_list(api: Api, req: Request, _: dict[str, str]) -> Reply:
    _caller(api, req, required=False)
    return _ok(list_datasets(api.store, _body(req)))


@route("GET", "/datasets/features/(?P<id>[^/]+)")
def _features(api: Api, req: Request, p: dict[str, str]) -> Reply:
    did = _path_id(p["id"], "dataset_id")
    _caller(api, req, required=False)
    d = _dataset(api, did)
    raw = api.store.raw.get(f"data/features/{did}")
    return _ok(rec.recorded_features(raw) if raw else render.features_json(api.store, d))


@route("GET", "/datasets/qualities/list")
def _quality_names(api: Api, req: Request, _: dict[str, str]) -> Reply:
    return _ok(render.quality_names_json())


@route("GET", "/datasets/qualities/(?P<id>[^/]+)")
def _qualities(api: Api, req: Request, p: dict[str, str]) -> Reply:
    did = _path_id(p["id"], "dataset_id")
    _caller(api, req, required=False)
    d = _dataset(api, did, 361)
    raw = api.store.raw.get(f"data/qualities/{did}")
    return _ok(rec.recorded_qualities(raw) if raw else render.qualities_json(api.store, d))


@route("GET", "/datasets/(?P<id>[^/]+)")
def _dataset_get(api: Api, req: Request, p: dict[str, str]) -> Reply:
    did = _path_id(p["id"], "dataset_id")
    _caller(api, req, required=False)
    d = _dataset(api, did)
    raw = api.store.raw.get(f"data/{did}")
    doc = rec.recorded_dataset(raw, api.roots) if raw else render.dataset_json(api.store, d, api.roots)
    if doc["file_id"] is None:  # v1 serves these; v2 refuses (corpus data_106)
        raise Problem("dataset-no-data-file", f"No data file found for dataset {did}.", 113)
    return _ok(doc)


def _tag_args(req: Request, id_field: str) -> tuple[int, str]:
    body = _body(req)
    checks = Checks()
    eid = checks.integer(("body", id_field), body.get(id_field), gt=0) if id_field in body else None
    tag = checks.text(("body", "tag"), body.get("tag"), TAG, 64) if "tag" in body else None
    for name in (id_field, "tag"):
        if name not in body:
            checks.fail("missing", ("body", name), "Field required", None)
    checks.done()
    assert eid is not None and tag is not None
    return eid, tag


def _tags_of(api: Api, kind: str, eid: int) -> list[TagEntry] | None:
    table: Mapping[int, Any] = {"data": api.store.datasets, "task": api.store.tasks, "setup": api.store.setups}[kind]
    entity = table.get(eid)
    return None if entity is None else entity.tags


def _add_tag(api: Api, req: Request, kind: str, id_field: str, not_found: str) -> tuple[int, list[str]]:
    user = _caller(api, req, required=True)
    eid, tag = _tag_args(req, id_field)
    tags = _tags_of(api, kind, eid)
    label = {"data": "Dataset", "task": "Task", "setup": "Setup"}[kind]
    if tags is None:
        raise Problem(not_found, f"{label} {eid} not found.", 472)
    if any(t.tag == tag for t in tags):
        raise Problem("tag-already-exists", f"{label} {eid} already tagged with {tag!r}.", 473)
    tags.append(TagEntry(tag, user or 0))
    return eid, [t.tag for t in tags]


def _remove_tag(api: Api, user: int, kind: str, eid: int, tag: str, not_found: str) -> list[str]:
    tags = _tags_of(api, kind, eid)
    label = {"data": "dataset", "setup": "setup"}[kind]
    if tags is None:
        raise Problem(not_found, f"Cannot remove {tag!r}, because {label} {eid} is not found.", 472)
    found = next((t for t in tags if t.tag.casefold() == tag.casefold()), None)
    if found is None:
        raise Problem("tag-not-found", f"Tag {tag!r} for {label} {eid} not found.", 475)
    if found.uploader != user and user != ADMIN_USER:
        raise Problem("tag-not-owned", f"You are not allowed to remove {tag!r} from {label} {eid}.", 476)
    tags.remove(found)
    return [t.tag for t in tags]


@route("POST", "/datasets/tag")
def _dataset_tag(api: Api, req: Request, _: dict[str, str]) -> Reply:
    eid, tags = _add_tag(api, req, "data", "data_id", "dataset-not-found")
    return _ok({"data_tag": {"id": str(eid), "tag": tags}})


@route("POST", "/datasets/untag")
def _dataset_untag_php(api: Api, req: Request, _: dict[str, str]) -> Reply:
    user = _caller(api, req, required=True) or 0
    eid, tag = _tag_args(req, "data_id")
    left = _remove_tag(api, user, "data", eid, tag, "dataset-not-found")
    info: dict[str, Any] = {"id": str(eid)}
    if len(left) == 1:  # PHP-like: a single tag is a string, none is no key at all
        info["tag"] = left[0]
    elif left:
        info["tag"] = left
    return _ok({"data_untag": info})


@route("DELETE", "/datasets/(?P<id>[^/]+)/tag")
def _dataset_tag_delete(api: Api, req: Request, p: dict[str, str]) -> Reply:
    did = _path_id(p["id"], "identifier")
    user = _caller(api, req, required=True) or 0
    checks = Checks()
    tag = checks.text(("query", "tag"), req.query.get("tag"), TAG, 64) if "tag" in req.query else None
    if "tag" not in req.query:
        checks.fail("missing", ("query", "tag"), "Field required", None)
    checks.done()
    _remove_tag(api, user, "data", did, tag or "", "dataset-not-found")
    return Reply(204, None)


# ---------------------------------------------------------------------------------------------- tasks, flows


@route("GET|POST", "/tasks/list")
def _tasks_list(api: Api, req: Request, _: dict[str, str]) -> Reply:
    return _ok(list_tasks(api.store, _body(req)))


@route("POST", "/tasks/tag")
def _task_tag(api: Api, req: Request, _: dict[str, str]) -> Reply:
    eid, tags = _add_tag(api, req, "task", "task_id", "task-not-found")
    return _ok({"task_tag": {"id": str(eid), "tag": tags}})


@route("GET", "/tasks/(?P<id>[^/]+)")
def _task(api: Api, req: Request, p: dict[str, str]) -> Reply:
    tid = _path_id(p["id"], "task_id", positive=False)
    t: TaskRec | None = api.store.tasks.get(tid)
    if t is None:
        raise Problem("task-not-found", f"Task {tid} not found.")
    raw = api.store.raw.get(f"task/{tid}")
    return _ok(rec.recorded_task(api.store, raw, api.roots) if raw else render.task_json(api.store, t, api.roots))


def _flow_doc(api: Api, fid: int) -> dict[str, Any] | None:
    f = api.store.flows.get(fid)
    if f is None:
        return None
    raw = api.store.raw.get(f"flow/{fid}")
    if raw:
        return rec.recorded_flow(api.store, raw)
    return render.flow_json(api.store, f, lambda cid: _flow_doc(api, cid) if f"flow/{cid}" in api.store.raw else None)


@route("GET", "/flows/exists/(?P<name>[^/]+)/(?P<version>[^/]+)")
def _flow_exists(api: Api, req: Request, p: dict[str, str]) -> Reply:
    found = next((f.id for f in sorted(api.store.flows.values(), key=lambda f: f.id)
                  if f.name == p["name"] and f.external_version == p["version"]), None)
    if found is None:
        raise Problem("flow-not-found", f"Flow with name {p['name']} and external version {p['version']} not found.")
    return _ok({"flow_id": found})


@route("GET", "/flows/(?P<id>[^/]+)")
def _flow(api: Api, req: Request, p: dict[str, str]) -> Reply:
    fid = _path_id(p["id"], "flow_id")
    doc = _flow_doc(api, fid)
    if doc is None:
        raise Problem("flow-not-found", f"Flow with id {fid} not found.")
    return _ok(doc)


# ---------------------------------------------------------------------------------------------- runs, setups


@route("GET", "/run/trace/(?P<id>[^/]+)")
def _trace(api: Api, req: Request, p: dict[str, str]) -> Reply:
    rid = _path_id(p["id"], "run_id")
    r = api.store.run(rid)
    if r is None:
        raise Problem("run-not-found", f"Run {rid} not found.", 571)
    rows = vals.run_trace(api.store, r)
    if not rows:
        raise Problem("run-trace-not-found", f"No trace found for run {rid}.", 572)
    return _ok(render.trace_json(rid, rows))


@route("GET", "/run/(?P<id>[^/]+)")
def _run(api: Api, req: Request, p: dict[str, str]) -> Reply:
    rid = _path_id(p["id"], "run_id", positive=False)
    r = api.store.run(rid)
    if r is None:
        raise Problem("run-not-found", f"Run {rid} not found.", 236)
    raw = api.store.raw.get(f"run/{rid}")
    return _ok(rec.recorded_run(api.store, raw) if raw else render.run_json(api.store, r, api.roots))


@route("POST", "/setup/tag")
def _setup_tag(api: Api, req: Request, _: dict[str, str]) -> Reply:
    eid, tags = _add_tag(api, req, "setup", "setup_id", "setup-not-found")
    return _ok({"setup_tag": {"id": str(eid), "tag": tags}})


@route("POST", "/setup/untag")
def _setup_untag(api: Api, req: Request, _: dict[str, str]) -> Reply:
    user = _caller(api, req, required=True) or 0
    eid, tag = _tag_args(req, "setup_id")
    left = _remove_tag(api, user, "setup", eid, tag, "setup-not-found")
    return _ok({"setup_untag": {"id": str(eid), "tag": left}})


@route("GET", "/setup/(?P<id>[^/]+)")
def _setup(api: Api, req: Request, p: dict[str, str]) -> Reply:
    sid = _path_id(p["id"], "setup_id")
    s = api.store.setups.get(sid)
    if s is None:
        raise Problem("setup-not-found", f"Setup {sid} not found.", 281)
    raw = api.store.raw.get(f"setup/{sid}")
    return _ok(rec.recorded_setup(raw) if raw else render.setup_json(api.store, s))


# ---------------------------------------------------------------------------------------------- the rest


@route("GET", "/studies/(?P<id>[^/]+)")
def _study(api: Api, req: Request, p: dict[str, str]) -> Reply:
    key = p["id"]
    studies = api.store.studies
    st = studies.get(int(key)) if key.isdigit() else next((s for s in studies.values() if s.alias == key), None)
    if st is None:
        kind = "id" if key.isdigit() else "alias"
        raise Problem("study-not-found", f"Study with {kind} {key} not found.")
    raw = api.store.raw.get(f"study/{st.id}")
    return _ok(rec.recorded_study(raw) if raw else render.study_json(api.store, st))


@route("GET", "/tasktype/list")
def _task_types(api: Api, req: Request, _: dict[str, str]) -> Reply:
    return _ok(render.task_types_json())


@route("GET", "/estimationprocedure/list")
def _procedures(api: Api, req: Request, _: dict[str, str]) -> Reply:
    raw = api.store.raw.get("estimationprocedure/list")
    return _ok(rec.recorded_procedures(raw) if raw else render.estimation_procedures_json())


@route("GET", "/evaluationmeasure/list")
def _measures(api: Api, req: Request, _: dict[str, str]) -> Reply:
    return _ok(render.evaluation_measures_json())

