"""The vantage6 emulator's data: entities, one id sequence for users and nodes, roles and permission checks.

The permission helpers mirror ``vantage6.server.permission.RuleCollection`` (``allowed_for_org``,
``allowed_for_org_in_col``, ``can_for_col``) over the default roles' rules, so the emulator refuses and
filters exactly where the real server does. Mutations follow upstream semantics, quirks included: a run's
``assigned_at`` is the store's creation time (the server's start), a failed run fails its unstarted sibling
runs, a killed task's unfinished runs become ``killed by user``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAILED_STATUSES", "RUN_STATUSES", "Identity", "Node", "Org", "Run", "Store", "Task", "User", "utcnow"]

RUN_STATUSES = ("pending", "initializing", "active", "completed", "failed", "start failed",
                "non-existing Docker image", "crashed", "killed by user", "not allowed", "unknown error")
FAILED_STATUSES = frozenset(RUN_STATUSES) - {"pending", "initializing", "active", "completed"}

# Default roles as (resource, scope, operation) letters: scopes g(lobal) c(ollaboration) o(rganization) w (own);
# operations v(iew) c(reate) e(dit) d(elete) s(end) r(eceive). Taken from a running 4.15.2 (GET /rule?role_id=).
_VIEWER = ("user:w:e user:w:d user:o:v organization:o:v organization:c:v collaboration:o:v role:o:v node:o:v "
           "node:c:v task:c:v run:c:v port:o:v event:o:r event:c:r study:o:v")
_RESEARCHER = f"{_VIEWER} task:c:c task:o:d"
_ORG_ADMIN = (f"{_VIEWER} user:o:c user:o:e user:o:d organization:o:e role:o:c role:o:e role:o:d node:o:c node:o:e "
              "event:o:s")
_COL_ADMIN = (f"{_ORG_ADMIN} task:c:c task:o:d user:c:v user:c:c user:c:e organization:g:v organization:c:e "
              "collaboration:c:e role:c:v node:c:c node:c:v node:c:d event:c:s study:c:v study:c:c study:c:e "
              "study:c:d")
_NODE = ("node:o:v node:o:e collaboration:o:v organization:o:v organization:c:v organization:o:e task:c:v run:c:v "
         "port:o:v study:o:v")
_RESOURCES = ("user", "organization", "collaboration", "role", "node", "task", "run", "port", "event", "study")
_ROOT = " ".join(f"{r}:{s}:{o}" for r in _RESOURCES for s in "gcow" for o in "vceds r".replace(" ", ""))
ROLES: dict[int, tuple[str, frozenset[str]]] = {
    1: ("Root", frozenset(_ROOT.split())), 2: ("container", frozenset()), 3: ("node", frozenset(_NODE.split())),
    4: ("Viewer", frozenset(_VIEWER.split())), 5: ("Researcher", frozenset(_RESEARCHER.split())),
    6: ("Organization Admin", frozenset(_ORG_ADMIN.split())),
    7: ("Collaboration Admin", frozenset(_COL_ADMIN.split())),
}


def utcnow() -> dt.datetime:
    """Naive UTC now, as vantage6 stores it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class Org:
    id: int
    name: str
    domain: str | None = ""
    address1: str | None = ""
    address2: str | None = None
    zipcode: str | None = ""
    country: str | None = ""
    public_key: str = ""


@dataclass
class Collaboration:
    id: int
    name: str
    encrypted: bool
    org_ids: list[int] = field(default_factory=list)


@dataclass
class Node:
    id: int
    name: str
    api_key: str
    collaboration_id: int
    organization_id: int
    ip: str | None = None
    last_seen: dt.datetime | None = None
    status: str = "offline"


@dataclass
class User:
    id: int
    username: str
    password: str
    firstname: str | None
    lastname: str | None
    email: str | None
    organization_id: int
    role_ids: list[int] = field(default_factory=list)
    last_seen: dt.datetime | None = None


@dataclass
class Task:
    id: int
    name: str
    description: str
    image: str
    collaboration_id: int
    init_org_id: int
    init_user_id: int | None
    job_id: int
    created_at: dt.datetime
    databases: list[tuple[str, str]] = field(default_factory=list)
    parent_id: int | None = None


@dataclass
class Run:
    id: int
    task_id: int
    organization_id: int
    input: str | None
    assigned_at: dt.datetime
    result: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    status: str = "pending"
    log: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who a request acts as: a user or a node (``kind``), its id, organization and rules."""

    kind: str
    id: int
    organization_id: int
    rules: frozenset[str]


class Store:
    """Every entity of one emulator, with vantage6's id sequences (users and nodes share one)."""

    def __init__(self, *, key_seed: int = 42) -> None:
        self.started_at = utcnow()  # run.assigned_at: vantage6 evaluates the column default once at import
        self.orgs: dict[int, Org] = {}
        self.collabs: dict[int, Collaboration] = {}
        self.nodes: dict[int, Node] = {}
        self.users: dict[int, User] = {}
        self.tasks: dict[int, Task] = {}
        self.runs: dict[int, Run] = {}
        self._auth_seq = itertools.count(1)
        self._org_seq = itertools.count(1)
        self._collab_seq = itertools.count(1)
        self._task_seq = itertools.count(1)
        self._run_seq = itertools.count(1)
        self._keys = (str(uuid.UUID(int=(key_seed * 7919 + i) * 0x9E3779B97F4A7C15 % (1 << 128), version=4))
                      for i in itertools.count())
        root_org = self.add_org("root", domain=None, address1=None, zipcode=None, country=None)
        self.add_user("root", "root", None, None, None, root_org.id, [1])

    # --------------------------------------------------------------------------------------- creation

    def add_org(self, name: str, **fields: Any) -> Org:
        org = Org(next(self._org_seq), name, **fields)
        self.orgs[org.id] = org
        return org

    def add_collab(self, name: str, org_ids: list[int], encrypted: bool) -> Collaboration:
        collab = Collaboration(next(self._collab_seq), name, encrypted, [i for i in org_ids if i in self.orgs])
        self.collabs[collab.id] = collab
        return collab

    def add_node(self, collab_id: int, org_id: int, name: str | None) -> Node:
        label = name or f"{self.orgs[org_id].name} - {self.collabs[collab_id].name} Node"
        node = Node(next(self._auth_seq), label, next(self._keys), collab_id, org_id)
        self.nodes[node.id] = node
        return node

    def add_user(self, username: str, password: str, firstname: str | None, lastname: str | None,
                 email: str | None, org_id: int, role_ids: list[int]) -> User:
        user = User(next(self._auth_seq), username, password, firstname, lastname, email, org_id, role_ids)
        self.users[user.id] = user
        return user

    def add_task(self, *, collab_id: int, init_org_id: int, init_user_id: int | None, name: str, description: str,
                 image: str, inputs: list[tuple[int, str | None]], databases: list[tuple[str, str]],
                 created_at: dt.datetime | None = None) -> Task:
        job = max((t.job_id for t in self.tasks.values()), default=0) + 1
        task = Task(next(self._task_seq), name, description, image, collab_id, init_org_id, init_user_id, job,
                    created_at or utcnow(), databases)
        self.tasks[task.id] = task
        for org_id, data in inputs:
            run = Run(next(self._run_seq), task.id, org_id, data, self.started_at)
            self.runs[run.id] = run
        return task

    # --------------------------------------------------------------------------------------- queries

    def node_by_key(self, api_key: str) -> Node | None:
        return next((n for n in self.nodes.values() if n.api_key == api_key), None)

    def user_by_name(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username == username), None)

    def org_collab_ids(self, org_id: int) -> list[int]:
        return [c.id for c in self.collabs.values() if org_id in c.org_ids]

    def task_runs(self, task_id: int) -> list[Run]:
        return [r for r in self.runs.values() if r.task_id == task_id]

    def run_node(self, run: Run) -> Node | None:
        task = self.tasks[run.task_id]
        return next((n for n in self.nodes.values()
                     if n.organization_id == run.organization_id and n.collaboration_id == task.collaboration_id),
                    None)

    def task_status(self, task: Task) -> str:
        """Derived from the runs, as ``db.Task.status`` does."""
        statuses = [r.status for r in self.task_runs(task.id)]
        failed = [s for s in statuses if s in FAILED_STATUSES]
        if failed:
            return failed[0] if len(set(failed)) == 1 else "failed"
        for status in ("active", "initializing", "pending"):
            if status in statuses:
                return status
        return "completed"

    def task_finished_at(self, task: Task) -> dt.datetime | None:
        runs = self.task_runs(task.id)
        if self.task_status(task) != "completed" or not runs:
            return None
        ends = [r.finished_at for r in runs if r.finished_at is not None]
        return max(ends) if len(ends) == len(runs) else None

    def identity(self, kind: str, auth_id: int) -> Identity | None:
        if kind == "user" and auth_id in self.users:
            user = self.users[auth_id]
            rules = frozenset().union(*(ROLES[r][1] for r in user.role_ids if r in ROLES))
            return Identity("user", user.id, user.organization_id, rules)
        if kind == "node" and auth_id in self.nodes:
            node = self.nodes[auth_id]
            return Identity("node", node.id, node.organization_id, ROLES[3][1])
        return None

    def touch(self, who: Identity) -> None:
        """vantage6 stamps ``last_seen`` on every authenticated request."""
        target = self.users.get(who.id) if who.kind == "user" else self.nodes.get(who.id)
        if target is not None:
            target.last_seen = utcnow()

    # --------------------------------------------------------------------------------------- permissions

    def can(self, who: Identity, resource: str, op: str, scope: str) -> bool:
        return f"{resource}:{scope}:{op}" in who.rules

    def auth_collabs(self, who: Identity) -> list[int]:
        return self.org_collab_ids(who.organization_id)

    def allowed_for_org(self, who: Identity, resource: str, op: str, org_id: int) -> bool:
        if self.can(who, resource, op, "g"):
            return True
        if who.organization_id == org_id and self.can(who, resource, op, "o"):
            return True
        return self.can(who, resource, op, "c") and any(
            org_id in self.collabs[c].org_ids for c in self.auth_collabs(who))

    def allowed_for_org_in_col(self, who: Identity, resource: str, op: str, org_id: int, collab_id: int) -> bool:
        if self.can(who, resource, op, "g"):
            return True
        if who.organization_id == org_id and self.can(who, resource, op, "o"):
            return True
        return self.can(who, resource, op, "c") and collab_id in self.auth_collabs(who)

    def can_for_col(self, who: Identity, resource: str, op: str, collab_id: int) -> bool:
        if self.can(who, resource, op, "g"):
            return True
        return self.can(who, resource, op, "c") and collab_id in self.auth_collabs(who)

    # --------------------------------------------------------------------------------------- run lifecycle

    def patch_run(self, run: Run, data: dict[str, Any], started: dt.datetime | None,
                  finished: dt.datetime | None) -> None:
        """``PATCH /run/<id>`` after validation: overwrite, then fail-fast the unstarted siblings."""
        run.started_at = started or run.started_at
        run.finished_at = finished
        run.result = data.get("result")
        run.log = data.get("log")
        run.status = data.get("status", run.status)
        if run.status in FAILED_STATUSES:
            now = utcnow()
            for sibling in self.task_runs(run.task_id):
                if sibling.id != run.id and sibling.started_at is None and sibling.finished_at is None:
                    sibling.status = "failed"
                    sibling.finished_at = now
                    sibling.log = sibling.log or (f"Marked as failed because sibling run id={run.id} failed with "
                                                  f"status '{run.status}'.")

    def kill(self, task: Task) -> None:
        now = utcnow()
        for run in self.task_runs(task.id):
            if run.status not in FAILED_STATUSES and run.status != "completed":
                run.status = "killed by user"
                run.finished_at = now

    def delete_task(self, task: Task) -> None:
        for run in self.task_runs(task.id):
            del self.runs[run.id]
        del self.tasks[task.id]
