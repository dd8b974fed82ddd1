"""vantage6 loaders of one request: organizations (one ``ids`` call), collaborations, nodes, tasks, and the runs
of many tasks at once (a newest-first scan of ``/run`` and ``/result``, so calls never grow with runs)."""

from __future__ import annotations

from typing import Any

from adapters.records.vantage6 import (
    CollaborationRecord,
    OrganizationRecord,
    Vantage6NodeRecord,
    Vantage6RunRecord,
    Vantage6TaskRecord,
)
from adapters.vantage6.client import Vantage6Client
from gateway.cache import RecordCache
from gateway.settings import Settings
from schema.keyed import KeyedLoader, each
from schema.loaders_json import SourceLoaders

__all__ = ["Vantage6Loaders"]

SCAN_PAGE = 500
SCAN_PAGES = 20


class Vantage6Loaders(SourceLoaders):
    """Per-request vantage6 loaders; whole lists are read in pages of 500 (bounded) and cached briefly."""

    backend = "vantage6"

    def __init__(self, client: Vantage6Client | None, cache: RecordCache, settings: Settings, *,
                 caller_token: str | None) -> None:
        super().__init__(client, cache, settings, caller_token=caller_token)
        self.organization: KeyedLoader[int, OrganizationRecord] = self.make(
            "organization", lambda ids: self.client.get_organizations(ids, self.token))
        self.collaboration: KeyedLoader[int, CollaborationRecord] = self.make(
            "collaboration", lambda ids: self.client.get_collaborations(ids, self.token))
        self.node: KeyedLoader[int, Vantage6NodeRecord] = self.make(
            "node", lambda ids: self.client.get_nodes(ids, self.token))
        self.task: KeyedLoader[int, Vantage6TaskRecord] = self.make(
            "task", lambda ids: self.client.get_tasks(ids, self.token))
        self.run: KeyedLoader[int, Vantage6RunRecord] = self.make("run", self._runs_by_id)
        self.runs_of_task: KeyedLoader[int, tuple[Vantage6RunRecord, ...]] = self.make("task-runs", self._runs_of)
        self.all_tasks: KeyedLoader[str, tuple[Vantage6TaskRecord, ...]] = self.listing(
            "tasks", lambda key: self._scan(self.client.list_tasks, **dict(key)))
        self.all_runs: KeyedLoader[str, tuple[Vantage6RunRecord, ...]] = self.listing(
            "runs", lambda _key: self._scan(self.client.list_runs))
        self.collaborations: KeyedLoader[Any, tuple[CollaborationRecord, ...]] = self.listing(
            "collaborations", lambda key: self._scan(self.client.list_collaborations, **dict(key)))
        self.organizations: KeyedLoader[Any, tuple[OrganizationRecord, ...]] = self.listing(
            "organizations", lambda key: self._scan(self.client.list_organizations, **dict(key)))
        self.nodes: KeyedLoader[Any, tuple[Vantage6NodeRecord, ...]] = self.listing(
            "nodes", lambda key: self._scan(self.client.list_nodes, **dict(key)))

    async def _scan(self, lister: Any, **filters: Any) -> tuple[Any, ...]:
        rows: list[Any] = []
        for page in range(1, SCAN_PAGES + 1):
            got = await lister(page, SCAN_PAGE, self.token, **filters)
            rows.extend(got.items)
            if not got.has_next:
                break
        return tuple(rows)

    async def _runs_of(self, task_ids: list[int]) -> dict[int, Any]:
        # tasks already known in this request narrow the scan to their collaboration
        collaboration_of: dict[int, int | None] = {}
        for task_id in task_ids:
            hit, record = self.task.peek(task_id)
            if hit and isinstance(record, Vantage6TaskRecord):
                collaboration_of[task_id] = record.collaboration_id
        found = await self.client.get_runs_for_tasks(
            task_ids, self.token, collaboration_of=collaboration_of or None, include_results=True)
        return dict(found)

    async def _runs_by_id(self, run_ids: list[int]) -> dict[int, Any]:
        return await each(run_ids, lambda i: self.client.get_run(i, self.token))
