"""Per-request dataloaders: one aiodataloader DataLoader per (backend, entity), built in ``get_context``.

Each batch function turns N keys into as few adapter calls as the backend allows and goes through the
shared record cache first (hits, coalesced in-flight keys, then one fetch for the rest). Loaders are
made per request, so nothing in them crosses callers; what is shared is the cache, whose keys carry
the backend URL and a hash of the caller's credential.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from adapters.openml_v1.client import LIST_PAGE, ListQuery, OpenMLV1Client
from adapters.records import (
    DatasetFeatureRecord,
    DatasetQualityRecord,
    DatasetRecord,
    DatasetSummaryRecord,
    EstimationProcedureRecord,
    EvaluationRowRecord,
    FlowRecord,
    RunRecord,
    RunSummaryRecord,
    SetupRecord,
    TaskRecord,
    TaskSummaryRecord,
    UserRecord,
)
from gateway.cache import RecordCache, credential_scope
from gateway.errors import BackendUnavailableError, BadUserInputError, GatewayError
from gateway.settings import Settings
from schema.keyed import KeyedLoader, MaybeAwaitable, QualifiedLoader, each

__all__ = ["ListQuery", "Loaders", "OpenMLLoaders"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
A = TypeVar("A")

SCAN_PAGE = {"run/list": LIST_PAGE, "evaluation/list": LIST_PAGE, "setup/list": 1000}


class _Unconfigured:
    """Stands in for a backend that has no URL: every load fails with BACKEND_UNAVAILABLE."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def error(self) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"The {self.backend} backend is not configured on this gateway.", backend=self.backend
        )


class OpenMLLoaders:
    """The OpenML v1 loaders of one request."""

    def __init__(
        self,
        client: OpenMLV1Client | None,
        cache: RecordCache,
        settings: Settings,
        *,
        caller_key: str | None,
        request_id: str | None,
        v2: Any = None,
    ) -> None:
        self.client = client
        self._v2 = v2  # an OpenMLV2Client serving the resources named in settings.openml_v2_resources
        resources = (settings.openml_v2_resources or "").split(",")
        self._v2_resources = frozenset(r.strip() for r in resources if r.strip())
        self.unconfigured = _Unconfigured("openml") if client is None else None
        self.api_key = caller_key or settings.openml.token
        self.request_id = request_id
        self.settings = settings
        self._cache = cache
        self._scope = credential_scope(caller_key)
        base = client.base_url if client is not None else "openml:unconfigured"
        self._base = base
        batching = settings.dataloaders
        mutable, immutable = settings.cache_ttl, settings.cache_ttl_immutable

        def make(kind: str, fetch: Callable[[list[Any]], Awaitable[Mapping[Any, Any]]], ttl: float,
                 max_batch: int | None = None, loader: type[KeyedLoader[Any, Any]] = KeyedLoader) -> Any:
            return loader(kind=kind, cache=cache, base_url=base, scope=self._scope, fetch=self._guard(fetch),
                          ttl=ttl, batching=batching, max_batch_size=max_batch)

        # What this request's fields asked for, so the batch functions below pick the fewest calls.
        self._measures_of: dict[int, set[str]] = {}  # run -> measures asked one by one (evaluation(measure:))
        self._all_measures_of: set[int] = set()  # runs whose whole evaluation list is asked (evaluations)
        self._flow_via_run: dict[int, int] = {}  # flow -> a run of it this request reached the flow through

        self.dataset_summary: KeyedLoader[int, DatasetSummaryRecord] = make(
            "dataset-summary", lambda ids: self._for("datasets").get_datasets(ids, self.api_key, request_id), mutable)
        self.dataset: KeyedLoader[int, DatasetRecord] = make(
            "dataset", lambda ids: self._single(ids, self._for("datasets").get_dataset), mutable)
        self.features: KeyedLoader[int, tuple[DatasetFeatureRecord, ...]] = make(
            "features", lambda ids: self._single(ids, self._for("datasets").get_dataset_features), immutable)
        self.qualities: KeyedLoader[int, tuple[DatasetQualityRecord, ...]] = make(
            "qualities", lambda ids: self._single(ids, self._for("datasets").get_dataset_qualities), mutable)
        self.task_summary: KeyedLoader[int, TaskSummaryRecord] = make(
            "task-summary", lambda ids: self._for("tasks").get_tasks(ids, self.api_key, request_id), mutable)
        self.task: KeyedLoader[int, TaskRecord] = make(
            "task", lambda ids: self._single(ids, self._for("tasks").get_task), mutable)
        self.flow: KeyedLoader[int, FlowRecord] = make(
            "flow", lambda ids: self._for("flows").get_flows(ids, self.api_key, request_id), immutable)
        self.run_summary: KeyedLoader[int, RunSummaryRecord] = make(
            "run-summary", lambda ids: self._c.get_runs(ids, self.api_key, request_id), mutable)
        self.run: KeyedLoader[int, RunRecord] = make(
            "run", lambda ids: self._single(ids, self._c.get_run), mutable)
        self.evaluations: KeyedLoader[int, tuple[EvaluationRowRecord, ...]] = make(
            "evaluations", lambda ids: self._c.get_evaluations(ids, self.api_key, request_id), mutable)
        self.evaluation: QualifiedLoader[tuple[EvaluationRowRecord, ...]] = make(
            "evaluation", self._measured, mutable, loader=QualifiedLoader)
        self.flow_name: KeyedLoader[int, tuple[str | None, str]] = make("flow-name", self._flow_names, immutable)
        self.setup: KeyedLoader[int, SetupRecord] = make(
            "setup", lambda ids: self._c.get_setups(ids, self.api_key, request_id), immutable, 1000)
        self.user: KeyedLoader[int, UserRecord] = make(
            "user", lambda ids: self._c.get_users(ids, self.api_key, request_id), immutable)
        self.procedures: KeyedLoader[str, dict[int, EstimationProcedureRecord]] = make(
            "procedures", lambda keys: self._procedures(keys), immutable)
        self.scans: KeyedLoader[tuple[str, ListQuery], tuple[Any, ...]] = make(
            "scan", lambda keys: self._scans(keys), mutable)
        self.pages: KeyedLoader[tuple[str, ListQuery, int, int], tuple[Any, ...]] = make(
            "page", lambda keys: self._pages(keys), mutable)

    @property
    def _c(self) -> OpenMLV1Client:
        assert self.client is not None  # _guard answers for an unconfigured backend first
        return self.client

    def configured_client(self) -> OpenMLV1Client:
        """The client, for calls outside the loaders (mutations); BACKEND_UNAVAILABLE without an OpenML URL."""
        if self.unconfigured is not None:
            raise self.unconfigured.error()
        return self._c

    def _guard(
        self, fetch: Callable[[list[Any]], Awaitable[Mapping[Any, Any]]]
    ) -> Callable[[list[Any]], Awaitable[Mapping[Any, Any]]]:
        async def guarded(keys: list[Any]) -> Mapping[Any, Any]:
            if self.unconfigured is not None:
                error = self.unconfigured.error()
                return dict.fromkeys(keys, error)
            try:
                return await fetch(keys)
            except GatewayError as exc:  # a failed batch call fails every key of it
                return dict.fromkeys(keys, exc)

        return guarded

    def _for(self, resource: str) -> Any:
        """The client that serves ``resource``: OpenML v2 where settings select it, else v1."""
        if self._v2 is not None and resource in self._v2_resources:
            return self._v2
        return self._c

    async def _single(self, ids: list[int], get: Callable[..., Awaitable[V]]) -> dict[int, V | GatewayError]:
        return await each(sorted(set(ids)), lambda i: get(i, self.api_key, self.request_id))

    def run_evaluations(self, run: int, fn: Callable[[tuple[EvaluationRowRecord, ...]], MaybeAwaitable[A]],
                        ) -> MaybeAwaitable[A]:
        """``fn`` of every aggregate evaluation row of ``run`` (``evaluation/list/run/...``, batched)."""
        self._all_measures_of.add(run)
        return self.evaluations.get(run, fn)

    def want_evaluations(self, run: int) -> asyncio.Future[Any] | None:
        """Look-ahead for ``run_evaluations``."""
        self._all_measures_of.add(run)
        return self.evaluations.want(run)

    def run_measure(self, run: int, measure: str,
                    fn: Callable[[tuple[EvaluationRowRecord, ...]], MaybeAwaitable[A]]) -> MaybeAwaitable[A]:
        """``fn`` of the rows of one measure of ``run`` (none or one): from the run's whole evaluation list when
        known, else batched per measure (``evaluation/list/function/<measure>/run/...``, a row per run)."""
        hit, rows = self.evaluations.peek(run)
        if hit and not isinstance(rows, BaseException):
            return fn(tuple(r for r in rows or () if r.function == measure))
        self._measured_alone(run, measure)
        return self.evaluation.get((run, measure), fn)

    def prime_measure(self, row: EvaluationRowRecord) -> None:
        """Seed ``run_measure`` with a row a list call already returned (runs ordered by that measure)."""
        self._measured_alone(row.run_id, row.function)
        self.evaluation.prime((row.run_id, row.function), (row,))

    def want_measure(self, run: int, measure: str) -> asyncio.Future[Any] | None:
        """Look-ahead for ``run_measure``."""
        if self.evaluations.peek(run)[0]:
            return None
        self._measured_alone(run, measure)
        return self.evaluation.want((run, measure))

    def _measured_alone(self, run: int, measure: str) -> None:
        """Note that ``measure`` of ``run`` is asked alone: flow names can then come from that row."""
        self._measures_of.setdefault(run, set()).add(measure)

    def flow_name_via(self, flow: int, run: int, fn: Callable[[tuple[str | None, str]], MaybeAwaitable[A]],
                      ) -> MaybeAwaitable[A]:
        """``fn((name, version))`` of ``flow``, reached through ``run``: from that run's evaluation rows, which
        this request loads anyway (they name the flow), else from ``flow/{id}``."""
        self._flow_via_run.setdefault(flow, run)
        return self.flow_name.get(flow, fn)

    def want_flow_name(self, flow: int, run: int) -> asyncio.Future[Any] | None:
        """Look-ahead for ``flow_name_via``."""
        if self.flow.peek(flow)[0]:
            return None
        self._flow_via_run.setdefault(flow, run)
        return self.flow_name.want(flow)

    async def _measured(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], Any]:
        whole = frozenset(run for run, _ in keys if run in self._all_measures_of)
        by_measure: dict[str, list[int]] = {}
        for run, measure in keys:
            if run not in whole:
                by_measure.setdefault(measure, []).append(run)

        async def rows(group: str | None) -> Mapping[int, tuple[EvaluationRowRecord, ...]]:
            if group is None:  # the runs' whole lists are loaded for a sibling field anyway
                runs = sorted(whole)
                return dict(zip(runs, await self.evaluations.load_many(runs), strict=True))
            return await self._c.get_evaluations(by_measure[group], self.api_key, self.request_id, measure=group)

        got = await each(([None] if whole else []) + sorted(by_measure), rows)
        out: dict[tuple[int, str], Any] = {}
        for run, measure in keys:
            found = got[None if run in whole else measure]
            out[(run, measure)] = found if isinstance(found, GatewayError) else tuple(
                r for r in found.get(run, ()) if r.function == measure)
        return out

    async def _flow_names(self, flows: list[int]) -> dict[int, Any]:
        # a flow whose full record this request loads anyway (another field of it) is named by that record
        via = {flow: self._flow_via_run[flow] for flow in flows
               if flow in self._flow_via_run and not self.flow.asked(flow)}

        async def rows(run: int) -> tuple[EvaluationRowRecord, ...]:
            measures = self._measures_of.get(run)
            if run in self._all_measures_of or not measures:
                return await self.evaluations.load(run)
            return await self.evaluation.load((run, min(measures)))

        by_run = await each(sorted(set(via.values())), rows)
        out: dict[int, Any] = {}
        for flow, run in via.items():
            found = by_run[run]
            named: tuple[str, str] | None = None
            if not isinstance(found, GatewayError):
                named = next((n for r in found if r.flow_id == flow and (n := r.flow_name_and_version())), None)
            if named is not None:
                out[flow] = named
        records = await each([flow for flow in flows if flow not in out], self.flow.load)
        for flow, record in records.items():
            out[flow] = record if isinstance(record, GatewayError) else (record.name, record.version or "")
        return out

    async def _procedures(self, keys: list[str]) -> dict[str, dict[int, EstimationProcedureRecord]]:
        rows = await self._for("tasks").list_estimation_procedures(self.api_key, self.request_id)
        table = {p.id: p for p in rows if p.id is not None}
        return dict.fromkeys(keys, table)

    async def _scans(self, keys: list[tuple[str, ListQuery]]) -> dict[tuple[str, ListQuery], Any]:
        return await each(keys, lambda key: self._scan(*key))

    async def _scan(self, endpoint: str, query: ListQuery) -> tuple[Any, ...]:
        """Read every row of a list in pages (the v1 API has no ORDER BY and no count)."""
        page_size = SCAN_PAGE.get(endpoint, LIST_PAGE)
        lister = self._lister(endpoint)
        rows: list[Any] = []
        offset = 0
        while True:
            page = await lister(query, page_size, offset, self.api_key, self.request_id)
            rows.extend(page)
            if len(page) < page_size:
                return tuple(rows)
            offset += page_size
            if offset >= self.settings.list_scan_max:
                raise BadUserInputError(
                    f"This OpenML list has more than {self.settings.list_scan_max} rows; narrow the filter.",
                    backend="openml",
                )

    async def _pages(self, keys: list[tuple[str, ListQuery, int, int]]) -> dict[tuple[str, ListQuery, int, int], Any]:
        return await each(keys, lambda key: self._lister(key[0])(key[1], key[2], key[3], self.api_key, self.request_id))

    def _lister(self, endpoint: str) -> Callable[..., Awaitable[tuple[Any, ...]]]:
        listers: dict[str, Callable[..., Awaitable[tuple[Any, ...]]]] = {
            "data/list": self._c.list_datasets,
            "task/list": self._c.list_tasks,
            "flow/list": self._c.list_flows,
            "run/list": self._c.list_runs,
            "evaluation/list": self._c.list_evaluations,
        }
        return listers[endpoint]

    async def scan(self, endpoint: str, query: ListQuery) -> tuple[Any, ...]:
        """Return every row of a list call (cached briefly; one scan per request and query)."""
        return await self.scans.load((endpoint, query))

    async def page(self, endpoint: str, query: ListQuery, limit: int, offset: int) -> tuple[Any, ...]:
        """Return one server-ordered page of a list call."""
        return await self.pages.load((endpoint, query, limit, offset))

    def prime_summaries(self, rows: Sequence[Any]) -> None:
        """Seed the summary loaders with list rows, so fields of listed entities cost no call."""
        for row in rows:
            if isinstance(row, RunSummaryRecord):
                self.run_summary.prime(row.id, row)
            elif isinstance(row, TaskSummaryRecord):
                self.task_summary.prime(row.id, row)
            elif isinstance(row, DatasetSummaryRecord):
                self.dataset_summary.prime(row.id, row)

    def prime_flow(self, flow: FlowRecord) -> None:
        """Seed the flow loader with a flow and its nested subflows (complete records)."""
        for item in flow.walk():
            self.flow.prime(item.id, item)

    async def invalidate(self, kind: str, native: int) -> None:
        """Forget one entity (every record kind it has, every credential scope) and every cached list of this
        backend: in this request's loaders, in the shared cache, and on every other replica."""
        kinds = {
            "dataset": ("dataset", "dataset-summary", "features", "qualities"), "task": ("task", "task-summary"),
            "flow": ("flow", "flow-name"), "run": ("run", "run-summary", "evaluations", "evaluation"),
            "setup": ("setup",),
        }[kind]
        await self._cache.invalidate_entity(self._base, kinds, native)
        for loader in (self.dataset, self.dataset_summary, self.features, self.qualities, self.task,
                       self.task_summary, self.flow, self.flow_name, self.run, self.run_summary, self.evaluations,
                       self.evaluation, self.setup):
            if loader.kind in kinds:
                loader.forget(native)
        self.scans.forget_all()
        self.pages.forget_all()


class Loaders:
    """Every loader of one request, grouped by backend."""

    def __init__(self, openml: OpenMLLoaders, mlte: Any = None, pytupli: Any = None, vantage6: Any = None) -> None:
        self.openml = openml
        self.mlte = mlte
        self.pytupli = pytupli
        self.vantage6 = vantage6

