"""Administration and node-side calls on top of ``Vantage6Client``: what seeding and tests need.

Creating organizations, collaborations, nodes and users needs an administrator's token (root's); a node
logs in with its api key (``POST /token/node``) and finishes its runs with ``PATCH /run/<id>``, which
vantage6 accepts only from node tokens and only with microsecond timestamps (``%Y-%m-%dT%H:%M:%S.%f``;
without them the server answers 500). These calls are never retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.records.vantage6 import (
    CollaborationRecord,
    OrganizationRecord,
    Vantage6NodeRecord,
    Vantage6RunRecord,
    Vantage6TokenPair,
    Vantage6UserRecord,
)
from adapters.vantage6 import normalize as nz
from adapters.vantage6.client import Vantage6Client, encode_input
from adapters.vantage6.errors import BACKEND
from gateway.errors import BackendError

__all__ = ["RUN_TIME_FORMAT", "Vantage6Admin", "run_time"]

RUN_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def run_time(value: datetime | str) -> str:
    """A run timestamp as ``PATCH /run`` needs it (always with microseconds)."""
    return value.strftime(RUN_TIME_FORMAT) if isinstance(value, datetime) else value


class Vantage6Admin:
    """Seeding and node helpers; every method takes the token to act with (root's, or a node's)."""

    def __init__(self, client: Vantage6Client) -> None:
        self.client = client

    async def create_organization(
        self, name: str, *, credential: str, country: str | None = None, domain: str | None = None,
        address1: str | None = None, zipcode: str | None = None,
    ) -> OrganizationRecord:
        """``POST /organization`` (201). BadUserInputError for a duplicate name."""
        body = {"name": name, **_given(country=country, domain=domain, address1=address1, zipcode=zipcode)}
        answer = await self.client.request_json("POST", "organization", endpoint="organization/create",
                                                credential=credential, json=body)
        return nz.organization_from_json(answer)

    async def create_collaboration(
        self, name: str, organization_ids: Sequence[int], *, credential: str, encrypted: bool = False,
    ) -> CollaborationRecord:
        """``POST /collaboration`` (vantage6 answers 200, and silently drops unknown organization ids);
        the answer links to its organizations, so ``organization_ids`` is () here."""
        body = {"name": name, "organization_ids": list(organization_ids), "encrypted": encrypted}
        answer = await self.client.request_json("POST", "collaboration", endpoint="collaboration/create",
                                                credential=credential, json=body)
        return nz.collaboration_from_json(answer)

    async def create_node(
        self, collaboration_id: int, organization_id: int, *, credential: str, name: str | None = None,
    ) -> tuple[Vantage6NodeRecord, str]:
        """``POST /node`` (201): the node and its api key, which vantage6 shows only in this answer.
        BadUserInputError for a second node of the same organization in the collaboration."""
        body: dict[str, Any] = {"collaboration_id": collaboration_id, "organization_id": organization_id}
        if name is not None:
            body["name"] = name
        answer = await self.client.request_json("POST", "node", endpoint="node/create", credential=credential,
                                                json=body)
        api_key = answer.get("api_key") if isinstance(answer, dict) else None
        if not isinstance(api_key, str):
            raise BackendError("The vantage6 backend created a node without an api_key.", backend=BACKEND)
        return nz.node_from_json(answer), api_key

    async def create_user(
        self, username: str, password: str, *, credential: str, firstname: str, lastname: str, email: str,
        organization_id: int, roles: Sequence[int] = (),
    ) -> Vantage6UserRecord:
        """``POST /user`` (201). ``firstname``/``lastname`` are required here because vantage6 answers 500
        without them; a weak password is BadUserInputError (8+ characters, mixed case, digits, symbols)."""
        body = {"username": username, "password": password, "firstname": firstname, "lastname": lastname,
                "email": email, "organization_id": organization_id, "roles": list(roles)}
        answer = await self.client.request_json("POST", "user", endpoint="user/create", credential=credential,
                                                json=body)
        return nz.user_from_json(answer)

    async def get_user(self, user_id: int, *, credential: str) -> Vantage6UserRecord:
        """``GET /user/<id>``."""
        answer = await self.client.request_json("GET", f"user/{user_id}", endpoint="user", credential=credential)
        return nz.user_from_json(answer)

    async def node_login(self, api_key: str) -> Vantage6TokenPair:
        """``POST /token/node {api_key}``: the node's tokens; UnauthenticatedError for an unknown key."""
        answer = await self.client.request_json("POST", "token/node", endpoint="token/node", credential=None,
                                                json={"api_key": api_key}, anonymous=True)
        return nz.token_pair_from_json(answer)

    async def patch_run(
        self, run_id: int, *, node_token: str, status: str | None = None, started_at: datetime | str | None = None,
        finished_at: datetime | str | None = None, log: str | None = None, result: Any = None,
    ) -> Vantage6RunRecord:
        """``PATCH /run/<id>`` as the run's node. ``status`` is vantage6's word (``completed``, ``crashed``,
        ``start failed``...); ``result`` is encoded like a task input (``encode_input``).

        Upstream semantics: ``finished_at``, ``log`` and ``result`` are overwritten (None clears them);
        a failed status fails the task's unstarted sibling runs; a finished run is BadUserInputError;
        another organization's run is ForbiddenError.
        """
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = status
        if started_at is not None:
            body["started_at"] = run_time(started_at)
        if finished_at is not None:
            body["finished_at"] = run_time(finished_at)
        if log is not None:
            body["log"] = log
        if result is not None:
            body["result"] = encode_input(result)
        answer = await self.client.request_json("PATCH", f"run/{run_id}", endpoint="run/patch", credential=None,
                                                json=body, bearer=node_token)
        return nz.run_from_json(answer)


def _given(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}
