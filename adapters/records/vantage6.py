"""vantage6 records: organizations, collaborations, nodes, tasks, runs, results, users, and a page of them.

Times are naive ``datetime`` as vantage6 sends them (no zone is invented); statuses are lower snake case
(``start failed`` -> ``start_failed``); unknown fields of the wire format are kept in ``raw_extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

__all__ = [
    "CollaborationRecord",
    "OrganizationRecord",
    "Vantage6NodeRecord",
    "Vantage6Page",
    "Vantage6ResultRecord",
    "Vantage6RunRecord",
    "Vantage6TaskRecord",
    "Vantage6TokenPair",
    "Vantage6UserRecord",
]

record = dataclass(frozen=True, slots=True, kw_only=True)
T = TypeVar("T")


def _no_extra() -> Mapping[str, Any]:
    return {}


@record
class Vantage6Page(Generic[T]):
    """One page of a vantage6 list.

    ``total`` is the server's ``total-count`` header (None if it sent none); ``has_next`` is True when the
    body's ``links`` hold a ``next`` page. ``page`` and ``per_page`` echo the request.
    """

    items: tuple[T, ...]
    total: int | None
    page: int
    per_page: int
    has_next: bool

    @property
    def has_more(self) -> bool:
        """Same as ``has_next`` (the name the other sources' ``ListPage`` uses)."""
        return self.has_next


@record
class OrganizationRecord:
    """A vantage6 organization; empty strings on the wire are None here."""

    id: int
    name: str
    country: str | None = None
    domain: str | None = None
    address1: str | None = None
    address2: str | None = None
    zipcode: str | None = None
    public_key: str | None = None
    raw_extra: Mapping[str, Any] = field(default_factory=_no_extra)


@record
class CollaborationRecord:
    """A collaboration and the ids of its member organizations (from ``include=organizations``)."""

    id: int
    name: str
    encrypted: bool
    organization_ids: tuple[int, ...] = ()
    raw_extra: Mapping[str, Any] = field(default_factory=_no_extra)


@record
class Vantage6NodeRecord:
    """A node: one organization's agent in one collaboration. ``status`` is ``online`` or ``offline``."""

    id: int
    name: str
    status: str | None
    last_seen_at: datetime | None
    organization_id: int | None
    collaboration_id: int | None
    ip: str | None = None
    raw_extra: Mapping[str, Any] = field(default_factory=_no_extra)


@record
class Vantage6TaskRecord:
    """A task; ``status`` is derived by the server from its runs (lower snake case here).

    ``databases`` holds the labels, in the server's order; ``finished_at`` is only set by the server when
    the task completed.
    """

    id: int
    name: str | None
    description: str | None
    image: str | None
    status: str | None
    created_at: datetime | None
    finished_at: datetime | None
    collaboration_id: int | None
    init_org_id: int | None
    init_user_id: int | None
    job_id: int | None
    parent_id: int | None
    study_id: int | None = None
    databases: tuple[str, ...] = ()
    raw_extra: Mapping[str, Any] = field(default_factory=_no_extra)


@record
class Vantage6RunRecord:
    """One organization's run of a task.

    ``assigned_at`` is kept as sent, but it is unreliable upstream (the server's start time): use the task's
    ``created_at`` as the run's creation time. ``input`` is the backend's base64 string. The run endpoints do
    not send the result: ``result`` (raw base64) and ``result_decoded`` are filled only when the client merged
    the run's result in (``get_runs_for_tasks(..., include_results=True)``). ``result_id`` is the id under
    ``/result`` (the same number as the run id in 4.x).
    """

    id: int
    task_id: int | None
    organization_id: int | None
    node_id: int | None
    status: str | None
    assigned_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    log: str | None
    input: str | None
    result_id: int | None
    result: str | None = None
    result_decoded: Any | None = None
    raw_extra: Mapping[str, Any] = field(default_factory=_no_extra)


@record
class Vantage6ResultRecord:
    """A run's result: the backend's base64 string and, when it is base64 of JSON, the decoded value.

    ``decoded`` is None for a missing, encrypted or binary result (never an error).
    """

    id: int
    run_id: int | None
    task_id: int | None
    result: str | None
    decoded: Any | None = None
    raw_extra: Mapping[str, Any] = field(default_factory=_no_extra)


@record
class Vantage6UserRecord:
    """A user account (what the seeding helpers create and read)."""

    id: int
    username: str
    firstname: str | None
    lastname: str | None
    email: str | None
    organization_id: int | None
    last_seen_at: datetime | None = None
    raw_extra: Mapping[str, Any] = field(default_factory=_no_extra)


@dataclass(frozen=True, slots=True)
class Vantage6TokenPair:
    """The answer of a vantage6 login or refresh; the repr never shows a token."""

    access_token: str
    refresh_token: str | None
    refresh_url: str | None = None
    identity_url: str | None = None

    def __repr__(self) -> str:
        return f"Vantage6TokenPair(identity_url={self.identity_url!r}, refresh={'yes' if self.refresh_token else 'no'})"
