"""Deterministic, seeded in-memory data model of the OpenML v1 emulator (pure: no I/O, no clock)."""

from __future__ import annotations

import hashlib
import random
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapters.openml_v1 import emulator_catalog as cat

__all__ = [
    "DatasetRec",
    "FlowRec",
    "RunRec",
    "SetupRec",
    "Store",
    "StudyRec",
    "TagEntry",
    "TaskRec",
    "build_store",
    "stable_rng",
    "stable_unit",
]

_EPOCH = datetime(2014, 1, 16, 9, 0, 0)


def _digest(parts: tuple[object, ...]) -> int:
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def stable_rng(*parts: object) -> random.Random:
    """Return a `random.Random` seeded from a salt-free hash of `parts` (same parts -> same stream)."""
    return random.Random(_digest(parts))


def stable_unit(*parts: object) -> float:
    """Return a deterministic float in [0, 1) derived from `parts`."""
    return _digest(parts) / 2**64


def fmt_time(ts: int, sep: str = " ") -> str:
    """Format seconds after the emulator epoch as the server does (`sep` " " raw DB, "T" via dateXml)."""
    return (_EPOCH + timedelta(seconds=ts)).strftime(f"%Y-%m-%d{sep}%H:%M:%S")


@dataclass(slots=True)
class TagEntry:
    tag: str
    uploader: int


@dataclass(slots=True)
class DatasetRec:
    id: int
    name: str
    version: int
    status: str
    format: str
    uploader: int
    file_id: int | None
    upload_ts: int
    n_instances: int
    n_features: int
    n_classes: int
    n_missing: int
    n_numeric: int
    target: str
    tags: list[TagEntry] = field(default_factory=list)
    corpus: bool = False

    @property
    def n_symbolic(self) -> int:
        return self.n_features - self.n_numeric


@dataclass(slots=True)
class TaskRec:
    id: int
    type_id: int
    did: int
    proc_id: int
    target: str | None
    uploader: int
    measure: str | None
    tags: list[TagEntry] = field(default_factory=list)
    corpus: bool = False


@dataclass(slots=True)
class FlowRec:
    id: int
    name: str
    version: int
    external_version: str
    uploader: int
    upload_ts: int
    template: int  # index into FLOW_TEMPLATES, -1 for recorded flows
    kind: str
    components: tuple[tuple[str, int], ...] = ()
    tags: list[TagEntry] = field(default_factory=list)
    corpus: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.name}({self.version})"


@dataclass(slots=True)
class SetupRec:
    id: int
    flow_id: int
    variant: int
    tags: list[TagEntry] = field(default_factory=list)
    corpus: bool = False


@dataclass(slots=True, frozen=True)
class RunRec:
    id: int
    task: int
    flow: int
    setup: int
    uploader: int
    upload_ts: int
    error: bool


@dataclass(slots=True)
class StudyRec:
    id: int
    alias: str | None
    main_entity_type: str
    name: str
    description: str
    status: str
    creation_ts: int
    creator: int
    task_ids: tuple[int, ...] = ()
    run_ids: tuple[int, ...] = ()
    corpus: bool = False


@dataclass(slots=True)
class Store:
    """All emulated entities. Runs live in compact columns; everything heavy is derived lazily."""

    seed: int
    datasets: dict[int, DatasetRec] = field(default_factory=dict)
    tasks: dict[int, TaskRec] = field(default_factory=dict)
    flows: dict[int, FlowRec] = field(default_factory=dict)
    setups: dict[int, SetupRec] = field(default_factory=dict)
    studies: dict[int, StudyRec] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=lambda: dict(cat.USERS))
    run_task: array = field(default_factory=lambda: array("i"))
    run_flow: array = field(default_factory=lambda: array("i"))
    run_setup: array = field(default_factory=lambda: array("i"))
    run_uploader: array = field(default_factory=lambda: array("i"))
    run_ts: array = field(default_factory=lambda: array("q"))
    run_error: bytearray = field(default_factory=bytearray)
    extra_runs: dict[int, RunRec] = field(default_factory=dict)
    deleted_runs: set[int] = field(default_factory=set)
    run_tags: dict[int, list[TagEntry]] = field(default_factory=dict)
    runs_by_task: dict[int, list[int]] = field(default_factory=dict)
    runs_by_flow: dict[int, list[int]] = field(default_factory=dict)
    runs_by_setup: dict[int, list[int]] = field(default_factory=dict)
    parents: dict[int, list[int]] = field(default_factory=dict)
    raw: dict[str, bytes] = field(default_factory=dict)
    flow_params: dict[int, tuple[tuple[str, str, str, str], ...]] = field(default_factory=dict)
    setup_values: dict[int, dict[str, str]] = field(default_factory=dict)
    run_evals: dict[int, dict[str, str]] = field(default_factory=dict)
    cache: dict[tuple[object, ...], object] = field(default_factory=dict)  # derived values (bounded, see values)

    def run(self, run_id: int) -> RunRec | None:
        """Return the run summary, or None when it does not exist (or was deleted)."""
        if run_id in self.deleted_runs:
            return None
        if run_id in self.extra_runs:
            return self.extra_runs[run_id]
        i = run_id - 1
        if 0 <= i < len(self.run_task) and self.run_task[i] > 0:
            return RunRec(run_id, self.run_task[i], self.run_flow[i], self.run_setup[i],
                          self.run_uploader[i], self.run_ts[i], bool(self.run_error[i]))
        return None

    def all_run_ids(self) -> list[int]:
        """Every live run id in ascending order."""
        ids = [i + 1 for i in range(len(self.run_task)) if self.run_task[i] > 0]
        ids.extend(self.extra_runs)
        return sorted(r for r in ids if r not in self.deleted_runs)

    def add_run(self, rec: RunRec) -> None:
        """Register a run that is not in the generated columns (a recorded one)."""
        self.extra_runs[rec.id] = rec
        i = rec.id - 1
        if 0 <= i < len(self.run_task):
            self.run_task[i] = 0
        self._index(rec.id, rec.task, rec.flow, rec.setup)

    def _index(self, run_id: int, task: int, flow: int, setup: int) -> None:
        self.runs_by_task.setdefault(task, []).append(run_id)
        self.runs_by_flow.setdefault(flow, []).append(run_id)
        self.runs_by_setup.setdefault(setup, []).append(run_id)

    def delete_run(self, run_id: int) -> None:
        self.deleted_runs.add(run_id)

    def live_runs_of(self, index: dict[int, list[int]], key: int) -> list[int]:
        return [r for r in index.get(key, ()) if r not in self.deleted_runs]

    def flow_tree(self, flow_id: int) -> list[FlowRec]:
        """The flow and all its (nested) subflows, depth first."""
        out: list[FlowRec] = []
        stack = [flow_id]
        while stack:
            f = self.flows.get(stack.pop())
            if f is None:
                continue
            out.append(f)
            stack.extend(c for _, c in reversed(f.components))
        return out


def _make_datasets(store: Store, n: int, rng: random.Random, skip: frozenset[int]) -> None:
    names = list(cat.DATASET_NAMES)
    suffixes = ("small", "balanced", "noisy", "sampled", "binarized", "num", "clean", "reduced", "1000", "v2")
    name_versions: dict[str, int] = {}
    for did in range(1, n + 1):
        if did in cat.PINNED_DATASETS:
            name = cat.PINNED_DATASETS[did]
        elif did <= len(names) + 20 and rng.random() < 0.8:
            name = names[(did * 7) % len(names)]
        elif rng.random() < 0.15 and name_versions:
            name = rng.choice(sorted(name_versions))
        else:
            name = f"{rng.choice(names)}_{rng.choice(suffixes)}"
        version = name_versions.get(name, 0) + 1
        if version > 3:
            name, version = f"{name}_{did}", 1
        name_versions[name] = version
        regression = rng.random() < 0.22
        n_classes = 0 if regression else rng.choice((2, 2, 2, 2, 3, 4, 5, 6, 7, 10, 26))
        n_features = rng.choice((5, 9, 10, 14, 17, 21, 31, 37, 62, 65, 101, 118, 217, 785)) + rng.randrange(3)
        n_instances = rng.choice((150, 200, 306, 500, 690, 768, 1000, 1473, 2000, 3196, 5000, 10992, 20000,
                                  45312, 70000)) + rng.randrange(50)
        n_numeric = rng.randrange(0, n_features) if n_features < 60 else n_features - rng.randrange(2)
        missing = 0 if rng.random() < 0.7 else rng.randrange(1, n_instances)
        status = "active" if rng.random() < 0.9 else rng.choice(("deactivated", "in_preparation"))
        fmt = "ARFF" if rng.random() < 0.95 else rng.choice(("Sparse_ARFF", "sparse_arff"))
        target = ("target" if regression else
                  rng.choice(("class", "class", "class", "Class", "binaryClass", "target")))
        if name == "credit-g":
            n_classes, n_features, n_instances, n_numeric, missing, status, fmt, target = (
                2, 21, 1000, 7, 0, "active", "ARFF", "class")
        if not regression:
            n_numeric = min(n_numeric, n_features - 1)
        tags = [TagEntry(t, 1) for t in sorted(rng.sample(cat.TAG_POOL, rng.choice((0, 0, 1, 1, 2, 3, 5))))]
        uploader = rng.choice((1, 1, 1, 2, 3, 27, 64, 86, 348, 869, 2902))
        if did % 20 == 7:  # fresh uploads by the demo users, without tasks yet (deletable)
            uploader = rng.choice((2, 3))
        if did in skip:
            continue
        store.datasets[did] = DatasetRec(
            did, name, version, status, fmt, uploader, 1_000_000 + did * 13, did * 3600 * 5 + rng.randrange(3600),
            n_instances, n_features, n_classes, missing, n_numeric, target, tags)


def _make_tasks(store: Store, n: int, rng: random.Random, skip: frozenset[int]) -> None:
    usable = [d for d in store.datasets.values() if d.id % 20 != 7]
    classif = [d.id for d in usable if d.n_classes >= 2]
    regress = [d.id for d in usable if d.n_classes == 0] or classif
    for tid in range(1, n + 1):
        if tid in cat.PINNED_TASKS:
            ttype, did = cat.PINNED_TASKS[tid]
        else:
            u = rng.random()
            ttype = 1 if u < 0.6 else 2 if u < 0.85 else 3 if u < 0.93 else 5
            did = rng.choice(regress if ttype == 2 else classif)
        ds = store.datasets[did]
        proc = {1: rng.choice((1, 1, 1, 1, 2, 3, 5, 6)), 2: rng.choice((7, 7, 7, 8)), 3: 13, 5: 17}[ttype]
        if tid in cat.PINNED_TASKS:
            proc = {1: 1, 2: 7, 3: 13, 5: 17}[ttype]
        measure = None
        if ttype in (1, 3) and rng.random() < 0.5:
            measure = "predictive_accuracy"
        elif ttype == 2 and rng.random() < 0.5:
            measure = "root_mean_squared_error"
        tags = [TagEntry(t, 1) for t in sorted(rng.sample(cat.TAG_POOL, rng.choice((0, 1, 1, 2))))]
        if tid in skip:
            continue
        store.tasks[tid] = TaskRec(tid, ttype, did, proc, None if ttype == 5 else ds.target,
                                   rng.choice((1, 1, 2, 3, 64, 869)), measure, tags)


_FAMILY_VERSIONS = {
    "sklearn": ("sklearn==0.24.2", "sklearn==1.0.2", "sklearn==1.3.2", "sklearn==1.5.1"),
    "mlr": ("R_3.6.1-v2.67e64352", "R_4.1.2-v2.9b0c1d2e", "R_4.3.1-v2.1f2e3d4c"),
    "weka": ("Weka_3.7.10_9186", "Weka_3.8.0_12000", "Weka_3.9.2_14423"),
}


def _make_flows(store: Store, n: int, rng: random.Random, skip: frozenset[int]) -> None:
    by_kind: dict[str, list[int]] = {}
    templates = cat.FLOW_TEMPLATES
    name_count: dict[str, int] = {}
    pinned_names = set(cat.PINNED_FLOWS.values())
    for fid in range(1, n + 1):
        if fid in skip:
            continue
        if fid in cat.PINNED_FLOWS:
            ti = next(i for i, t in enumerate(templates) if t[0] == cat.PINNED_FLOWS[fid])
        else:
            ti = rng.randrange(len(templates))
            while (templates[ti][0] in pinned_names
                   or (templates[ti][4] and not all(by_kind.get(k) for _, k in templates[ti][4]))):
                ti = rng.randrange(len(templates))
        name, family, kind, _params, slots = templates[ti]
        components = tuple((ident, rng.choice(by_kind[k])) for ident, k in slots)
        if family == "sklearn" and components:
            inner = ",".join(f"{ident}={store.flows[c].name}" for ident, c in components)
            name = f"{name}({inner})"
        name_count[name] = name_count.get(name, 0) + 1
        ext = rng.choice(_FAMILY_VERSIONS[family])
        if family == "sklearn":
            ext = f"openml==0.14.2,{ext}"
        store.flows[fid] = FlowRec(fid, name, name_count[name], ext, rng.choice((1, 2, 3, 86, 348, 1159)),
                                   fid * 3600 * 30 + rng.randrange(3600), ti, kind, components)
        for _, c in components:
            store.parents.setdefault(c, []).append(fid)
        by_kind.setdefault(kind, []).append(fid)
        by_kind.setdefault(f"{kind}_{family}", []).append(fid)
        if templates[ti][0] == "sklearn.pipeline.Pipeline" and kind == "classif":
            by_kind.setdefault("classif_pipeline", []).append(fid)


def _make_runs(store: Store, n: int, rng: random.Random, reserved_setups: frozenset[int],
               reserved_runs: frozenset[int]) -> None:
    kinds = {1: "classif", 2: "regr", 3: "classif", 5: "clust"}
    flows_by_kind: dict[str, list[int]] = {}
    for f in store.flows.values():
        if not f.corpus and f.template >= 0 and f.kind in ("classif", "regr", "clust"):
            flows_by_kind.setdefault(f.kind, []).append(f.id)
    any_flows = sorted(f for v in flows_by_kind.values() for f in v)
    task_ids = [t.id for t in store.tasks.values() if not t.corpus] or [0]
    weights = [1.0 / (1 + (i * 37) % len(task_ids)) ** 0.9 for i in range(len(task_ids))]
    popular = {31: 420, 3: 260, 37: 240, 43: 200, 28: 180, 119: 160}
    assigned: list[int] = []
    for tid, count in popular.items():
        if tid in store.tasks and not store.tasks[tid].corpus:
            assigned.extend([tid] * min(count, n // 10))
    assigned.extend(rng.choices(task_ids, weights=weights, k=max(0, n - len(assigned))))
    rng.shuffle(assigned)
    setup_ids: dict[tuple[int, int], int] = {}
    next_setup = 1
    users = (1, 1, 2, 3, 27, 64, 86, 348, 869, 1159, 2902, 3229, 5348, 8111, 9186, 10876)
    ts = 0
    for tid in assigned[:n]:
        while len(store.run_task) + 1 in reserved_runs:  # a hole where a recorded run lives
            for col in (store.run_task, store.run_flow, store.run_setup, store.run_uploader, store.run_ts):
                col.append(0)
            store.run_error.append(0)
        run_id = len(store.run_task) + 1
        task = store.tasks.get(tid)
        pool = flows_by_kind.get(kinds.get(task.type_id, "") if task else "", any_flows) or any_flows
        flow = pool[min(int(rng.random() ** 2 * len(pool)), len(pool) - 1)] if pool else 0
        variant = rng.randrange(1 + flow % 7)
        key = (flow, variant)
        if key not in setup_ids:
            while next_setup in reserved_setups:
                next_setup += 1
            setup_ids[key] = next_setup
            store.setups[next_setup] = SetupRec(next_setup, flow, variant)
            next_setup += 1
        ts += rng.randrange(60, 28000)
        store.run_task.append(tid)
        store.run_flow.append(flow)
        store.run_setup.append(setup_ids[key])
        store.run_uploader.append(rng.choice(users))
        store.run_ts.append(ts)
        store.run_error.append(1 if rng.random() < 0.01 else 0)
        store._index(run_id, tid, flow, setup_ids[key])


def _make_studies(store: Store) -> None:
    cc18 = tuple(sorted(t.id for t in store.tasks.values() if t.type_id == 1)[:72])
    store.studies[14] = StudyRec(14, "OpenML100", "task", "OpenML100", "The OpenML100 benchmarking suite.",
                                 "active", 3600 * 24 * 900, 1, cc18[:60])
    store.studies[99] = StudyRec(99, "OpenML-CC18", "task", "OpenML-CC18 Curated Classification benchmark",
                                 "The OpenML Curated Classification benchmark.", "active", 3600 * 24 * 1500,
                                 1, cc18)
    runs31 = tuple(store.runs_by_task.get(31, [])[:50])
    store.studies[200] = StudyRec(200, None, "run", "demo run study", "Runs on credit-g.", "active",
                                  3600 * 24 * 2000, 2, (31,), runs31)
    store.studies[201] = StudyRec(201, None, "task", "bob's suite", "A suite in preparation.",
                                  "in_preparation", 3600 * 24 * 2100, 3, cc18[:5])


def build_store(seed: int, n_datasets: int, n_tasks: int, n_flows: int, n_runs: int,
                reserved: Mapping[str, frozenset[int]] | None = None) -> Store:
    """Generate the whole synthetic world for `seed` (same arguments -> identical store).

    `reserved` maps a kind ("data", "task", "flow", "run", "setup") to ids left free for recorded entities.
    """
    res = dict(reserved or {})
    none: frozenset[int] = frozenset()
    store = Store(seed=seed)
    _make_datasets(store, max(n_datasets, max(cat.PINNED_DATASETS)), stable_rng(seed, "datasets"),
                   res.get("data", none))
    _make_tasks(store, max(n_tasks, max(cat.PINNED_TASKS)), stable_rng(seed, "tasks"), res.get("task", none))
    _make_flows(store, max(n_flows, max(cat.PINNED_FLOWS)), stable_rng(seed, "flows"), res.get("flow", none))
    _make_runs(store, n_runs, stable_rng(seed, "runs"), res.get("setup", none), res.get("run", none))
    _make_studies(store)
    return store
