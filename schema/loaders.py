"""Per-request dataloaders: one aiodataloader DataLoader per (backend, entity), built in ``get_context``.

Each batch function turns N keys into as few adapter calls as the backend allows and goes through the
shared record cache first (hits, coalesced in-flight keys, then one fetch for the rest). Loaders are
made per request, so nothing in them crosses callers; what is shared is the cache, whose keys carry
the backend URL and a hash of the caller's credential.
"""

from __future__ import annotations

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
from schema.keyed import KeyedLoader, each

__all__ = ["ListQuery", "Loaders", "OpenMLLoaders"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

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
                 max_batch: int | None = None) -> KeyedLoader[Any, Any]:
            return KeyedLoader(kind=kind, cache=cache, base_url=base, scope=self._scope, fetch=self._guard(fetch),
                               ttl=ttl, batching=batching, max_batch_size=max_batch)

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
            "flow": ("flow",), "run": ("run", "run-summary", "evaluations"), "setup": ("setup",),
        }[kind]
        await self._cache.invalidate_entity(self._base, kinds, native)
        for loader in (self.dataset, self.dataset_summary, self.features, self.qualities, self.task,
                       self.task_summary, self.flow, self.run, self.run_summary, self.evaluations, self.setup):
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

