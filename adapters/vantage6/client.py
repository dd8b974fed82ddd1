"""vantage6 4.15 REST client: auth, typed reads, lists with totals, batch getters and the task mutations.

Auth (every method takes ``credential``): a caller's bearer access token wins; else the service account of
``BackendSettings`` (a static ``token``, or ``username``/``password`` logged in through ``POST /token/user``,
cached, and renewed through ``POST /token/refresh`` before expiry); else the call goes anonymous and vantage6
answers 401 (UNAUTHENTICATED). A 401 to a valid token is FORBIDDEN (see ``errors``). Tokens never appear in
errors, logs or reprs.

Batching (vantage6 4.15 filters take one value, except ``/organization?ids=``):
- ``get_organizations``: one ``/organization?ids=..&ids=..`` call per ``batch_size`` ids;
- ``get_collaborations``, ``get_nodes``, ``get_tasks``: deduplicated single gets, fanned out concurrently (the
  HTTP layer caps concurrency);
- ``get_runs_for_tasks`` / ``get_results_for_tasks``: a newest-first scan of the collection (``/run`` or
  ``/result``, scoped to the collaboration when all tasks share one) with ``scan_per_page`` rows per call,
  see ``adapters.vantage6._scan``. The number of calls follows the number of tasks, never their runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from adapters._auth import ServiceToken, TokenPair
from adapters.records.vantage6 import (
    CollaborationRecord,
    OrganizationRecord,
    Vantage6NodeRecord,
    Vantage6Page,
    Vantage6ResultRecord,
    Vantage6RunRecord,
    Vantage6TaskRecord,
    Vantage6TokenPair,
)
from adapters.vantage6 import _scan, _wire
from adapters.vantage6 import normalize as nz
from adapters.vantage6.errors import BACKEND
from gateway.errors import GatewayError
from gateway.http import BackendHTTP, BackendResponse
from gateway.settings import BackendSettings

__all__ = ["Batch", "RunsByTask", "Vantage6Client", "encode_input"]

encode_input = _wire.encode_input  # re-exported: the admin helpers encode run results the same way

R = TypeVar("R")
Batch = dict[int, R | GatewayError]
RunsByTask = dict[int, tuple[Vantage6RunRecord, ...] | GatewayError]
Params = _wire.Params


class Vantage6Client:
    """Typed calls to one vantage6 server; ``http.base_url`` is the API root ending in ``/api``."""

    backend = BACKEND

    def __init__(self, http: BackendHTTP, settings: BackendSettings, *, scan_per_page: int = 500,
                 scan_max_pages: int = 4, token_margin: float = 60.0) -> None:
        self.http = http
        self.settings = settings
        self.batch_size = max(1, settings.batch_size)
        self.scan_per_page = max(1, scan_per_page)
        self.scan_max_pages = max(1, scan_max_pages)
        self._service: ServiceToken | None = None
        if settings.username and settings.password:
            self._service = ServiceToken(self._service_login, self._service_refresh, margin=token_margin)

    def __repr__(self) -> str:
        return f"Vantage6Client({self.http.base_url!r}, service_account={self._service is not None})"

    @property
    def service_token(self) -> ServiceToken | None:
        """The service account's cached token (None without ``username``/``password``); ``logins`` and
        ``refreshes`` count its renewals."""
        return self._service

    @property
    def base_url(self) -> str:
        """The API root this client talks to (part of every cache key: ids are per server)."""
        return self.http.base_url

    # ------------------------------------------------------------------------------------------ transport

    async def _token(self, credential: str | None) -> tuple[str | None, bool]:
        """The bearer token to send and whether it is the service account's login (renewable)."""
        if credential:
            return credential, False
        if self.settings.token:
            return self.settings.token, False
        if self._service is not None:
            return await self._service.get(), True
        return None, False

    async def request(
        self, method: str, path: str, *, endpoint: str, credential: str | None, params: Params = (),
        json: Any = None, bearer: str | None = None, anonymous: bool = False,
    ) -> BackendResponse:
        """Send one call and return the 2xx response; raise the mapped error otherwise.

        ``bearer`` forces a token (a node's or a refresh token) instead of the credential chain; ``anonymous``
        sends none (logins, version). A service login refused as expired or invalid is renewed once and the
        call repeated.
        """
        if bearer or anonymous:
            token, renewable = bearer, False
        else:
            token, renewable = await self._token(credential)
        response = await self._send(method, _wire.query(path, params), endpoint, token, json)
        if renewable and self._service is not None and _wire.refused_token(response):
            self._service.invalidate(token or "")
            token = await self._service.get()
            response = await self._send(method, _wire.query(path, params), endpoint, token, json)
        if 200 <= response.status < 300:
            return response
        raise nz.error_from_response(response.status, response.body, credential_sent=token is not None)

    async def _send(self, method: str, path: str, endpoint: str, token: str | None, body: Any) -> BackendResponse:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return await self.http.request(method, path, endpoint=endpoint, json=body, headers=headers)

    async def request_json(
        self, method: str, path: str, *, endpoint: str, credential: str | None, params: Params = (),
        json: Any = None, bearer: str | None = None, anonymous: bool = False,
    ) -> Any:
        """Like ``request`` and return the decoded JSON body (BackendError when it is not JSON)."""
        response = await self.request(method, path, endpoint=endpoint, credential=credential, params=params,
                                      json=json, bearer=bearer, anonymous=anonymous)
        return nz.parse_json(response.body)

    async def _one(self, path: str, endpoint: str, parse: Callable[[Any], R], credential: str | None,
                   params: Params = ()) -> R:
        return parse(await self.request_json("GET", path, endpoint=endpoint, credential=credential, params=params))

    async def fetch_page(
        self, path: str, endpoint: str, parse: Callable[[Any], R], page: int, per_page: int,
        credential: str | None, params: Params = (),
    ) -> Vantage6Page[R]:
        """One page of the list at ``path`` (low level: the typed ``list_*`` methods wrap it)."""
        _wire.check_page(page, per_page)
        response = await self.request("GET", path, endpoint=endpoint, credential=credential,
                                      params=[*params, ("page", page), ("per_page", per_page)])
        return nz.page_from_response(response.body, response.headers, parse, page, per_page)

    async def _fan_out(self, ids: Iterable[int], get: Callable[[int], Awaitable[R]]) -> Batch[R]:
        unique = sorted(set(ids))
        results = await asyncio.gather(*(get(i) for i in unique), return_exceptions=True)
        out: Batch[R] = {}
        for key, result in zip(unique, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, GatewayError):
                raise result
            out[key] = result
        return out

    # ------------------------------------------------------------------------------------------ tokens

    async def login(self, username: str, password: str) -> Vantage6TokenPair:
        """``POST /token/user``: an access and a refresh token. UnauthenticatedError ("Failed to login")
        for a wrong password, BadUserInputError for a missing field."""
        body = await self.request_json("POST", "token/user", endpoint="token/user", credential=None,
                                       json={"username": username, "password": password}, anonymous=True)
        return nz.token_pair_from_json(body)

    async def refresh(self, refresh_token: str) -> Vantage6TokenPair:
        """``POST /token/refresh`` with the refresh token as Bearer: a new pair. An access token here is
        refused with 422 ("Only refresh tokens are allowed"): UnauthenticatedError."""
        body = await self.request_json("POST", "token/refresh", endpoint="token/refresh", credential=None,
                                       bearer=refresh_token)
        return nz.token_pair_from_json(body)

    async def _service_login(self) -> TokenPair:
        assert self.settings.username and self.settings.password
        pair = await self.login(self.settings.username, self.settings.password)
        return TokenPair(pair.access_token, pair.refresh_token)

    async def _service_refresh(self, refresh_token: str) -> TokenPair:
        pair = await self.refresh(refresh_token)
        return TokenPair(pair.access_token, pair.refresh_token)

    async def get_version(self) -> str:
        """``GET /version`` (no auth): the server's version string."""
        body = await self.request_json("GET", "version", endpoint="version", credential=None, anonymous=True)
        version = body.get("version") if isinstance(body, dict) else None
        if not isinstance(version, str):
            raise nz.error_from_response(502, b"", credential_sent=False)
        return version

    # ------------------------------------------------------------------------------------------ organizations

    async def list_organizations(
        self, page: int = 1, per_page: int = 10, credential: str | None = None, *,
        collaboration_id: int | None = None, ids: Sequence[int] | None = None,
    ) -> Vantage6Page[OrganizationRecord]:
        """One page of ``/organization`` (server order: by id) with the total the caller may see."""
        params: list[tuple[str, str | int]] = [("ids", i) for i in ids or ()]
        if collaboration_id is not None:
            params.append(("collaboration_id", collaboration_id))
        return await self.fetch_page("organization", "organization/list", nz.organization_from_json, page, per_page,
                                credential, params)

    async def get_organization(self, org_id: int, credential: str | None = None) -> OrganizationRecord:
        """``GET /organization/<id>``; NotFoundError if unknown, ForbiddenError outside the caller's scope."""
        return await self._one(f"organization/{org_id}", "organization", nz.organization_from_json, credential)

    async def get_organizations(self, ids: Iterable[int], credential: str | None = None) -> Batch[OrganizationRecord]:
        """Organizations by id through the ``ids`` filter (one call per ``batch_size`` ids); ids the list
        leaves out (unknown or not visible) are asked one by one so each gets its own error."""
        unique = sorted(set(ids))
        chunks = [unique[i : i + self.batch_size] for i in range(0, len(unique), self.batch_size)]
        pages = await asyncio.gather(*(
            self.list_organizations(1, len(chunk), credential, ids=chunk) for chunk in chunks
        ))
        wanted = set(unique)
        found: Batch[OrganizationRecord] = {org.id: org for p in pages for org in p.items if org.id in wanted}
        missing = [i for i in unique if i not in found]
        if missing:
            found.update(await self._fan_out(missing, lambda i: self.get_organization(i, credential)))
        return found

    # ------------------------------------------------------------------------------------------ collaborations

    async def list_collaborations(
        self, page: int = 1, per_page: int = 10, credential: str | None = None, *, organization_id: int | None = None,
    ) -> Vantage6Page[CollaborationRecord]:
        """One page of ``/collaboration?include=organizations`` (member ids filled in). A non-root caller
        asking for another organization's collaborations gets ForbiddenError (vantage6's 401)."""
        params: list[tuple[str, str | int]] = [("include", "organizations")]
        if organization_id is not None:
            params.append(("organization_id", organization_id))
        return await self.fetch_page("collaboration", "collaboration/list", nz.collaboration_from_json, page, per_page,
                                credential, params)

    async def get_collaboration(self, collab_id: int, credential: str | None = None) -> CollaborationRecord:
        """``GET /collaboration/<id>?include=organizations``; NotFoundError if unknown."""
        return await self._one(f"collaboration/{collab_id}", "collaboration", nz.collaboration_from_json,
                               credential, [("include", "organizations")])

    async def get_collaborations(self, ids: Iterable[int], credential: str | None = None) -> Batch[CollaborationRecord]:
        """Collaborations by id: vantage6 has no id filter here, so single gets fan out concurrently."""
        return await self._fan_out(ids, lambda i: self.get_collaboration(i, credential))

    # ------------------------------------------------------------------------------------------ nodes

    async def list_nodes(
        self, page: int = 1, per_page: int = 10, credential: str | None = None, *,
        collaboration_id: int | None = None, organization_id: int | None = None,
    ) -> Vantage6Page[Vantage6NodeRecord]:
        """One page of ``/node`` (server order: by id)."""
        params = _wire.opt_params(collaboration_id=collaboration_id, organization_id=organization_id)
        return await self.fetch_page("node", "node/list", nz.node_from_json, page, per_page, credential, params)

    async def get_node(self, node_id: int, credential: str | None = None) -> Vantage6NodeRecord:
        """``GET /node/<id>``; NotFoundError if unknown."""
        return await self._one(f"node/{node_id}", "node", nz.node_from_json, credential)

    async def get_nodes(self, ids: Iterable[int], credential: str | None = None) -> Batch[Vantage6NodeRecord]:
        """Nodes by id (no id filter upstream: concurrent single gets)."""
        return await self._fan_out(ids, lambda i: self.get_node(i, credential))

    # ------------------------------------------------------------------------------------------ tasks

    async def list_tasks(
        self, page: int = 1, per_page: int = 10, credential: str | None = None, *,
        collaboration_id: int | None = None, init_org_id: int | None = None, status: str | None = None,
        sort: str | None = "-id",
    ) -> Vantage6Page[Vantage6TaskRecord]:
        """One page of ``/task``, newest first (vantage6 always orders tasks by id descending; ``sort`` only
        breaks ties, and an unknown field is BadUserInputError).

        ``status`` (lower snake case, e.g. ``completed``, ``start_failed``) is filtered here: vantage6 4.15's own
        ``status`` filter answers 500. The filtered list is read in pages of ``scan_per_page`` and then cut.
        """
        params = _wire.opt_params(collaboration_id=collaboration_id, init_org_id=init_org_id, sort=sort)
        if status is None:
            return await self.fetch_page("task", "task/list", nz.task_from_json, page, per_page, credential, params)
        _wire.check_page(page, per_page)
        wanted = nz.normalize_status(status)
        matches: list[Vantage6TaskRecord] = []
        scan = 1
        while True:
            chunk = await self.fetch_page("task", "task/list", nz.task_from_json, scan, self.scan_per_page, credential,
                                     params)
            matches.extend(t for t in chunk.items if t.status == wanted)
            if not chunk.has_next or not chunk.items:
                break
            scan += 1
        start = (page - 1) * per_page
        return Vantage6Page(items=tuple(matches[start : start + per_page]), total=len(matches), page=page,
                            per_page=per_page, has_next=start + per_page < len(matches))

    async def get_task(self, task_id: int, credential: str | None = None) -> Vantage6TaskRecord:
        """``GET /task/<id>``; NotFoundError if unknown."""
        return await self._one(f"task/{task_id}", "task", nz.task_from_json, credential)

    async def get_tasks(self, ids: Iterable[int], credential: str | None = None) -> Batch[Vantage6TaskRecord]:
        """Tasks by id (no id filter upstream: concurrent single gets)."""
        return await self._fan_out(ids, lambda i: self.get_task(i, credential))

    async def get_task_status(self, task_id: int, credential: str | None = None) -> str | None:
        """``GET /task/<id>/status``: the status derived from the runs, lower snake case."""
        body = await self.request_json("GET", f"task/{task_id}/status", endpoint="task/status", credential=credential)
        return nz.normalize_status(body.get("status") if isinstance(body, dict) else None)

    # ------------------------------------------------------------------------------------------ runs, results

    async def list_runs(
        self, page: int = 1, per_page: int = 10, credential: str | None = None, *, task_id: int | None = None,
        collaboration_id: int | None = None, organization_id: int | None = None, node_id: int | None = None,
    ) -> Vantage6Page[Vantage6RunRecord]:
        """One page of ``/run``, newest first (fixed server order). Runs carry no result: see ``/result``."""
        params = _wire.opt_params(task_id=task_id, collaboration_id=collaboration_id, organization_id=organization_id,
                      node_id=node_id)
        return await self.fetch_page("run", "run/list", nz.run_from_json, page, per_page, credential, params)

    async def get_run(self, run_id: int, credential: str | None = None) -> Vantage6RunRecord:
        """``GET /run/<id>``; NotFoundError if unknown."""
        return await self._one(f"run/{run_id}", "run", nz.run_from_json, credential)

    async def list_results(
        self, page: int = 1, per_page: int = 10, credential: str | None = None, *, task_id: int | None = None,
        collaboration_id: int | None = None, organization_id: int | None = None,
    ) -> Vantage6Page[Vantage6ResultRecord]:
        """One page of ``/result``, newest first; ``decoded`` holds base64 JSON results decoded."""
        params = _wire.opt_params(task_id=task_id, collaboration_id=collaboration_id, organization_id=organization_id)
        return await self.fetch_page("result", "result/list", nz.result_from_json, page, per_page, credential, params)

    async def get_result(self, result_id: int, credential: str | None = None) -> Vantage6ResultRecord:
        """``GET /result/<id>``; NotFoundError if unknown."""
        return await self._one(f"result/{result_id}", "result", nz.result_from_json, credential)

    async def get_runs_for_tasks(
        self, task_ids: Iterable[int], credential: str | None = None, *,
        collaboration_of: Mapping[int, int | None] | None = None, include_results: bool = False,
    ) -> RunsByTask:
        """Every run of each task, newest first, in a number of calls that does not grow with the runs.

        ``collaboration_of`` (task id -> collaboration id, from the task records) narrows the scan to one
        collaboration when all tasks share it. ``include_results`` merges each run's result (one more scan
        of ``/result``). A task the caller may not see, or that does not exist, maps to its own error when the
        per-task fallback asked for it, else to ``()``.
        """
        runs = await _scan.by_task(self, "run", nz.run_from_json, task_ids, credential, collaboration_of)
        if not include_results:
            return runs
        results = await _scan.by_task(self, "result", nz.result_from_json, task_ids, credential, collaboration_of)
        return _scan.merge_results(runs, results)

    async def get_results_for_tasks(
        self, task_ids: Iterable[int], credential: str | None = None, *,
        collaboration_of: Mapping[int, int | None] | None = None,
    ) -> dict[int, tuple[Vantage6ResultRecord, ...] | GatewayError]:
        """Every result of each task (same scan as ``get_runs_for_tasks``, on ``/result``)."""
        return await _scan.by_task(self, "result", nz.result_from_json, task_ids, credential, collaboration_of)

    # ------------------------------------------------------------------------------------------ mutations

    async def create_task(
        self, collaboration_id: int, organizations: Sequence[Mapping[str, Any]], image: str, *,
        name: str | None = None, description: str | None = None,
        databases: Sequence[str | Mapping[str, Any]] | None = None, credential: str | None = None,
    ) -> Vantage6TaskRecord:
        """``POST /task``: one run per ``organizations`` entry (``{"id": org, "input": value}``; the input is
        encoded by ``encode_input``). Returns the new task (status ``pending``). Never retried.

        Raises BadUserInputError (validation, an organization without a node or outside the collaboration),
        NotFoundError (unknown collaboration), ForbiddenError (caller's organization not in the collaboration,
        or no create permission), BackendError (vantage6's 500 for input that is not base64).
        """
        body: dict[str, Any] = {
            "collaboration_id": collaboration_id, "image": image,
            "organizations": [{"id": org["id"], "input": encode_input(org.get("input", {}))} for org in organizations],
            "databases": [db if isinstance(db, Mapping) else {"label": db} for db in databases or ()],
        }
        if name is not None:
            body["name"] = name
        if description is not None:
            body["description"] = description
        return nz.task_from_json(await self.request_json("POST", "task", endpoint="task/create",
                                                         credential=credential, json=body))

    async def kill_task(self, task_id: int, credential: str | None = None) -> str:
        """``POST /kill/task``: unfinished runs become ``killed_by_user``. Returns vantage6's message.
        BadUserInputError if the task already finished, ForbiddenError without the event permission."""
        body = await self.request_json("POST", "kill/task", endpoint="task/kill", credential=credential,
                                       json={"id": task_id})
        return nz.message_from_json(body) or ""

    async def delete_task(self, task_id: int, credential: str | None = None) -> str:
        """``DELETE /task/<id>`` (with its runs; a running task is killed first). Returns vantage6's message;
        NotFoundError if unknown."""
        body = await self.request_json("DELETE", f"task/{task_id}", endpoint="task/delete", credential=credential)
        return nz.message_from_json(body) or ""
