"""The vantage6 seed: one deterministic plan, as an ordered list of API-level steps, for two executors.

The emulator replays the steps on its store (``emulator_store.apply_steps``); the real-server fixture replays
them through the real API (``tests/backends/vantage6_server.py``). Same steps, same order, so both targets hold
the same data under the same ids (vantage6 numbers users and nodes from one sequence: root is 1, then the
nodes, then the users). Run times are offsets in seconds after their task's creation, because the real server
stamps ``created_at`` itself.

The data: root plus 22 organizations (Org A, B, C and 19 more), 22 collaborations (``collab-1`` = A, B, C;
``collab-2`` = A, B; 20 two-member studies), 21 nodes, users ``alice`` (Researcher, Org A), ``bob`` (Viewer,
Org C) and ``carol`` (Collaboration Admin, Org B), and 30 tasks with a run per organization: most completed
with base64 JSON results, a few crashed / start failed / failed (one through vantage6's fail-fast of unstarted
siblings), one with a binary result, one killed, a few still pending or active.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ROOT_PASSWORD",
    "USERS",
    "CreateCollaboration",
    "CreateNode",
    "CreateOrganization",
    "CreateTask",
    "CreateUser",
    "KillTask",
    "PatchRun",
    "SeedResult",
    "Step",
    "seed_steps",
]

ROOT_PASSWORD = "root"


@dataclass(frozen=True, slots=True)
class CreateOrganization:
    name: str
    country: str
    domain: str | None = None
    address1: str | None = None
    zipcode: str | None = None


@dataclass(frozen=True, slots=True)
class CreateCollaboration:
    name: str
    organizations: tuple[str, ...]
    encrypted: bool = False


@dataclass(frozen=True, slots=True)
class CreateNode:
    organization: str
    collaboration: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CreateUser:
    username: str
    password: str
    firstname: str
    lastname: str
    email: str
    organization: str
    role_id: int


@dataclass(frozen=True, slots=True)
class CreateTask:
    key: int
    creator: str
    collaboration: str
    organizations: tuple[str, ...]
    name: str
    description: str
    image: str
    input: Mapping[str, Any]
    databases: tuple[str, ...] = ("default",)


@dataclass(frozen=True, slots=True)
class PatchRun:
    """A node's PATCH of the run of ``task`` for ``organization``; times are seconds after task creation."""

    task: int
    organization: str
    status: str
    started: float | None = None
    finished: float | None = None
    log: str | None = None
    result: Any = None


@dataclass(frozen=True, slots=True)
class KillTask:
    task: int
    by: str


Step = CreateOrganization | CreateCollaboration | CreateNode | CreateUser | CreateTask | PatchRun | KillTask

USERS: Mapping[str, CreateUser] = {
    "alice": CreateUser("alice", "Alice-Passw0rd!", "Alice", "Anders", "alice@a.example", "Org A", 5),
    "bob": CreateUser("bob", "Bob-Passw0rd!!", "Bob", "Bakker", "bob@c.example", "Org C", 4),
    "carol": CreateUser("carol", "Carol-Passw0rd!", "Carol", "Claes", "carol@b.example", "Org B", 7),
}

_MAIN_ORGS = (
    CreateOrganization("Org A", "NL", "a.example", "Street 1", "1234AB"),
    CreateOrganization("Org B", "BE", "b.example", "Rue 2", "1000"),
    CreateOrganization("Org C", "DE", "c.example", "Strasse 3", "10115"),
)
_EXTRA_ORGS = (
    ("Maastricht Clinic", "NL"), ("Leuven Hospital", "BE"), ("Berlin Charite Lab", "DE"), ("Lyon Cancer Centre", "FR"),
    ("Oslo University Hospital", "NO"), ("Porto Health Institute", "PT"), ("Milan Research Hospital", "IT"),
    ("Vienna Medical Data", "AT"), ("Zurich Cohort", "CH"), ("Ghent Registry", "BE"), ("Utrecht Biobank", "NL"),
    ("Madrid Oncology", "ES"), ("Copenhagen Genomics", "DK"), ("Helsinki Registry", "FI"), ("Dublin Trials Unit", "IE"),
    ("Prague Clinical Data", "CZ"), ("Warsaw Cohort", "PL"), ("Tallinn eHealth", "EE"), ("Athens Medical School", "GR"),
)
_ALGOS = ("average", "kaplan-meier", "logistic-regression", "crosstab", "summary")
_COLUMNS = ("age", "bmi", "survival_days", "tumor_size", "systolic_bp")
_BINARY_RESULT = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\xff\xfe"


def _slug(name: str) -> str:
    return "".join(c for c in name.lower().replace(" ", "-") if c.isalnum() or c == "-")


def _organizations() -> list[CreateOrganization]:
    extra = [CreateOrganization(name, country, f"{_slug(name)}.example") for name, country in _EXTRA_ORGS]
    return [*_MAIN_ORGS, *extra]


def _collaborations() -> list[CreateCollaboration]:
    studies = []
    names = [name for name, _ in _EXTRA_ORGS]
    for i in range(20):
        first, second = names[i % len(names)], names[(i + 7) % len(names)]
        studies.append(CreateCollaboration(f"study-{_ALGOS[i % 5]}-{i + 1:02d}", (first, second)))
    return [CreateCollaboration("collab-1", ("Org A", "Org B", "Org C")),
            CreateCollaboration("collab-2", ("Org A", "Org B")), *studies]


def _nodes(collabs: list[CreateCollaboration]) -> list[CreateNode]:
    nodes = [CreateNode("Org A", "collab-1", "node-a"), CreateNode("Org B", "collab-1"),
             CreateNode("Org C", "collab-1", "node-c"), CreateNode("Org A", "collab-2", "node-a2"),
             CreateNode("Org B", "collab-2")]
    nodes += [CreateNode(c.organizations[0], c.name) for c in collabs[2:18]]
    return nodes


def _result(task: int, org: str, index: int) -> dict[str, Any]:
    count = 40 + (task * 17 + index * 29) % 160
    return {"organization": org, "count": count, "mean": round(30 + (task * 7.3 + index * 3.1) % 40, 3),
            "sum": round(count * (30 + (task * 7.3 + index * 3.1) % 40), 2)}


# Special outcomes per task key: org -> (status, started?, log, result). Other orgs complete normally.
_SPECIAL: Mapping[int, Mapping[str, tuple[str | None, bool, str | None, Any]]] = {
    5: {"Org B": ("crashed", True, "Traceback (most recent call last):\n  ...\nKeyError: 'bmi'", None)},
    9: {"Org B": ("start failed", False, "Could not start container: OOM", None)},
    12: {"Org A": ("non-existing Docker image", False, "Image harbor2.vantage6.ai/demo/crosstab not found", None)},
    14: {"Org A": ("completed", True, "ok (plot)", _BINARY_RESULT)},
    16: {"Org A": ("crashed", True, "Traceback ...\nValueError: empty cohort", None),
         "Org B": (None, False, None, None)},
    21: {"Org A": (None, False, None, None), "Org B": (None, False, None, None), "Org C": (None, False, None, None)},
    25: {"Org B": ("active", True, None, None)},
    28: {"Org B": (None, False, None, None), "Org C": (None, False, None, None)},
    29: {"Org A": (None, False, None, None), "Org B": (None, False, None, None)},
    30: {"Org A": (None, False, None, None), "Org B": (None, False, None, None), "Org C": (None, False, None, None)},
}
_KILLED = {21: "carol"}


def _task(key: int) -> CreateTask:
    collab = "collab-2" if key % 3 == 0 else "collab-1"
    orgs = ("Org A", "Org B") if collab == "collab-2" else ("Org A", "Org B", "Org C")
    algo = _ALGOS[key % 5]
    column = _COLUMNS[key % 5]
    return CreateTask(
        key=key, creator="carol" if key % 4 == 0 else "alice", collaboration=collab, organizations=orgs,
        name=f"{algo}-{key}", description=f"{algo.replace('-', ' ')} of {column} ({collab})",
        image=f"harbor2.vantage6.ai/demo/{algo}", input={"method": f"partial_{algo}", "kwargs": {"column": column}},
        databases=() if key % 7 == 0 else ("default",),
    )


def _patches(task: CreateTask) -> list[PatchRun]:
    """The node PATCHes of one task, ordered so that vantage6's fail-fast hits only what the plan intends:
    started runs are marked active first, then completions, then failures."""
    special = _SPECIAL.get(task.key, {})
    exact = task.key % 2 == 0  # even tasks use whole seconds: the server then omits the microseconds
    starts, completions, failures = [], [], []
    for index, org in enumerate(task.organizations):
        status, started, log, result = special.get(org, ("completed", True, "ok", _result(task.key, org, index)))
        if status is None:
            continue
        begin = float(2 + index) if exact else 2.125 + index * 0.731
        end = begin + (4.0 if exact else 3.25 + task.key / 100)
        if status == "active":
            starts.append(PatchRun(task.key, org, "active", started=begin))
        elif status == "completed":
            completions.append(PatchRun(task.key, org, status, begin, end, log, result))
        else:
            if started:
                starts.append(PatchRun(task.key, org, "active", started=begin))
            failures.append(PatchRun(task.key, org, status, None, end, log))
    if failures:
        return [*starts, *completions, *failures]
    return [*completions, *starts]


def seed_steps() -> list[Step]:
    """Every step of the seed, in the order both executors must follow."""
    collabs = _collaborations()
    steps: list[Step] = [*_organizations(), *collabs, *_nodes(collabs), *USERS.values()]
    tasks = [_task(key) for key in range(1, 31)]
    steps += tasks
    for task in tasks:
        steps += _patches(task)
        if task.key in _KILLED:
            steps.append(KillTask(task.key, _KILLED[task.key]))
    return steps


@dataclass
class SeedResult:
    """What an executor made of the steps: names -> ids, node api keys, and each task's runs by organization."""

    organizations: dict[str, int] = field(default_factory=dict)
    collaborations: dict[str, int] = field(default_factory=dict)
    nodes: dict[tuple[str, str], int] = field(default_factory=dict)
    node_keys: dict[int, str] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    tasks: dict[int, int] = field(default_factory=dict)
    runs: dict[tuple[int, str], int] = field(default_factory=dict)

    def task_collaboration(self, key: int) -> str:
        """The collaboration name of seeded task ``key``."""
        return _task(key).collaboration

    def expected_status(self, key: int) -> str:
        """The server-derived status (vantage6's word) task ``key`` has after seeding."""
        return {5: "crashed", 9: "start failed", 12: "non-existing Docker image", 16: "failed",
                21: "killed by user", 25: "active", 28: "pending", 29: "pending", 30: "pending"}.get(key, "completed")
