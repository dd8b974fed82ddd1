"""OpenML v2 (server-api) JSON client: the same method names, signatures and records as ``OpenMLV1Client``.

What v2 serves (openml-api.md §5.1), and how this client batches it:

- datasets: ``GET /datasets/{id}``, features, qualities; ``get_datasets`` posts ``/datasets/list`` with
  ``data_id: [...]`` and ``status: "all"`` (chunks of ``batch_size`` ids, at most 1000 a page); ids the list
  omits (private, unknown) are fetched one by one so each gets its own record or error, as in v1;
- tasks: ``GET /tasks/{id}``; ``get_tasks`` posts ``/tasks/list`` with ``task_id: [...]``;
- flows (``GET /flows/{id}``), runs (``GET /run/{id}``) and setups (``GET /setup/{id}``) have no batch
  endpoint in v2: ``get_flows`` and ``get_setups`` fan out single gets, capped by the HTTP layer;
- lists take a JSON body; ``limit`` and ``offset`` are independent and a page holds at most 1000 rows, so a
  larger ``limit`` becomes several pages. The dataset list has no ORDER BY: rows come in server order,
  duplicates across pages are dropped. "No results" (404, ``no-results``) is an empty tuple.

Not in v2 (keep using v1): flow/run/setup/evaluation/study lists, uploads, deletes, run and flow tags.
The caller's api key is a query parameter, forwarded only when given. Batch methods return
``{id: record | GatewayError}`` so one bad id never fails its neighbours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from adapters.openml_v2 import normalize as nz
from adapters.openml_v2._query import PAGE_MAX, ListFilters, dataset_list_body, pages, task_list_body
from adapters.openml_v2.errors import BACKEND
from adapters.records import (
    DatasetFeatureRecord,
    DatasetQualityRecord,
    DatasetRecord,
    DatasetSummaryRecord,
    EstimationProcedureRecord,
    FlowRecord,
    RunRecord,
    SetupRecord,
    StudyRecord,
    TagResultRecord,
    TaskRecord,
    TaskSummaryRecord,
)
from gateway.errors import GatewayError, NotFoundError
from gateway.http import BackendHTTP

__all__ = ["ListFilters", "OpenMLV2Client"]

R = TypeVar("R")
Batch = dict[int, R | GatewayError]

# (entity, remove) -> (route, id field, response root); v2 cannot untag tasks, nor tag flows or runs
TAG_ROUTES: dict[tuple[str, bool], tuple[str, str, str]] = {
    ("dataset", False): ("datasets/tag", "data_id", "data_tag"),
    ("dataset", True): ("datasets/untag", "data_id", "data_untag"),
    ("task", False): ("tasks/tag", "task_id", "task_tag"),
    ("setup", False): ("setup/tag", "setup_id", "setup_tag"),
    ("setup", True): ("setup/untag", "setup_id", "setup_untag"),
}


def _chunks(ids: Iterable[int], size: int) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


class OpenMLV2Client:
    """Typed calls to one OpenML v2 server (its root, e.g. ``http://localhost:8001``)."""

    backend = BACKEND

    def __init__(self, http: BackendHTTP, *, batch_size: int = 100) -> None:
        self.http = http
        self.batch_size = max(1, min(batch_size, PAGE_MAX))

    @property
    def base_url(self) -> str:
        """The API root this client talks to (part of every cache key: ids are per server)."""
        return self.http.base_url

    # ------------------------------------------------------------------------------------------ transport

    async def _call(
        self, method: str, path: str, *, endpoint: str, api_key: str | None, request_id: str | None,
        body: Any = None, idempotent: bool | None = None,
    ) -> Any:
        """Send one call; return the decoded JSON of a 2xx (None for 204), raise the mapped error otherwise."""
        headers = {"Accept": "application/json"}
        if request_id:
            headers["X-Request-Id"] = request_id
        response = await self.http.request(
            method, path, endpoint=endpoint, params={"api_key": api_key} if api_key else None, json=body,
            headers=headers, idempotent=idempotent,
        )
        if 200 <= response.status < 300:
            return None if response.status == 204 or not response.body else nz.load(response.body)
        raise nz.error_from_response(response.body, response.status)

    async def _one(
        self, path: str, endpoint: str, parse: Callable[[Any], R], api_key: str | None, request_id: str | None,
    ) -> R:
        try:
            return parse(await self._call("GET", path, endpoint=endpoint, api_key=api_key, request_id=request_id))
        except nz.NoResults as exc:
            raise NotFoundError(f"OpenML has no {endpoint} here.", backend=BACKEND, backend_code=exc.code) from exc

    async def _many(
        self, method: str, path: str, endpoint: str, parse: Callable[[Any], tuple[R, ...]], api_key: str | None,
        request_id: str | None, body: Any = None,
    ) -> tuple[R, ...]:
        try:
            payload = await self._call(method, path, endpoint=endpoint, api_key=api_key, request_id=request_id,
                                       body=body, idempotent=True)
        except nz.NoResults:
            return ()
        return parse(payload)

    async def _fan_out(self, ids: Iterable[int], get: Callable[[int], Awaitable[R]]) -> Batch[R]:
        unique = sorted(set(ids))
        results = await asyncio.gather(*(get(i) for i in unique), return_exceptions=True)
        out: Batch[R] = {}
        for key, result in zip(unique, results, strict=True):
            if isinstance(result, GatewayError):
                out[key] = result
            elif isinstance(result, BaseException):
                raise result
            else:
                out[key] = result
        return out

    async def _paged(
        self, path: str, endpoint: str, body: dict[str, Any], parse: Callable[[Any], tuple[R, ...]],
        key: Callable[[R], int], limit: int, offset: int, api_key: str | None, request_id: str | None,
    ) -> tuple[R, ...]:
        chunks = await asyncio.gather(*(
            self._many("POST", path, endpoint, parse, api_key, request_id,
                       {**body, "pagination": {"limit": size, "offset": start}})
            for size, start in pages(limit, max(0, offset))
        ))
        seen: set[int] = set()
        out: list[R] = []
        for row in (row for chunk in chunks for row in chunk):
            if key(row) not in seen:
                seen.add(key(row))
                out.append(row)
        return tuple(out)

    async def _by_ids(
        self, path: str, endpoint: str, field: str, ids: Sequence[int], parse: Callable[[Any], tuple[R, ...]],
        key: Callable[[R], int], api_key: str | None, request_id: str | None,
    ) -> dict[int, R]:
        chunks = _chunks(ids, self.batch_size)
        found = await asyncio.gather(*(
            self._many("POST", path, endpoint, parse, api_key, request_id,
                       {field: chunk, "status": "all", "pagination": {"limit": len(chunk), "offset": 0}})
            for chunk in chunks
        ))
        return {key(row): row for rows in found for row in rows}

    # ------------------------------------------------------------------------------------------ datasets

    async def get_dataset(self, did: int, api_key: str | None = None, request_id: str | None = None) -> DatasetRecord:
        """Return the full description of dataset ``did`` (``GET /datasets/{id}``); NotFoundError if unknown."""
        return await self._one(f"datasets/{did}", "datasets", nz.dataset_from_json, api_key, request_id)

    async def get_datasets(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[DatasetSummaryRecord]:
        """Return summaries of ``ids`` via ``POST /datasets/list`` (``data_id``, ``status: all``); ids the list
        omits are fetched one by one so each gets its own record or error."""
        found: Batch[DatasetSummaryRecord] = dict(await self._by_ids(
            "datasets/list", "datasets/list", "data_id", ids, nz.dataset_list_from_json, lambda d: d.id, api_key,
            request_id,
        ))
        missing = [i for i in set(ids) if i not in found]
        if missing:
            full = await self._fan_out(missing, lambda i: self.get_dataset(i, api_key, request_id))
            for key, value in full.items():
                found[key] = value if isinstance(value, GatewayError) else value.summary()
        return found

    async def get_dataset_features(
        self, did: int, api_key: str | None = None, request_id: str | None = None,
    ) -> tuple[DatasetFeatureRecord, ...]:
        """Return the features of dataset ``did``; () when not processed or none."""
        return await self._many("GET", f"datasets/features/{did}", "datasets/features", nz.features_from_json,
                                api_key, request_id)

    async def get_dataset_qualities(
        self, did: int, api_key: str | None = None, request_id: str | None = None,
    ) -> tuple[DatasetQualityRecord, ...]:
        """Return the qualities of dataset ``did``; () when not processed or none."""
        return await self._many("GET", f"datasets/qualities/{did}", "datasets/qualities", nz.qualities_from_json,
                                api_key, request_id)

    async def list_datasets(
        self, query: ListFilters, limit: int, offset: int = 0, api_key: str | None = None,
        request_id: str | None = None,
    ) -> tuple[DatasetSummaryRecord, ...]:
        """Return one page of ``/datasets/list`` rows (server order, no ORDER BY); () for "no results".

        ``query`` holds v1 filter names (see ``_query``); BadUserInputError for a filter v2 lacks.
        """
        return await self._paged("datasets/list", "datasets/list", dataset_list_body(query),
                                 nz.dataset_list_from_json, lambda d: d.id, limit, offset, api_key, request_id)

    async def list_quality_names(self, api_key: str | None = None, request_id: str | None = None) -> tuple[str, ...]:
        """Return the name of every quality the server has computed (``GET /datasets/qualities/list``)."""
        return await self._many("GET", "datasets/qualities/list", "datasets/qualities/list",
                                nz.quality_names_from_json, api_key, request_id)

    # ------------------------------------------------------------------------------------------ tasks

    async def get_task(self, tid: int, api_key: str | None = None, request_id: str | None = None) -> TaskRecord:
        """Return the full task ``tid`` (``GET /tasks/{id}``)."""
        return await self._one(f"tasks/{tid}", "tasks", nz.task_from_json, api_key, request_id)

    async def get_tasks(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[TaskSummaryRecord]:
        """Return task summaries via ``POST /tasks/list`` (``task_id``, ``status: all``); omitted ids are
        fetched one by one (NOT_FOUND when unknown)."""
        found: Batch[TaskSummaryRecord] = dict(await self._by_ids(
            "tasks/list", "tasks/list", "task_id", ids, nz.task_list_from_json, lambda t: t.id, api_key, request_id,
        ))
        missing = [i for i in set(ids) if i not in found]
        if missing:
            full = await self._fan_out(missing, lambda i: self.get_task(i, api_key, request_id))
            for key, value in full.items():
                found[key] = value if isinstance(value, GatewayError) else _task_summary(value)
        return found

    async def list_tasks(
        self, query: ListFilters, limit: int, offset: int = 0, api_key: str | None = None,
        request_id: str | None = None,
    ) -> tuple[TaskSummaryRecord, ...]:
        """Return one page of ``/tasks/list`` rows (ordered by task id); () for "no results"."""
        return await self._paged("tasks/list", "tasks/list", task_list_body(query), nz.task_list_from_json,
                                 lambda t: t.id, limit, offset, api_key, request_id)

    async def list_estimation_procedures(
        self, api_key: str | None = None, request_id: str | None = None,
    ) -> tuple[EstimationProcedureRecord, ...]:
        """Return every estimation procedure the server knows."""
        return await self._many("GET", "estimationprocedure/list", "estimationprocedure/list",
                                nz.estimation_procedures_from_json, api_key, request_id)

    async def list_evaluation_measures(
        self, api_key: str | None = None, request_id: str | None = None,
    ) -> tuple[str, ...]:
        """Return the name of every evaluation measure."""
        return await self._many("GET", "evaluationmeasure/list", "evaluationmeasure/list",
                                nz.evaluation_measures_from_json, api_key, request_id)

    # ------------------------------------------------------------------------------------------ flows

    async def get_flow(self, fid: int, api_key: str | None = None, request_id: str | None = None) -> FlowRecord:
        """Return the full flow ``fid`` with its components (``GET /flows/{id}``, ``subflows``)."""
        return await self._one(f"flows/{fid}", "flows", nz.flow_from_json, api_key, request_id)

    async def get_flows(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[FlowRecord]:
        """Return full flows; v2 has no flow id filter, so this fans out concurrently."""
        return await self._fan_out(ids, lambda i: self.get_flow(i, api_key, request_id))

    # ------------------------------------------------------------------------------------------ runs, setups

    async def get_run(self, rid: int, api_key: str | None = None, request_id: str | None = None) -> RunRecord:
        """Return the full run ``rid`` (``GET /run/{id}``: singular prefix). Its files carry no URL in v2."""
        return await self._one(f"run/{rid}", "run", nz.run_from_json, api_key, request_id)

    async def get_run_trace(
        self, rid: int, api_key: str | None = None, request_id: str | None = None,
    ) -> tuple[nz.TraceIterationRecord, ...]:
        """Return the hyperparameter-search trace of run ``rid``; NotFoundError when it has none."""
        return await self._one(f"run/trace/{rid}", "run/trace", nz.trace_from_json, api_key, request_id)

    async def get_setup(self, sid: int, api_key: str | None = None, request_id: str | None = None) -> SetupRecord:
        """Return setup ``sid`` (``GET /setup/{id}``: singular prefix)."""
        return await self._one(f"setup/{sid}", "setup", nz.setup_from_json, api_key, request_id)

    async def get_setups(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[SetupRecord]:
        """Return setups; v2 has no ``setup/list`` yet, so this fans out single gets."""
        return await self._fan_out(ids, lambda i: self.get_setup(i, api_key, request_id))

    async def get_study(
        self, study: int | str, api_key: str | None = None, request_id: str | None = None,
    ) -> StudyRecord:
        """Return study ``study`` by id or alias (``GET /studies/{id}``); legacy studies are NOT_FOUND (410)."""
        path = f"studies/{quote(str(study), safe='')}"
        return await self._one(path, "studies", nz.study_from_json, api_key, request_id)

    # ------------------------------------------------------------------------------------------ writes

    async def tag(self, entity: str, eid: int, tag: str, api_key: str, *, remove: bool = False) -> TagResultRecord:
        """Tag (or untag) a ``dataset``, ``task`` or ``setup``; returns its tags after the change.

        Raises ValueError for what v2 cannot do (untag a task; tag flows or runs): use v1 for those.
        """
        route = TAG_ROUTES.get((entity, remove))
        if route is None:
            raise ValueError(f"OpenML v2 cannot {'untag' if remove else 'tag'} a {entity}")
        path, field, root = route
        payload = await self._call("POST", path, endpoint=path, api_key=api_key, request_id=None,
                                   body={field: eid, "tag": tag}, idempotent=False)
        return nz.tag_result_from_json(payload, root)


def _task_summary(task: TaskRecord) -> TaskSummaryRecord:
    return TaskSummaryRecord(
        id=task.id, name=task.name or nz.task_name(task.id, None, task.task_type), task_type_id=task.task_type_id,
        task_type=task.task_type, dataset_id=task.dataset_id, dataset_name=None, status=None,
        target_name=task.target_name,
        estimation_procedure_id=task.estimation_procedure.id if task.estimation_procedure else None,
        evaluation_measures=task.evaluation_measures, tags=task.tags,
    )
