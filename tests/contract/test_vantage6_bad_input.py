"""Bad bodies from vantage6 (wrong types, missing fields, HTML pages, its known 500s) map to the taxonomy.

Faults are set at the emulator over HTTP (``/_emulator/faults``) and the client is used as the gateway uses
it: every error carries ``backend="vantage6"`` and the backend's own message, and nothing crashes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.vantage6.client import Vantage6Client
from adapters.vantage6.emulator import RunningEmulator
from gateway.errors import (
    BackendError,
    BackendUnavailableError,
    BadUserInputError,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)
from gateway.http import BackendHTTP, HTTPPolicy
from gateway.settings import BackendSettings

pytest_plugins = ["tests.backends.vantage6_fixtures"]


@pytest.fixture
async def emu(vantage6_emulator: RunningEmulator) -> AsyncIterator[RunningEmulator]:
    await _control(vantage6_emulator, "DELETE", "faults")
    yield vantage6_emulator
    await _control(vantage6_emulator, "DELETE", "faults")


@pytest.fixture
async def client(emu: RunningEmulator) -> AsyncIterator[Vantage6Client]:
    http = BackendHTTP("vantage6", emu.url, HTTPPolicy(total_timeout=2.0, retries=0))
    try:
        yield Vantage6Client(http, BackendSettings(url=emu.url, username="alice", password="Alice-Passw0rd!"))
    finally:
        await http.close()


async def _control(emu: RunningEmulator, method: str, what: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as session, session.request(
            method, f"{emu.base_url}/_emulator/{what}", json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def fault(emu: RunningEmulator, prefix: str, kind: str, **fields: Any) -> None:
    await _control(emu, "POST", "faults", {"prefix": prefix, "kind": kind, **fields})


def assert_error(exc: GatewayError, cls: type[GatewayError], message: str, code: str | None = None) -> None:
    assert type(exc) is cls, repr(exc)
    assert exc.backend == "vantage6"
    assert message in exc.message, exc.message
    if code is not None:
        assert exc.backend_code == code
    assert "Alice-Passw0rd!" not in str(exc) and "eyJ" not in str(exc)


CALLS = {
    "list_tasks": lambda c: c.list_tasks(1, 5),
    "get_task": lambda c: c.get_task(1),
    "list_collaborations": lambda c: c.list_collaborations(1, 5),
    "get_organization": lambda c: c.get_organization(2),
    "runs_for_tasks": lambda c: c.get_runs_for_tasks([1, 2]),
    "list_results": lambda c: c.list_results(1, 5, task_id=1),
}
PREFIX = {"list_tasks": "task", "get_task": "task/1", "list_collaborations": "collaboration",
          "get_organization": "organization/2", "runs_for_tasks": "run", "list_results": "result"}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("kind", ["wrong_types", "missing_fields", "malformed", "empty"])
async def test_vantage6_malformed_bodies_are_backend_errors(
    emu: RunningEmulator, client: Vantage6Client, call: str, kind: str,
) -> None:
    await fault(emu, PREFIX[call], kind, method="GET")
    with pytest.raises(BackendError) as exc:
        await CALLS[call](client)
    assert_error(exc.value, BackendError, "vantage6")


@pytest.mark.parametrize("status", [200, 500, 502])
async def test_vantage6_html_pages_are_backend_errors(emu: RunningEmulator, client: Vantage6Client,
                                                      status: int) -> None:
    await fault(emu, "task", "html", status=status, method="GET")
    with pytest.raises(BackendError) as exc:
        await client.list_tasks(1, 5)
    assert_error(exc.value, BackendError, "HTML" if status != 200 else "vantage6")


@pytest.mark.parametrize(("status", "message", "cls"), [
    (500, "An unexpected error occurred on the server!", BackendError),
    (500, "page needs to be >= 1", BadUserInputError),
    (500, "invalid literal for int() with base 10: 'abc'", BadUserInputError),
    (500, "Cannot sort a 'Task' by 'bogus' because it does not exist", BadUserInputError),
    (500, "An unexpected error occurred: 'firstname'", BackendError),
    (401, "You lack the permission to do that!", ForbiddenError),
    (401, "Token has expired", UnauthenticatedError),
    (422, "Signature verification failed", UnauthenticatedError),
    (404, "task id=1 is not found", NotFoundError),
    (400, "Request body is incorrect", BadUserInputError),
    (503, "Service Unavailable", BackendUnavailableError),
])
async def test_vantage6_error_bodies_keep_the_backend_message(
    emu: RunningEmulator, client: Vantage6Client, status: int, message: str, cls: type[GatewayError],
) -> None:
    await fault(emu, "task/1", "msg", status=status, message=message, times=2 if status in (401, 422) else None)
    with pytest.raises(cls) as exc:
        await client.get_task(1)
    assert_error(exc.value, cls, message, str(status))


async def test_vantage6_werkzeug_message_bodies_and_bare_500s(emu: RunningEmulator, client: Vantage6Client) -> None:
    await fault(emu, "task/1", "status", status=405,
                body='{"message": "The method is not allowed for the requested URL."}')
    with pytest.raises(BackendError) as exc:
        await client.get_task(1)
    assert_error(exc.value, BackendError, "The method is not allowed for the requested URL.", "405")
    await fault(emu, "task/2", "status", status=500)
    with pytest.raises(BackendError) as exc:
        await client.get_task(2)
    assert_error(exc.value, BackendError, "An unexpected error occurred on the server!", "500")
    await fault(emu, "task/3", "status", status=500, body="Internal Server Error")
    with pytest.raises(BackendError) as exc:
        await client.get_task(3)
    assert_error(exc.value, BackendError, "not JSON", "500")


async def test_vantage6_one_bad_task_never_fails_its_neighbours(emu: RunningEmulator, client: Vantage6Client) -> None:
    await fault(emu, "task/12", "wrong_types")
    tasks = await client.get_tasks([11, 12, 13])
    assert tasks[11].name == "kaplan-meier-11" and tasks[13].name == "crosstab-13"  # type: ignore[union-attr]
    assert_error(tasks[12], BackendError, "malformed task")  # type: ignore[arg-type]


async def test_vantage6_service_token_refused_once_is_renewed(emu: RunningEmulator, client: Vantage6Client) -> None:
    await client.list_organizations(1, 5)  # logs the service account in
    await fault(emu, "organization", "msg", status=422, message="Signature verification failed", times=1)
    page = await client.list_organizations(1, 5)
    assert page.total == 3
    service = client.service_token
    assert service is not None and service.logins == 2


async def test_vantage6_bad_login_answers(emu: RunningEmulator, client: Vantage6Client) -> None:
    await fault(emu, "token/user", "missing_fields", times=1)
    with pytest.raises(BackendError) as exc:
        await client.login("alice", "Alice-Passw0rd!")
    assert_error(exc.value, BackendError, "malformed token_pair")
    await fault(emu, "token/user", "html", status=502, times=1)
    with pytest.raises(BackendError):
        await client.list_tasks(1, 5)  # the service login itself failed


async def test_vantage6_slow_and_hanging_backend_is_unavailable(emu: RunningEmulator, client: Vantage6Client) -> None:
    await client.list_tasks(1, 1)
    await fault(emu, "task", "hang", times=1)
    with pytest.raises(BackendUnavailableError) as exc:
        await client.list_tasks(1, 5)
    assert exc.value.backend == "vantage6"
    await fault(emu, "task", "delay", delay_ms=50, times=1)
    page = await client.list_tasks(1, 5)
    assert page.total is not None and page.total >= 30
