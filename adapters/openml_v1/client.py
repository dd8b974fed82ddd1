"""OpenML v1 XML client: URLs, the api key, and the batch strategy of the legacy PHP API.

Batching (openml-api.md §1.4): ``data/list/data_id``, ``task/list/task_id``, ``run/list/run``,
``setup/list/setup``, ``evaluation/list/run`` and ``user/list/user_id`` take comma-separated ids, chunked
to ``batch_size`` ids per call to stay under URL-length limits (414). Flows have no id filter, so
``get_flows`` fans out single ``flow/{id}`` gets, capped by the HTTP layer's concurrency limit.
Batch methods return ``{id: record | GatewayError}`` so one bad id never fails its neighbours.

The caller's api key is forwarded only when given (a supplied but invalid key fails even public GETs
with code 103, so a placeholder is never sent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote

from adapters.openml_v1 import normalize as nz
from adapters.openml_v1.errors import BACKEND
from adapters.records import (
    DatasetFeatureRecord,
    DatasetQualityRecord,
    DatasetRecord,
    DatasetSummaryRecord,
    EstimationProcedureRecord,
    EvaluationRowRecord,
    FlowRecord,
    FlowSummaryRecord,
    RunRecord,
    RunSummaryRecord,
    SetupRecord,
    StudyRecord,
    TagResultRecord,
    TaskRecord,
    TaskSummaryRecord,
    UserRecord,
)
from gateway.errors import GatewayError, NotFoundError
from gateway.http import BackendHTTP, BackendResponse

__all__ = ["ListQuery", "OpenMLV1Client"]

K = TypeVar("K")
R = TypeVar("R")
Batch = dict[int, R | GatewayError]

TAG_ENTITIES = {"dataset": "data", "task": "task", "flow": "flow", "run": "run", "setup": "setup"}
LIST_PAGE = 10_000  # the most run/list and evaluation/list return in one call


@dataclass(frozen=True, slots=True, kw_only=True)
class ListQuery:
    """Filters of a v1 list call, written as path segment pairs in a fixed order (stable cache keys).

    ``filters`` holds (name, value) pairs; list values are comma-joined ids.
    """

    filters: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def of(**values: str | int | Iterable[int] | None) -> ListQuery:
        """Build a query from keyword filters, skipping None and empty lists."""
        pairs: list[tuple[str, str]] = []
        for name, value in values.items():
            if value is None:
                continue
            if isinstance(value, str | int):
                pairs.append((name, str(value)))
                continue
            ids = sorted({int(v) for v in value})
            if ids:
                pairs.append((name, ",".join(map(str, ids))))
        return ListQuery(filters=tuple(pairs))

    def path(self, limit: int | None = None, offset: int | None = None) -> str:
        """Return the filter segments (``task/31/limit/50/offset/0``), each value percent-encoded."""
        pairs = list(self.filters)
        if limit is not None:
            pairs.append(("limit", str(limit)))
            if offset:
                pairs.append(("offset", str(offset)))
        return "/".join(f"{name}/{quote(value, safe=',.')}" for name, value in pairs)


def _chunks(ids: Sequence[int], size: int) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


class OpenMLV1Client:
    """Typed calls to one OpenML v1 XML server (the API root, e.g. ``https://www.openml.org/api/v1/xml``)."""

    backend = BACKEND

    def __init__(self, http: BackendHTTP, *, batch_size: int = 100) -> None:
        self.http = http
        self.batch_size = max(1, batch_size)

    @property
    def base_url(self) -> str:
        """The API root this client talks to (part of every cache key: ids are per server)."""
        return self.http.base_url

    # ------------------------------------------------------------------------------------------ transport

    async def _call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        api_key: str | None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> bytes:
        """Send one call and return the success body; raise the mapped error or NoResults otherwise."""
        params = {"api_key": api_key} if api_key and form is None else None
        data = None
        if form is not None:
            data = dict(form)
            if api_key:
                data["api_key"] = api_key
        response = await self.http.request(
            method, path, endpoint=endpoint, params=params, data=data, headers=headers, retry_if=_is_overloaded,
        )
        if response.status == 200 and not _is_error_doc(response):
            return response.body
        raise nz.error_from_body(response.body, response.status)

    async def _get(self, path: str, endpoint: str, api_key: str | None, request_id: str | None) -> bytes:
        headers = {"X-Request-Id": request_id} if request_id else None
        return await self._call("GET", path, endpoint=endpoint, api_key=api_key, headers=headers)

    async def _get_list(
        self, path: str, endpoint: str, parse: Callable[[bytes], tuple[R, ...]], api_key: str | None,
        request_id: str | None,
    ) -> tuple[R, ...]:
        try:
            return parse(await self._get(path, endpoint, api_key, request_id))
        except nz.NoResults:
            return ()

    async def _one(
        self, path: str, endpoint: str, parse: Callable[[bytes], R], api_key: str | None, request_id: str | None,
    ) -> R:
        try:
            return parse(await self._get(path, endpoint, api_key, request_id))
        except nz.NoResults as exc:
            raise NotFoundError(f"OpenML has no {endpoint} here.", backend=BACKEND, backend_code=exc.code) from exc

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

    async def _batched(
        self, ids: Sequence[int], make_path: Callable[[str], str], endpoint: str,
        parse: Callable[[bytes], tuple[R, ...]], key: Callable[[R], int], api_key: str | None,
        request_id: str | None,
    ) -> dict[int, R]:
        chunks = _chunks(ids, self.batch_size)
        pages = await asyncio.gather(*(
            self._get_list(make_path(",".join(map(str, chunk))), endpoint, parse, api_key, request_id)
            for chunk in chunks
        ))
        return {key(row): row for page in pages for row in page}

    # ------------------------------------------------------------------------------------------ datasets

    async def get_dataset(self, did: int, api_key: str | None = None, request_id: str | None = None) -> DatasetRecord:
        """Return the full description of dataset ``did`` (``data/{id}``); NotFoundError if unknown."""
        return await self._one(f"data/{did}", "data", nz.dataset_from_xml, api_key, request_id)

    async def get_datasets(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[DatasetSummaryRecord]:
        """Return summaries of ``ids`` via ``data/list/data_id/...``; ids the list omits (private,
        unknown) are fetched one by one so each gets its own record or error."""
        found: Batch[DatasetSummaryRecord] = dict(await self._batched(
            ids, lambda csv: f"data/list/data_id/{csv}/status/all", "data/list", nz.dataset_list_from_xml,
            lambda d: d.id, api_key, request_id,
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
        return await self._get_list(f"data/features/{did}", "data/features", nz.features_from_xml, api_key, request_id)

    async def get_dataset_qualities(
        self, did: int, api_key: str | None = None, request_id: str | None = None,
    ) -> tuple[DatasetQualityRecord, ...]:
        """Return the qualities of dataset ``did``; () when not processed or none."""
        return await self._get_list(f"data/qualities/{did}", "data/qualities", nz.qualities_from_xml, api_key,
                                    request_id)

    async def list_datasets(
        self, query: ListQuery, limit: int, offset: int = 0, api_key: str | None = None,
        request_id: str | None = None,
    ) -> tuple[DatasetSummaryRecord, ...]:
        """Return one page of ``data/list`` rows (server order); () for "no results"."""
        return await self._get_list(
            f"data/list/{query.path(limit, offset)}", "data/list", nz.dataset_list_from_xml, api_key, request_id
        )

    # ------------------------------------------------------------------------------------------ tasks

    async def get_task(self, tid: int, api_key: str | None = None, request_id: str | None = None) -> TaskRecord:
        """Return the full task ``tid`` (``task/{id}``)."""
        return await self._one(f"task/{tid}", "task", nz.task_from_xml, api_key, request_id)

    async def get_tasks(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[TaskSummaryRecord]:
        """Return task summaries via ``task/list/task_id/.../status/all``; omitted ids are NOT_FOUND."""
        found: Batch[TaskSummaryRecord] = dict(await self._batched(
            ids, lambda csv: f"task/list/task_id/{csv}/status/all", "task/list", nz.task_list_from_xml,
            lambda t: t.id, api_key, request_id,
        ))
        missing = [i for i in set(ids) if i not in found]
        if missing:  # private or otherwise unlisted: ask one by one so each gets its own answer
            full = await self._fan_out(missing, lambda i: self.get_task(i, api_key, request_id))
            for key, value in full.items():
                found[key] = value if isinstance(value, GatewayError) else _task_summary(value)
        return found

    async def list_tasks(
        self, query: ListQuery, limit: int, offset: int = 0, api_key: str | None = None,
        request_id: str | None = None,
    ) -> tuple[TaskSummaryRecord, ...]:
        """Return one page of ``task/list`` rows; () for "no results"."""
        return await self._get_list(
            f"task/list/{query.path(limit, offset)}", "task/list", nz.task_list_from_xml, api_key, request_id
        )

    async def list_estimation_procedures(
        self, api_key: str | None = None, request_id: str | None = None,
    ) -> tuple[EstimationProcedureRecord, ...]:
        """Return every estimation procedure the server knows."""
        return await self._get_list(
            "estimationprocedure/list", "estimationprocedure/list", nz.estimation_procedures_from_xml, api_key,
            request_id,
        )

    # ------------------------------------------------------------------------------------------ flows

    async def get_flow(self, fid: int, api_key: str | None = None, request_id: str | None = None) -> FlowRecord:
        """Return the full flow ``fid`` with its components (``flow/{id}``)."""
        return await self._one(f"flow/{fid}", "flow", nz.flow_from_xml, api_key, request_id)

    async def get_flows(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[FlowRecord]:
        """Return full flows; v1 has no flow id filter, so this fans out concurrently."""
        return await self._fan_out(ids, lambda i: self.get_flow(i, api_key, request_id))

    async def list_flows(
        self, query: ListQuery, limit: int, offset: int = 0, api_key: str | None = None,
        request_id: str | None = None,
    ) -> tuple[FlowSummaryRecord, ...]:
        """Return one page of ``flow/list`` rows; () for "no results" (code 500)."""
        return await self._get_list(
            f"flow/list/{query.path(limit, offset)}", "flow/list", nz.flow_list_from_xml, api_key, request_id
        )

    # ------------------------------------------------------------------------------------------ runs

    async def get_run(self, rid: int, api_key: str | None = None, request_id: str | None = None) -> RunRecord:
        """Return the full run ``rid`` (``run/{id}``)."""
        return await self._one(f"run/{rid}", "run", nz.run_from_xml, api_key, request_id)

    async def get_runs(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[RunSummaryRecord]:
        """Return run summaries via ``run/list/run/.../show_errors/true``; omitted ids are NOT_FOUND."""
        found = await self._batched(
            ids, lambda csv: f"run/list/run/{csv}/show_errors/true", "run/list", nz.run_list_from_xml,
            lambda r: r.id, api_key, request_id,
        )
        return {i: found.get(i) or _not_found("run", i) for i in set(ids)}

    async def list_runs(
        self, query: ListQuery, limit: int, offset: int = 0, api_key: str | None = None,
        request_id: str | None = None,
    ) -> tuple[RunSummaryRecord, ...]:
        """Return one page of ``run/list`` rows; () for "no results"."""
        return await self._get_list(
            f"run/list/{query.path(limit, offset)}", "run/list", nz.run_list_from_xml, api_key, request_id
        )

    async def get_evaluations(
        self, run_ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
        *, measure: str | None = None,
    ) -> dict[int, tuple[EvaluationRowRecord, ...]]:
        """Return every aggregate evaluation of each run via ``evaluation/list/run/...``; with ``measure``,
        only that measure's (``evaluation/list/function/<measure>/run/...``: one row per run, not one per
        measure)."""
        rows: dict[int, list[EvaluationRowRecord]] = {i: [] for i in set(run_ids)}
        chunks = _chunks(run_ids, self.batch_size)
        pages = await asyncio.gather(*(
            self.list_evaluations(ListQuery.of(function=measure, run=chunk), limit=LIST_PAGE, api_key=api_key,
                                  request_id=request_id)
            for chunk in chunks
        ))
        for page in pages:
            for row in page:
                rows.setdefault(row.run_id, []).append(row)
        return {key: tuple(value) for key, value in rows.items()}

    async def list_evaluations(
        self, query: ListQuery, limit: int, offset: int = 0, api_key: str | None = None,
        request_id: str | None = None,
    ) -> tuple[EvaluationRowRecord, ...]:
        """Return one page of ``evaluation/list`` rows; () for "no results"."""
        return await self._get_list(
            f"evaluation/list/{query.path(limit, offset)}", "evaluation/list", nz.evaluation_list_from_xml,
            api_key, request_id,
        )

    # ------------------------------------------------------------------------------------------ setups, users

    async def get_setups(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[SetupRecord]:
        """Return setups via ``setup/list/setup/...`` (≤1000 per call); omitted ids are NOT_FOUND."""
        found = await self._batched(
            ids, lambda csv: f"setup/list/setup/{csv}/limit/1000", "setup/list", nz.setup_list_from_xml,
            lambda s: s.id, api_key, request_id,
        )
        return {i: found.get(i) or _not_found("setup", i) for i in set(ids)}

    async def get_setup(self, sid: int, api_key: str | None = None, request_id: str | None = None) -> SetupRecord:
        """Return setup ``sid`` (``setup/{id}``)."""
        return await self._one(f"setup/{sid}", "setup", nz.setup_from_xml, api_key, request_id)

    async def get_users(
        self, ids: Sequence[int], api_key: str | None = None, request_id: str | None = None,
    ) -> Batch[UserRecord]:
        """Return user names via ``user/list/user_id/...``; unknown ids get a record without a name."""
        found = await self._batched(
            ids, lambda csv: f"user/list/user_id/{csv}", "user/list", nz.users_from_xml, lambda u: u.id,
            api_key, request_id,
        )
        return {i: found.get(i) or UserRecord(id=i, name=None) for i in set(ids)}

    async def get_study(self, study: int, api_key: str | None = None, request_id: str | None = None) -> StudyRecord:
        """Return study ``study`` (``study/{id}``)."""
        return await self._one(f"study/{study}", "study", nz.study_from_xml, api_key, request_id)

    # ------------------------------------------------------------------------------------------ writes

    async def tag(self, entity: str, eid: int, tag: str, api_key: str, *, remove: bool = False) -> TagResultRecord:
        """Tag (or untag) an entity (``dataset``, ``task``, ``flow``, ``run``, ``setup``); returns its tags."""
        wire = TAG_ENTITIES[entity]
        action = "untag" if remove else "tag"
        body = await self._call(
            "POST", f"{wire}/{action}", endpoint=f"{wire}/{action}", api_key=api_key,
            form={f"{wire}_id": str(eid), "tag": tag},
        )
        return nz.tag_result_from_xml(body, wire, action)

    async def delete(self, entity: str, eid: int, api_key: str) -> int:
        """Delete an entity; returns the deleted id."""
        wire = TAG_ENTITIES[entity]
        body = await self._call("DELETE", f"{wire}/{eid}", endpoint=f"{wire}/delete", api_key=api_key)
        return nz.delete_from_xml(body, wire)


def _task_summary(task: TaskRecord) -> TaskSummaryRecord:
    return TaskSummaryRecord(
        id=task.id, name=task.name or nz.task_name(task.id, None, task.task_type), task_type_id=task.task_type_id,
        task_type=task.task_type, dataset_id=task.dataset_id, dataset_name=None, status=None,
        target_name=task.target_name,
        estimation_procedure_id=task.estimation_procedure.id if task.estimation_procedure else None,
        evaluation_measures=task.evaluation_measures, tags=task.tags,
    )


def _not_found(kind: str, native: int) -> NotFoundError:
    return NotFoundError(f"OpenML has no {kind} with id {native}.", backend=BACKEND)


def _is_error_doc(response: BackendResponse) -> bool:
    head = response.body[:200].lstrip()
    return head.startswith(b"<oml:error")


def _is_overloaded(response: BackendResponse) -> bool:
    """OpenML's code 107 (database connection / overload) is worth a retry with backoff."""
    if response.status not in (412, 200):
        return False
    head = response.body[:300]
    return b"<oml:error" in head and b"<oml:code>107</oml:code>" in head

