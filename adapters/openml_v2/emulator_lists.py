"""The two list endpoints of the v2 emulator: JSON-body filters validated as the server does, then paged.

``pagination`` is ``{"limit": 1..1000 (default 100), "offset": >= 0}``, independent of each other.
``/datasets/list`` has no ORDER BY, so rows come in storage order (the store's insertion order: generated
datasets by id, recorded ones after them); ``/tasks/list`` is ordered by task id. An empty page is a 404
``no-results`` problem (code 372 for datasets, 482 for tasks), never ``[]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.openml_v1.emulator_data import DatasetRec, Store, TaskRec
from adapters.openml_v2.emulator_checks import CASUAL, RANGE, TAG, Checks, Problem
from adapters.openml_v2.emulator_render import dataset_row, task_row

__all__ = ["list_datasets", "list_tasks"]

_STATUSES = ("active", "deactivated", "in_preparation", "all")
_RANGES = {"number_instances": "n_instances", "number_features": "n_features", "number_classes": "n_classes",
           "number_missing_values": "n_missing"}


def _pagination(checks: Checks, body: Mapping[str, Any]) -> tuple[int, int]:
    raw = body.get("pagination")
    if raw is None:
        return 100, 0
    if not isinstance(raw, dict):
        checks.fail("model_attributes_type", ("body", "pagination"),
                    "Input should be a valid dictionary or object to extract fields from", raw)
        return 100, 0
    limit = checks.integer(("body", "pagination", "limit"), raw.get("limit", 100), gt=0, le=1000)
    offset = checks.integer(("body", "pagination", "offset"), raw.get("offset", 0), ge=0)
    return limit or 100, offset or 0


def _filters(checks: Checks, body: Mapping[str, Any], spec: Mapping[str, str]) -> dict[str, Any]:
    """Validate the filters named in ``spec`` (name -> kind); unknown body fields are ignored, as FastAPI does."""
    out: dict[str, Any] = {}
    for name, kind in spec.items():
        value = body.get(name)
        if value is None:
            continue
        loc = ("body", name)
        if kind == "tag":
            out[name] = checks.text(loc, value, TAG, 64)
        elif kind == "name":
            out[name] = checks.text(loc, value, CASUAL, 128)
        elif kind == "range":
            out[name] = checks.text(loc, value, RANGE, 64)
        elif kind == "id":
            out[name] = checks.integer(loc, value, gt=0)
        elif kind in ("ids", "ids+"):
            out[name] = checks.ids(loc, value, min_length=1 if kind == "ids+" else 0)
        elif kind == "status":
            out[name] = checks.choice(loc, value, _STATUSES)
    return out


def _in_range(d: DatasetRec, f: Mapping[str, Any]) -> bool:
    for name, attr in _RANGES.items():
        spec = f.get(name)
        if spec:
            lo, _, hi = spec.partition("..")
            if not int(lo) <= getattr(d, attr) <= int(hi or lo):
                return False
    return True


def _page(rows: list[Any], limit: int, offset: int, what: str, code: int, row: Callable[[Any], Any]) -> list[Any]:
    page = rows[offset: offset + limit]
    if not page:
        raise Problem("no-results", f"No {what} match the search criteria.", code)
    return [row(r) for r in page]


_DATASET_SPEC = {"data_name": "name", "tag": "tag", "data_version": "id", "uploader": "id", "data_id": "ids",
                 "number_instances": "range", "number_features": "range", "number_classes": "range",
                 "number_missing_values": "range", "status": "status"}


def list_datasets(store: Store, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``/datasets/list``: active datasets unless ``status`` says otherwise; storage order."""
    checks = Checks()
    limit, offset = _pagination(checks, body)
    f = _filters(checks, body, _DATASET_SPEC)
    checks.done()
    status = f.get("status") or "active"
    ids = set(f["data_id"]) if f.get("data_id") else None

    def match(d: DatasetRec) -> bool:
        return ((status == "all" or d.status == status) and (ids is None or d.id in ids)
                and (not f.get("tag") or any(t.tag == f["tag"] for t in d.tags))
                and (not f.get("data_name") or d.name == f["data_name"])
                and (not f.get("data_version") or d.version == f["data_version"])
                and (not f.get("uploader") or d.uploader == f["uploader"]) and _in_range(d, f))

    rows = [d for d in store.datasets.values() if match(d)]
    return _page(rows, limit, offset, "datasets", 372, dataset_row)


_TASK_SPEC = {"task_type_id": "id", "tag": "tag", "data_tag": "tag", "status": "status", "task_id": "ids+",
              "data_id": "ids+", "data_name": "name", "number_instances": "range", "number_features": "range",
              "number_classes": "range", "number_missing_values": "range"}


def list_tasks(store: Store, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``/tasks/list``: tasks on active datasets unless ``status`` says otherwise; ORDER BY task_id."""
    checks = Checks()
    limit, offset = _pagination(checks, body)
    f = _filters(checks, body, _TASK_SPEC)
    checks.done()
    status = f.get("status") or "active"
    tids = set(f["task_id"]) if f.get("task_id") else None
    dids = set(f["data_id"]) if f.get("data_id") else None
    rows: list[tuple[TaskRec, DatasetRec]] = []
    for t in sorted(store.tasks.values(), key=lambda t: t.id):
        d = store.datasets.get(t.did)  # an INNER JOIN: a task without its dataset is not listed
        if d is None or not (status == "all" or d.status == status) or not _in_range(d, f):
            continue
        if ((tids is not None and t.id not in tids) or (dids is not None and d.id not in dids)
                or (f.get("task_type_id") and t.type_id != f["task_type_id"])
                or (f.get("tag") and not any(x.tag == f["tag"] for x in t.tags))
                or (f.get("data_tag") and not any(x.tag == f["data_tag"] for x in d.tags))
                or (f.get("data_name") and d.name != f["data_name"])):
            continue
        rows.append((t, d))
    return _page(rows, limit, offset, "tasks", 482, lambda pair: task_row(*pair))
