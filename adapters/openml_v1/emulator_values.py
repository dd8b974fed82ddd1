"""Lazily derived heavy parts of emulated entities (features, qualities, parameters, evaluations, traces)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from adapters.openml_v1 import emulator_catalog as cat
from adapters.openml_v1.emulator_data import DatasetRec, FlowRec, RunRec, SetupRec, Store, stable_rng, stable_unit

__all__ = [
    "Feature",
    "MeasureValue",
    "SetupParam",
    "basic_qualities",
    "dataset_detail",
    "dataset_features",
    "dataset_qualities",
    "flow_detail",
    "flow_parameters",
    "measure_value",
    "measures_for",
    "procedure",
    "run_trace",
    "setup_parameters",
]

_WORDS = ("age", "duration", "credit_amount", "checking_status", "purpose", "employment", "housing", "job",
          "savings_status", "income", "pressure", "glucose", "insulin", "mass", "pedi", "plas", "skin",
          "length", "width", "height", "weight", "density", "temperature", "humidity", "wind", "rainfall",
          "colour", "shape", "texture", "smoothness", "compactness", "symmetry", "radius", "area", "score")
_NOMINALS = (("a", "b", "c"), ("yes", "no"), ("low", "medium", "high"), ("TRUE", "FALSE"),
             ("red", "green", "blue", "yellow"), (" - 50000.", " 50000+."), (" Private", " Self-emp", " ?"),
             ("<0", "0<=X<200", ">=200", "no checking"))
_CLASS_LABELS = (("good", "bad"), ("tested_negative", "tested_positive"), ("0", "1"), ("N", "P"),
                 ("False", "True"))


@dataclass(frozen=True, slots=True)
class Feature:
    index: int
    name: str
    data_type: str
    nominal_values: tuple[str, ...]
    is_target: bool
    n_missing: int


@dataclass(frozen=True, slots=True)
class SetupParam:
    input_id: int
    flow_id: int
    flow_name: str
    full_name: str
    name: str
    data_type: str
    default_value: str
    value: str


@dataclass(frozen=True, slots=True)
class MeasureValue:
    value: str | None
    array_data: str | None
    folds: tuple[tuple[str, ...], ...]  # [repeat][fold]


def _class_labels(d: DatasetRec) -> tuple[str, ...]:
    if d.name == "credit-g":
        return ("good", "bad")
    if d.n_classes == 2:
        return _CLASS_LABELS[d.id % len(_CLASS_LABELS)]
    return tuple(f"class_{i + 1}" if d.n_classes > 9 else chr(65 + i) for i in range(d.n_classes))


def dataset_features(store: Store, d: DatasetRec) -> list[Feature]:
    """Per-feature metadata, consistent with the dataset's counts (target last)."""
    rng = stable_rng(store.seed, "features", d.id)
    n_other = d.n_features - 1
    if d.name == "iris":
        names4 = ("sepallength", "sepalwidth", "petallength", "petalwidth")
        return [*(Feature(i, n, "numeric", (), False, 0) for i, n in enumerate(names4)),
                Feature(4, "class", "nominal", ("Iris-setosa", "Iris-versicolor", "Iris-virginica"), True, 0)]
    wordy = n_other <= len(_WORDS) and rng.random() < 0.7
    names = rng.sample(_WORDS, n_other) if wordy else [f"V{i + 1}" for i in range(n_other)]
    numeric_left = d.n_numeric - (1 if d.n_classes == 0 else 0)
    out: list[Feature] = []
    for i, name in enumerate(names):
        missing = rng.randrange(0, max(1, d.n_missing // max(1, n_other)) + 1) if d.n_missing else 0
        if i < numeric_left:
            out.append(Feature(i, name, "numeric", (), False, missing))
        else:
            out.append(Feature(i, name, "nominal", rng.choice(_NOMINALS), False, missing))
    if d.n_classes == 0:
        out.append(Feature(n_other, d.target, "numeric", (), True, 0))
    else:
        out.append(Feature(n_other, d.target, "nominal", _class_labels(d), True, 0))
    return out


def _f(x: float) -> str:
    return repr(float(round(x, 12)))


def basic_qualities(d: DatasetRec) -> list[tuple[str, str]]:
    """The non-null "basic qualities" that data/list and task/list rows carry."""
    majority = d.n_instances // max(1, d.n_classes) + d.n_instances // 7 if d.n_classes else None
    values: dict[str, float | None] = {
        "MajorityClassSize": majority,
        "MaxNominalAttDistinctValues": float(max(d.n_classes, 2)) if d.n_symbolic else None,
        "MinorityClassSize": (d.n_instances - majority) // max(1, d.n_classes - 1) if majority else None,
        "NumberOfClasses": d.n_classes, "NumberOfFeatures": d.n_features, "NumberOfInstances": d.n_instances,
        "NumberOfInstancesWithMissingValues": min(d.n_missing, d.n_instances),
        "NumberOfMissingValues": d.n_missing, "NumberOfNumericFeatures": d.n_numeric,
        "NumberOfSymbolicFeatures": d.n_symbolic,
    }
    return [(k, _f(v)) for k, v in values.items() if v is not None]


def dataset_qualities(store: Store, d: DatasetRec) -> list[tuple[str, str | None]]:
    """All qualities, alphabetically, float-formatted; a few are null (empty `<oml:value />`)."""
    rng = stable_rng(store.seed, "qualities", d.id)
    out: dict[str, str | None] = dict(basic_qualities(d))
    for name in cat.EXTRA_QUALITIES:
        out[name] = None if rng.random() < 0.08 else _f(rng.uniform(-1.0, 1.0) if "Kurtosis" in name
                                                          else rng.random())
    if d.n_classes == 0:
        out["MajorityClassSize"] = out["MinorityClassSize"] = None
    out["Dimensionality"] = _f(d.n_features / d.n_instances)
    return sorted(out.items())


def dataset_detail(store: Store, d: DatasetRec) -> dict[str, str | list[str] | None]:
    """Description text and other free-text fields of a dataset description."""
    rng = stable_rng(store.seed, "detail", d.id)
    first = rng.choice(("R.A. Fisher", "Hans Hofmann", "Jock A. Blackard", "Ross Quinlan", "Ron Kohavi",
                        "Isabelle Guyon", "Vincent Sigillito", "David Aha"))
    creators = [first] if rng.random() < 0.5 else [f"{first}, {rng.choice(('J.', 'M.', 'S.'))}"]
    if rng.random() < 0.25:
        creators.append(rng.choice(("Dennis Kibler", "Barry Becker", "Tom Mitchell")))
    text = (f"**Author**: {', '.join(creators)}  \n**Source**: [UCI](https://archive.ics.uci.edu/ml) - "
            f"{1985 + d.id % 35}  \n**Please cite**:   \n\n{d.name.replace('_', ' ').title()} dataset. "
            f"Contains {d.n_instances} instances described by {d.n_features} attributes.")
    if rng.random() < 0.1:  # stored HTML-escaped, escaped again by the template (corpus data_4136)
        text += " It is the &ldquo;standard&rdquo; version &lt;see the paper&gt;."
    return {
        "description": text, "creators": creators, "collection_date": str(1980 + d.id % 40),
        "language": "English", "licence": rng.choice(("Public", "CC0", "CC BY 4.0")),
        "citation": "https://archive.ics.uci.edu/ml/citation_policy.html" if rng.random() < 0.5 else None,
        "md5": f"{int(stable_unit(store.seed, 'md5', d.id) * 2**128):032x}",
        "description_version": str(1 + d.id % 3),
        "original_data_url": f"https://archive.ics.uci.edu/ml/datasets/{d.name}" if rng.random() < 0.4 else None,
    }


def flow_parameters(store: Store, f: FlowRec) -> tuple[tuple[str, str, str, str], ...]:
    """(name, data_type, default_value, description) of a flow (recorded flows: from their recording)."""
    return cat.FLOW_TEMPLATES[f.template][3] if f.template >= 0 else store.flow_params.get(f.id, ())


def flow_detail(f: FlowRec) -> dict[str, str]:
    """Description and dependency string of a generated flow."""
    family = cat.FLOW_TEMPLATES[f.template][1] if f.template >= 0 else "other"
    short = f.name.split("(")[0]
    if family == "sklearn":
        ver = f.external_version.split("sklearn==")[-1]
        return {"description": f"Automatically created scikit-learn flow for {short.rsplit('.', 1)[-1]}.",
                "dependencies": f"sklearn=={ver}\nnumpy>=1.6.1\nscipy>=0.9", "language": "English",
                "class_name": short}
    if family == "mlr":
        return {"description": f"Learner {short} from package(s) {short.split('.')[-1]}.",
                "dependencies": "R_3.6.1, OpenML_1.9, mlr_2.14.0", "language": "English", "class_name": ""}
    return {"description": f"Weka implementation of {short}", "dependencies": "Weka_3.9.0",
            "language": "English", "class_name": f"weka.classifiers.{short.split('.')[-1]}"}


def setup_parameters(store: Store, s: SetupRec) -> list[SetupParam]:
    """Parameter settings of a setup over the flow and all its subflows."""
    out: list[SetupParam] = []
    fixed = store.setup_values.get(s.id)
    for f in store.flow_tree(s.flow_id):
        for i, (name, dtype, default, _desc) in enumerate(flow_parameters(store, f)):
            value = default
            if fixed is not None:
                if name not in fixed:
                    continue
                value = fixed[name]
            elif s.variant and stable_unit(store.seed, "param", f.id, name, s.variant) < 0.5:
                value = _alt_value(default, s.variant)
            out.append(SetupParam(f.id * 100 + i, f.id, f.name, f"{f.full_name}_{name}", name, dtype,
                                  default, value))
    return out


def _alt_value(default: str, variant: int) -> str:
    try:
        num = float(default)
    except ValueError:
        return str(variant * 10) if default in ("", "null") else default
    return str(int(num) * (variant + 1)) if num.is_integer() else repr(round(num / (variant + 1), 4))


def procedure(proc_id: int) -> tuple[int, int, str, str, int | None, int | None, int | None, bool | None]:
    """The estimation-procedure row for `proc_id` (10-fold CV when unknown)."""
    return next((p for p in cat.ESTIMATION_PROCEDURES if p[0] == proc_id), cat.ESTIMATION_PROCEDURES[0])


def measures_for(type_id: int) -> tuple[tuple[str, bool, bool], ...]:
    """(measure, per fold, per class) reported for runs on a task of this type."""
    return {2: cat.REGRESSION_MEASURES, 5: cat.CLUSTERING_MEASURES}.get(type_id, cat.CLASSIFICATION_MEASURES)


def _shape(store: Store, run: RunRec) -> tuple[int, int, int, int]:
    task = store.tasks.get(run.task)
    d = store.datasets.get(task.did) if task else None
    p = procedure(task.proc_id if task else 1)
    return (min(p[4] or 1, 10), p[5] or 1, d.n_instances if d else 1000, d.n_classes if d else 2)


_CACHE_LIMIT = 50_000


def measure_value(store: Store, run: RunRec, name: str) -> MeasureValue | None:
    """Aggregate, per-class array and per-fold values of one measure of a run (None if not reported)."""
    key = ("measure", run.id, name)
    if key in store.cache:
        return store.cache[key]  # type: ignore[return-value]
    value = _measure_value(store, run, name)
    if len(store.cache) >= _CACHE_LIMIT:
        store.cache.clear()
    store.cache[key] = value
    return value


def _measure_value(store: Store, run: RunRec, name: str) -> MeasureValue | None:
    if run.id in store.run_evals:  # recorded run: its aggregates come from the recording
        recorded = store.run_evals[run.id].get(name)
        return MeasureValue(recorded, None, ()) if recorded is not None else None
    task = store.tasks.get(run.task)
    spec = next((m for m in measures_for(task.type_id if task else 1) if m[0] == name), None)
    if spec is None or run.error:
        return None
    repeats, folds, n, n_classes = _shape(store, run)
    rng = stable_rng(store.seed, "measure", run.id, name)
    difficulty = 0.55 + 0.4 * stable_unit(store.seed, "task", run.task)
    acc = difficulty - 0.08 + 0.12 * stable_unit(store.seed, "flow", run.flow)
    acc += 0.04 * (stable_unit(store.seed, "setup", run.setup) - 0.5)
    acc = min(0.995, max(1.0 / max(2, n_classes), acc + 0.01 * (stable_unit(store.seed, "run", run.id) - 0.5)))
    sizes = [n // folds + (1 if f < n % folds else 0) for f in range(folds)]
    grid: list[list[float]] = []
    for _r in range(repeats):
        row = []
        for size in sizes:
            fold_acc = min(1.0, max(0.0, acc + rng.gauss(0, 0.02)))
            row.append(_derive(name, fold_acc, size, rng))
        grid.append(row)
    flat = [v for row in grid for v in row]
    if name == "predictive_accuracy":
        agg = sum(v * sizes[i % folds] for i, v in enumerate(flat)) / (n * repeats)
    elif name in ("number_of_instances",) or name.startswith("usercpu"):
        agg = sum(flat) / repeats
    else:
        agg = sum(flat) / len(flat)
    array_data = None
    if spec[2] and n_classes >= 2:
        array_data = "[" + ",".join(_g(min(1.0, max(0.0, agg + rng.gauss(0, 0.03)))) for _ in range(n_classes)) + "]"
    fold_strs = tuple(tuple(_fmt(name, v) for v in row) for row in grid) if spec[1] else ()
    return MeasureValue(_fmt(name, agg), array_data, fold_strs)


def _derive(name: str, acc: float, size: int, rng: object) -> float:
    if name == "predictive_accuracy":
        return round(acc * size) / size
    if name == "number_of_instances":
        return float(size)
    if name.startswith("usercpu"):
        return size * (0.5 + 3 * (1 - acc))
    if name in ("area_under_roc_curve",):
        return min(0.9999, acc + 0.04)
    if name == "kappa":
        return max(-1.0, 2 * acc - 1)
    if name in ("mean_absolute_error", "relative_absolute_error"):
        return (1 - acc) * 0.6
    if name in ("root_mean_squared_error", "root_relative_squared_error"):
        return math.sqrt(max(0.0, 1 - acc)) * 0.7
    if name in ("mean_prior_absolute_error", "root_mean_prior_squared_error"):
        return 0.5 + 0.001 * size % 0.3
    if name == "average_cost":
        return 0.0
    return min(1.0, acc - 0.01)


def _g(x: float) -> str:
    return f"{x:.6g}"


def _fmt(name: str, v: float) -> str:
    if name == "predictive_accuracy":
        return repr(v)
    if name == "number_of_instances" or name == "average_cost":
        return str(round(v))
    return _g(v) if abs(v) < 1000 else repr(round(v, 4))


def run_trace(store: Store, run: RunRec) -> list[tuple[int, int, int, str, str, bool]] | None:
    """Trace iterations (repeat, fold, iteration, setup_string, evaluation, selected) for search flows."""
    flow = store.flows.get(run.flow)
    if flow is None or flow.template < 0 or "GridSearchCV" not in cat.FLOW_TEMPLATES[flow.template][0]:
        return None
    rng = stable_rng(store.seed, "trace", run.id)
    out = []
    for fold in range(3):
        scores = [rng.uniform(0.6, 0.95) for _ in range(4)]
        best = scores.index(max(scores))
        for it, score in enumerate(scores):
            setup = json.dumps({"parameter_C": str(10 ** (it - 1)), "parameter_kernel": "\"rbf\""})
            out.append((0, fold, it, setup, repr(score), it == best))
    return out
