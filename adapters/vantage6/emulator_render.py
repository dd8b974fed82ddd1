"""JSON bodies exactly as vantage6 4.15.2 serializes them: key order, HATEOAS links, naive ISO timestamps.

Resource bodies are ``json.dumps`` with default separators (``{"msg": "..."}``, no trailing newline); errors
raised outside the resources (Flask-JWT-Extended, the catch-all 500) are compact Flask ``jsonify`` bodies with
a newline. The ``methods`` of a link come from a Python set upstream, so their order differs between server
processes: ``Methods`` picks one order per emulator from its seed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

from adapters.vantage6.emulator_store import Collaboration, Node, Org, Run, Store, Task, User

__all__ = [
    "Methods",
    "collaboration_json",
    "dumps",
    "flask_error",
    "iso",
    "node_json",
    "organization_json",
    "result_json",
    "run_json",
    "task_json",
    "user_json",
]

_ENDPOINT_METHODS = {"organization": ("GET", "PATCH", "DELETE"), "collaboration": ("GET", "PATCH", "DELETE"),
                     "node": ("GET", "PATCH", "DELETE"), "user": ("GET", "PATCH", "DELETE"),
                     "task": ("GET", "DELETE")}


class Methods:
    """The per-process order of each endpoint's ``methods`` list (no fixed order upstream)."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self._order = {name: rng.sample(list(verbs), len(verbs)) for name, verbs in _ENDPOINT_METHODS.items()}

    def link(self, api: str, endpoint: str, ident: int | None) -> dict[str, Any] | None:
        if ident is None:
            return None
        return {"id": ident, "link": f"{api}/{endpoint}/{ident}", "methods": list(self._order[endpoint])}


def dumps(payload: Any) -> str:
    """A resource body (Flask-RESTful's representation: ``json.dumps`` defaults)."""
    return json.dumps(payload)


def flask_error(message: str) -> str:
    """A body from Flask's ``jsonify`` (JWT errors, the catch-all 500): compact, newline-terminated."""
    return json.dumps({"msg": message}, separators=(",", ":")) + "\n"


def iso(value: dt.datetime | None) -> str | None:
    """marshmallow's DateTime: ``isoformat()`` (microseconds left out when zero, no zone for naive values)."""
    return value.isoformat() if value is not None else None


def organization_json(api: str, org: Org) -> dict[str, Any]:
    i = org.id
    return {
        "collaborations": f"{api}/collaboration?organization_id={i}", "nodes": f"{api}/node?organization_id={i}",
        "users": f"{api}/user?organization_id={i}", "tasks": f"{api}/task?init_org_id={i}",
        "runs": f"{api}/run?organization_id={i}", "studies": f"{api}/study?organization_id={i}",
        "public_key": org.public_key, "id": i, "name": org.name, "domain": org.domain, "address1": org.address1,
        "address2": org.address2, "zipcode": org.zipcode, "country": org.country,
    }


def collaboration_json(api: str, store: Store, collab: Collaboration, *, include_orgs: bool = False) -> dict[str, Any]:
    i = collab.id
    orgs: Any = f"{api}/organization?collaboration_id={i}"
    if include_orgs:
        orgs = [organization_json(api, store.orgs[o]) for o in collab.org_ids if o in store.orgs]
    return {
        "organizations": orgs, "nodes": f"{api}/node?collaboration_id={i}", "tasks": f"{api}/task?collaboration_id={i}",
        "algorithm_stores": f"{api}/algorithmstore?collaboration_id={i}",
        "studies": f"{api}/study?collaboration_id={i}", "id": i, "name": collab.name, "encrypted": collab.encrypted,
    }


def node_json(api: str, methods: Methods, node: Node) -> dict[str, Any]:
    return {
        "organization": methods.link(api, "organization", node.organization_id),
        "collaboration": methods.link(api, "collaboration", node.collaboration_id), "config": [], "id": node.id,
        "type": "node", "ip": node.ip, "last_seen": iso(node.last_seen), "status": node.status, "name": node.name,
    }


def user_json(api: str, methods: Methods, user: User) -> dict[str, Any]:
    return {
        "roles": f"{api}/role?user_id={user.id}", "rules": f"{api}/rule?user_id={user.id}",
        "organization": methods.link(api, "organization", user.organization_id), "id": user.id, "type": "user",
        "ip": None, "last_seen": iso(user.last_seen), "status": None, "username": user.username,
        "firstname": user.firstname, "lastname": user.lastname, "email": user.email, "otp_secret": None,
        "last_email_failed_login_sent": None, "last_email_recover_password_sent": None,
    }


def task_json(api: str, methods: Methods, store: Store, task: Task, *, include_results: bool = False,
              with_runs_link: bool = True) -> dict[str, Any]:
    i = task.id
    out: dict[str, Any] = {
        "status": store.task_status(task), "finished_at": iso(store.task_finished_at(task)),
        "collaboration": methods.link(api, "collaboration", task.collaboration_id),
    }
    if with_runs_link:
        out["runs"] = f"{api}/run?task_id={i}"
    out["results"] = ([result_json(api, methods, r) for r in store.task_runs(i)] if include_results
                      else f"{api}/result?task_id={i}")
    out.update({
        "parent": methods.link(api, "task", task.parent_id), "children": f"{api}/task?parent_id={i}",
        "init_org": methods.link(api, "organization", task.init_org_id),
        "init_user": methods.link(api, "user", task.init_user_id),
        "databases": [{"label": label, "parameters": params} for label, params in task.databases],
        "study": None, "algorithm_store": None, "id": i, "name": task.name, "description": task.description,
        "image": task.image, "job_id": task.job_id, "created_at": iso(task.created_at),
    })
    return out


def run_json(api: str, methods: Methods, store: Store, run: Run, *, include_task: bool = False) -> dict[str, Any]:
    task = store.tasks[run.task_id]
    node = store.run_node(run)
    return {
        "organization": methods.link(api, "organization", run.organization_id),
        "task": (task_json(api, methods, store, task, with_runs_link=False) if include_task
                 else methods.link(api, "task", task.id)),
        "results": {"id": run.id, "link": f"{api}/result/{run.id}", "methods": ["GET", "PATCH"]},
        "node": ({"id": node.id, "ip": node.ip, "status": node.status, "name": node.name} if node else None),
        "ports": [], "id": run.id, "input": run.input, "assigned_at": iso(run.assigned_at),
        "started_at": iso(run.started_at), "finished_at": iso(run.finished_at), "status": run.status,
        "log": run.log, "cleanup_at": None, "blob_storage_used": False,
    }


def result_json(api: str, methods: Methods, run: Run) -> dict[str, Any]:
    return {
        "run": {"id": run.id, "link": f"{api}/run/{run.id}", "methods": ["GET", "PATCH"]},
        "task": methods.link(api, "task", run.task_id), "id": run.id, "result": run.result, "cleanup_at": None,
        "blob_storage_used": False,
    }
