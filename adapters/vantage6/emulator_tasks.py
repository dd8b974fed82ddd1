"""vantage6 emulator routes for tasks, runs, results and kills (messages and checks in upstream order)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from adapters.vantage6.emulator_http import Ctx, Reply, generic_500, like, msg, paginate, reply
from adapters.vantage6.emulator_render import result_json, run_json, task_json
from adapters.vantage6.emulator_store import FAILED_STATUSES, Identity, Run, Task
from adapters.vantage6.emulator_validate import validate

__all__ = [
    "kill_task",
    "result_get",
    "result_list",
    "run_get",
    "run_list",
    "run_patch",
    "task_delete",
    "task_get",
    "task_list",
    "task_post",
    "task_status",
]

_UNREADABLE = ("Your task's input cannot be parsed. Your input should be a base64 encoded JSON string. Note that "
               "if you are using the user interface or Python client, this should be done for you. Also, make sure "
               "not to encrypt your input, as your collaboration is set to not use encryption.")
_NOT_ENCRYPTED = ("Your collaboration requires encryption, but input is not encrypted! Please encrypt your input "
                  "before sending it.")


def _finished(status: str) -> bool:
    return status in FAILED_STATUSES or status == "completed"


def _may_view_task(ctx: Ctx, who: Identity, resource: str, task: Task) -> bool:
    store = ctx.store
    return store.allowed_for_org_in_col(who, resource, "v", task.init_org_id, task.collaboration_id) or (
        store.can(who, "task", "v", "w") and who.kind == "user" and task.init_user_id == who.id)


# ------------------------------------------------------------------------------------------------ tasks


def task_list(ctx: Ctx) -> Reply:
    who = ctx.auth(("user", "node", "container"))
    store, q = ctx.store, ctx.query
    tasks = list(store.tasks.values())
    if not store.can(who, "task", "v", "g"):
        if store.can(who, "task", "v", "c"):
            tasks = [t for t in tasks if t.collaboration_id in store.auth_collabs(who)]
        elif store.can(who, "task", "v", "o"):
            tasks = [t for t in tasks if t.init_org_id == who.organization_id]
        elif store.can(who, "task", "v", "w"):
            tasks = [t for t in tasks if t.init_user_id == who.id]
        else:
            raise msg(401, "You lack the permission to do that!")
    collab_id = ctx.arg_int("collaboration_id")
    if collab_id is not None:
        if not store.can_for_col(who, "task", "v", collab_id):
            raise msg(401, f"You lack the permission to view tasks from collaboration {collab_id}!")
        tasks = [t for t in tasks if t.collaboration_id == collab_id]
    init_org = ctx.arg_int("init_org_id")
    if init_org is not None:
        if not store.allowed_for_org(who, "task", "v", init_org):
            raise msg(401, f"You lack the permission to view tasks from organization id={init_org}!")
        tasks = [t for t in tasks if t.init_org_id == init_org]
    init_user = ctx.arg_int("init_user_id")
    if init_user is not None:
        if init_user not in store.users:
            raise msg(400, f"User id={init_user} does not exist!")
        tasks = [t for t in tasks if t.init_user_id == init_user]
    parent = ctx.arg_int("parent_id")
    if parent is not None:
        if parent not in store.tasks:
            raise msg(400, f"Parent task id={q['parent_id']} does not exist!")
        tasks = [t for t in tasks if t.parent_id == parent]
    job = ctx.arg_int("job_id")
    if job is not None:
        if not any(t.job_id == job for t in store.tasks.values()):
            raise msg(400, f"Job id={q['job_id']} does not exist!")
        tasks = [t for t in tasks if t.job_id == job]
    for param in ("name", "image", "description"):
        if param in q:
            tasks = [t for t in tasks if like(q[param], getattr(t, param))]
    if "status" in q:
        raise generic_500()  # upstream filters on a hybrid property (derived from runs): SQLAlchemy raises
    if "database" in q:
        tasks = [t for t in tasks if any(label == q["database"] for label, _ in t.databases)]
    if "is_user_created" in q:
        try:
            user_created = int(q["is_user_created"])
        except ValueError:
            raise msg(400, f"Invalid value for 'is_user_created' provided: '{q['is_user_created']}'. Should be an "
                           "integer.") from None
        tasks = [t for t in tasks if (t.parent_id is None) == (user_created != 0)]
    results = ctx.includes("results")
    return paginate(ctx, tasks, "Task", lambda t: task_json(ctx.api, ctx.methods, store, t, include_results=results),
                    newest_first=True)


def task_get(ctx: Ctx, task_id: int) -> Reply:
    who = ctx.auth(("user", "node", "container"))
    task = ctx.store.tasks.get(task_id)
    if task is None:
        raise msg(404, f"task id={task_id} is not found")
    if not _may_view_task(ctx, who, "task", task):
        raise msg(401, "You lack the permission to do that!")
    results = ctx.includes("results")
    return reply(task_json(ctx.api, ctx.methods, ctx.store, task, include_results=results))


def task_status(ctx: Ctx, task_id: int) -> Reply:
    who = ctx.auth(("user", "container"))
    task = ctx.store.tasks.get(task_id)
    if task is None:
        raise msg(404, f"Task id={task_id} not found")
    if not _may_view_task(ctx, who, "task", task):
        raise msg(401, "You lack the permission to do that!")
    return reply({"status": ctx.store.task_status(task)})


def task_delete(ctx: Ctx, task_id: int) -> Reply:
    who = ctx.auth(("user",))
    store = ctx.store
    task = store.tasks.get(task_id)
    if task is None:
        raise msg(404, f"Task id={task_id} not found")
    if not store.allowed_for_org_in_col(who, "task", "d", task.init_org_id, task.collaboration_id) and not (
            store.can(who, "task", "d", "w") and task.init_user_id == who.id):
        raise msg(401, "You lack the permission to do that!")
    if not _finished(store.task_status(task)):
        store.kill(task)
    store.delete_task(task)
    return reply({"msg": f"task id={task_id} and its algorithm run data have been successfully deleted"})


def _readable(value: Any) -> bool:
    """``DummyCryptor().decrypt(input).decode()``: base64 (not validated) then UTF-8; a bad input is a 500."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, str):
        raise generic_500()
    try:
        data = base64.b64decode(value.encode("utf-8"))
    except (binascii.Error, ValueError):
        raise generic_500() from None
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def task_post(ctx: Ctx) -> Reply:
    who = ctx.auth(("user", "container"))
    store = ctx.store
    body = ctx.body()
    errors = validate(body, "task")
    if errors:
        return reply({"msg": "Request body is incorrect", "errors": errors}, 400)
    collab = None
    if body.get("collaboration_id"):
        collab = store.collabs.get(int(body["collaboration_id"]))
        if collab is None:
            raise msg(404, f"Collaboration id={body['collaboration_id']} not found!")
    if body.get("study_id"):
        raise msg(404, f"Study id={body['study_id']} not found")
    if collab is None:
        raise generic_500()  # upstream dereferences an unbound collaboration
    orgs = body["organizations"]
    org_ids = [o.get("id") for o in orgs]
    if not set(org_ids).issubset(collab.org_ids):
        raise msg(400, "At least one of the supplied organizations in not within the collaboration.")
    with_node = {n.organization_id for n in store.nodes.values() if n.collaboration_id == collab.id}
    missing = [str(i) for i in org_ids if i not in with_node]
    if missing:
        raise msg(400, "Cannot create this task because there are no nodes registered for the following "
                       f"organization(s): {', '.join(missing)}.")
    if who.organization_id not in collab.org_ids:
        raise msg(401, "You can only create tasks for collaborations you are participating in!")
    if not store.can_for_col(who, "task", "c", collab.id):
        raise msg(401, "You lack the permission to do that!")
    if body.get("store_id"):
        raise msg(400, f"Algorithm store id={body['store_id']} not found!")
    if not orgs:
        raise msg(400, "No organizations provided in the request.")
    for org in orgs:
        readable = _readable(org.get("input"))
        if collab.encrypted and readable:
            raise msg(400, _NOT_ENCRYPTED)
        if not collab.encrypted and not readable:
            raise msg(400, _UNREADABLE)
    databases = body.get("databases")
    databases = [{"label": databases}] if isinstance(databases, str) else databases or []
    for db in databases:
        if "label" not in db:
            raise msg(400, f"Database label missing! The dictionary {db} should contain a 'label' key")
    rows = [(db["label"], _compact({k: v for k, v in db.items() if k != "label"})) for db in databases]
    task = store.add_task(collab_id=collab.id, init_org_id=who.organization_id, init_user_id=who.id,
                          name=body.get("name", ""), description=body.get("description", ""), image=body["image"],
                          inputs=[(int(o["id"]), o.get("input")) for o in orgs], databases=rows)
    return reply(task_json(ctx.api, ctx.methods, store, task), 201)


def _compact(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------ runs, results


def _runs(ctx: Ctx, who: Identity) -> list[Run]:
    """``MultiRunBase.get_query_multiple_runs``: filters, permission scope, and the inner join on nodes."""
    store, q = ctx.store, ctx.query
    runs = list(store.runs.values())
    if "organization_id" in q:
        org_id = ctx.arg_int("organization_id")
        if not store.allowed_for_org(who, "run", "v", org_id or 0):
            raise msg(401, f"You lack the permission to view runs for organization id={q['organization_id']}!")
        runs = [r for r in runs if r.organization_id == org_id]
    if "task_id" in q:
        task = store.tasks.get(int(q["task_id"])) if q["task_id"].isdigit() else None
        if task is None:
            raise msg(400, f"Task id={q['task_id']} does not exist!")
        if not _may_view_task(ctx, who, "run", task):
            raise msg(401, f"You lack the permission to view runs for task id={q['task_id']}!")
        runs = [r for r in runs if r.task_id == task.id]
    if q.get("node_id"):
        node = store.nodes.get(int(q["node_id"])) if q["node_id"].isdigit() else None
        if node is None:
            raise msg(400, f"Node id={q['node_id']} does not exist!")
        if not store.can_for_col(who, "run", "v", node.collaboration_id):
            raise msg(401, f"You lack the permission to view runs for node id={q['node_id']}!")
        runs = [r for r in runs if r.organization_id == node.organization_id
                and store.tasks[r.task_id].collaboration_id == node.collaboration_id]
    if q.get("state") == "open":
        runs = [r for r in runs if r.finished_at is None]
    with_nodes = {n.organization_id for n in store.nodes.values()}
    runs = [r for r in runs if r.organization_id in with_nodes]  # upstream joins Organization -> Node
    collab_id = ctx.arg_int("collaboration_id")
    if collab_id is not None:
        if not store.can_for_col(who, "run", "v", collab_id):
            raise msg(401, f"You lack the permission to view runs for collaboration id={q['collaboration_id']}!")
        runs = [r for r in runs if store.tasks[r.task_id].collaboration_id == collab_id]
    if not store.can(who, "run", "v", "g"):
        if store.can(who, "run", "v", "c"):
            runs = [r for r in runs if store.tasks[r.task_id].collaboration_id in store.auth_collabs(who)]
        elif store.can(who, "run", "v", "o"):
            runs = [r for r in runs if r.organization_id == who.organization_id]
        elif store.can(who, "run", "v", "w"):
            runs = [r for r in runs if store.tasks[r.task_id].init_user_id == who.id]
        else:
            raise msg(401, "You lack the permission to do that!")
    return runs


def run_list(ctx: Ctx) -> Reply:
    who = ctx.auth(("node", "user", "container"))
    include_task = ctx.includes("task")
    return paginate(ctx, _runs(ctx, who), "Run",
                    lambda r: run_json(ctx.api, ctx.methods, ctx.store, r, include_task=include_task),
                    newest_first=True)


def result_list(ctx: Ctx) -> Reply:
    who = ctx.auth(("node", "user", "container"))
    return paginate(ctx, _runs(ctx, who), "Run", lambda r: result_json(ctx.api, ctx.methods, r), newest_first=True)


def _single_run(ctx: Ctx, run_id: int) -> Run:
    who = ctx.auth(("node", "user", "container"))
    run = ctx.store.runs.get(run_id)
    if run is None:
        raise msg(404, f"Run id={run_id} not found!")
    if not _may_view_task(ctx, who, "run", ctx.store.tasks[run.task_id]):
        raise msg(401, "You lack the permission to do that!")
    return run


def run_get(ctx: Ctx, run_id: int) -> Reply:
    run = _single_run(ctx, run_id)
    include_task = ctx.query.get("include") == "task"
    return reply(run_json(ctx.api, ctx.methods, ctx.store, run, include_task=include_task))


def result_get(ctx: Ctx, run_id: int) -> Reply:
    return reply(result_json(ctx.api, ctx.methods, _single_run(ctx, run_id)))


def _run_time(value: Any, default: dt.datetime | None) -> dt.datetime | None:
    """``vantage6.server.utils.parse_datetime``: only ``%Y-%m-%dT%H:%M:%S.%f`` (a 500 otherwise)."""
    if not value:
        return default
    fmt = "%Y-%m-%dT%H:%M:%S.%f" + ("%z" if value.endswith("+00:00") else "")
    try:
        parsed = dt.datetime.strptime(value, fmt)
    except ValueError:
        raise generic_500() from None
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def run_patch(ctx: Ctx, run_id: int) -> Reply:
    who = ctx.auth(("node",))
    store = ctx.store
    run = store.runs.get(run_id)
    if run is None:
        raise msg(404, f"Run id={run_id} not found!")
    body = ctx.body()
    errors = validate(body, "run", partial=True)
    if errors:
        return reply({"msg": "Request body is incorrect", "errors": errors}, 400)
    if run.organization_id != who.organization_id:
        raise msg(401, "This is not your algorithm run to PATCH!")
    if run.finished_at is not None:
        raise msg(400, "Cannot update an already finished algorithm run!")
    started = _run_time(body.get("started_at"), run.started_at)
    finished = _run_time(body.get("finished_at"), None)
    store.patch_run(run, body, started, finished)
    return reply(run_json(ctx.api, ctx.methods, store, run))


def kill_task(ctx: Ctx) -> Reply:
    who = ctx.auth(("user",))
    store = ctx.store
    body = ctx.body()
    errors = validate(body, "kill")
    if errors:
        return reply({"msg": "Request body is incorrect", "errors": errors}, 400)
    task_id = int(body["id"])
    task = store.tasks.get(task_id)
    if task is None:
        raise msg(404, f"Task id={task_id} not found")
    status = store.task_status(task)
    if _finished(status):
        raise msg(400, f"Task {task_id} already finished with status '{status}', so cannot kill it!")
    collab = store.collabs.get(task.collaboration_id)
    if not store.can(who, "event", "s", "g") and not (
            store.can(who, "event", "s", "c") and collab is not None and who.organization_id in collab.org_ids):
        raise msg(401, "You lack the permission to do that!")
    store.kill(task)
    return reply({"msg": f"Nodes have been instructed to kill any containers running for task {task_id}."})
