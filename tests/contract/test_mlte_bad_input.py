"""Hostile MLTE answers (wrong types, missing fields, HTML pages, truncated JSON, the 500s the real server sends,
dropped connections, hangs) become the gateway's taxonomy with MLTE's own message kept, never a crash.

The faults are injected over HTTP into an emulator of this module's own (``/_emulator/faults`` or the same
state methods), so no other suite sees them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from adapters.mlte.client import MLTEClient
from adapters.mlte.emulator import EmulatorConfig, Fault, RunningEmulator, start_emulator
from gateway.errors import (
    BackendError,
    BackendUnavailableError,
    BadUserInputError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)
from gateway.http import BackendHTTP, HTTPPolicy
from gateway.settings import BackendSettings

Call = Callable[[MLTEClient], Awaitable[object]]
EVIDENCE = {"header": {"identifier": "e", "type": "evidence"},
            "body": {"artifact_type": "evidence", "evidence_class": "x",
                     "metadata": {"test_case_id": "t", "measurement": {"measurement_class": "a", "output_class": "b"}},
                     "value": {"evidence_type": "integer", "integer": 1}}}


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[RunningEmulator]:
    running = await start_emulator(EmulatorConfig(extra_models=0))
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def client(emulator: RunningEmulator) -> AsyncIterator[MLTEClient]:
    emulator.state.clear_faults()
    emulator.state.reset_calls()
    policy = HTTPPolicy(total_timeout=2.0, retries=2, retry_backoff=0.01, max_response_bytes=1_000_000)
    http = BackendHTTP("mlte", emulator.url, policy)
    try:
        yield MLTEClient(http, BackendSettings(url=emulator.url, username="admin", password="admin1234"))
    finally:
        emulator.state.clear_faults()
        await http.close()


async def fail(client: MLTEClient, call: Call) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        await call(client)
    assert info.value.backend == "mlte", repr(info.value)
    assert "admin1234" not in repr(info.value)
    return info.value


MALFORMED: list[tuple[str, str, Call]] = [
    ("model", '{"a": 1}', lambda c: c.list_models()),
    ("model", "[1, 2]", lambda c: c.list_models()),
    ("model/credit-risk", '{"identifier": 5, "versions": []}', lambda c: c.get_model("credit-risk")),
    ("model/credit-risk", '{"versions": []}', lambda c: c.get_model("credit-risk")),
    ("model/credit-risk", '{"identifier": "credit-risk", "versions": "v1"}', lambda c: c.get_model("credit-risk")),
    ("model/credit-risk/version", '{"versions": []}', lambda c: c.list_versions("credit-risk")),
    ("model/credit-risk/version/v1", "[]", lambda c: c.get_version("credit-risk", "v1")),
    ("model/credit-risk/version/v1/artifact/card", '{"header": [], "body": {}}',
     lambda c: c.get_artifact("credit-risk", "v1", "card.default")),
    ("model/credit-risk/version/v1/artifact/card", '{"header": {"identifier": "card.default", "type": "card"}}',
     lambda c: c.get_artifact("credit-risk", "v1", "card.default")),
    ("model/credit-risk/version/v1/artifact/card",
     '{"header": {"identifier": "c", "type": "card", "timestamp": "soon"}, "body": {}}',
     lambda c: c.get_artifact("credit-risk", "v1", "card.default")),
    ("model/credit-risk/version/v1/artifact/card", '{"header": {"identifier": null, "type": "card"}, "body": {}}',
     lambda c: c.get_artifact("credit-risk", "v1", "card.default")),
    ("model/credit-risk/version/v1/artifact", '{"items": []}', lambda c: c.list_artifacts("credit-risk", "v1")),
    ("model/credit-risk/version/v1/artifact", '[{"header": {"identifier": "x", "type": "card"}, "body": "x"}]',
     lambda c: c.list_artifacts("credit-risk", "v1")),
    ("model/credit-risk/version/v1/artifact", '{"header": {"identifier": "e", "type": "evidence"}, "body": {}}',
     lambda c: c.write_artifact("credit-risk", "v1", EVIDENCE, force=True)),
    ("token", '{"token": "abc"}', lambda c: c.list_models()),
    ("token", '{"access_token": "", "token_type": "bearer", "expires_in": 7200}', lambda c: c.list_models()),
    ("token", '{"access_token": "a.b.c", "expires_in": "2h"}', lambda c: c.list_models()),
]


@pytest.mark.parametrize(("prefix", "body", "call"), MALFORMED, ids=[f"{p}:{b[:24]}" for p, b, _ in MALFORMED])
async def test_mlte_bad_input_wrong_shapes_are_backend_errors(emulator: RunningEmulator, client: MLTEClient,
                                                              prefix: str, body: str, call: Call) -> None:
    emulator.state.add_fault(Fault(prefix=prefix, kind="json", body=body))
    error = await fail(client, call)
    assert isinstance(error, BackendError) and "malformed" in error.message, repr(error)


@pytest.mark.parametrize(("kind", "status", "expected", "message"), [
    ("html", 502, BackendUnavailableError, "HTTP 502: 502 Bad Gateway"),
    ("html", 500, BackendError, "HTTP 500: 500 Internal Server Error"),
    ("html", 404, NotFoundError, "HTTP 404: 404 Not Found"),
    ("text", 500, BackendError, "HTTP 500: Internal Server Error"),
    ("status", 503, BackendUnavailableError, "Service Unavailable"),
    ("status", 429, BackendUnavailableError, "Too Many Requests"),
])
async def test_mlte_bad_input_error_pages_keep_their_text(emulator: RunningEmulator, client: MLTEClient, kind: str,
                                                          status: int, expected: type, message: str) -> None:
    emulator.state.add_fault(Fault(prefix="model/credit-risk", kind=kind, status=status))
    error = await fail(client, lambda c: c.get_model("credit-risk"))
    assert type(error) is expected and error.message == message and error.backend_code == str(status)
    assert emulator.state.count("model/credit-risk", "GET") == (1 if status < 429 else 3)  # 5xx/429 retried


async def test_mlte_bad_input_html_with_200_is_malformed(emulator: RunningEmulator, client: MLTEClient) -> None:
    emulator.state.add_fault(Fault(prefix="model", kind="html", status=200, body="<html>Sign in</html>"))
    error = await fail(client, lambda c: c.list_models())
    assert isinstance(error, BackendError) and "not JSON" in error.message


async def test_mlte_bad_input_known_500_keeps_message_and_writes_are_not_retried(emulator: RunningEmulator,
                                                                                 client: MLTEClient) -> None:
    emulator.state.add_fault(Fault(prefix="model/credit-risk", kind="status", status=500,
                                   body='{"detail":"Internal server error."}'))
    error = await fail(client, lambda c: c.get_model("credit-risk"))
    assert (type(error), error.message) == (BackendError, "Internal server error.")
    assert emulator.state.count("model/credit-risk", "GET") == 3
    error = await fail(client, lambda c: c.write_artifact("credit-risk", "v1", EVIDENCE))
    assert isinstance(error, BackendError) and emulator.state.count("model/credit-risk/version/v1/artifact",
                                                                    "POST") == 1


async def test_mlte_bad_input_truncated_json(emulator: RunningEmulator, client: MLTEClient) -> None:
    emulator.state.add_fault(Fault(prefix="model/credit-risk/version/v2/artifact", kind="malformed", method="GET"))
    error = await fail(client, lambda c: c.list_artifacts("credit-risk", "v2"))
    assert isinstance(error, BackendError) and "not JSON" in error.message


async def test_mlte_bad_input_dropped_hanging_and_huge_answers(emulator: RunningEmulator,
                                                               client: MLTEClient) -> None:
    emulator.state.add_fault(Fault(prefix="model/spam-filter", kind="reset"))
    assert isinstance(await fail(client, lambda c: c.get_model("spam-filter")), BackendUnavailableError)
    emulator.state.clear_faults()
    emulator.state.add_fault(Fault(prefix="model/spam-filter", kind="hang", times=1))
    started = time.monotonic()
    assert isinstance(await fail(client, lambda c: c.get_model("spam-filter")), BackendUnavailableError)
    assert time.monotonic() - started < 10
    emulator.state.add_fault(Fault(prefix="model/credit-risk/version/v1/artifact", kind="huge",
                                   size_bytes=5_000_000, times=1))
    error = await fail(client, lambda c: c.list_artifacts("credit-risk", "v1"))
    assert isinstance(error, BackendError) and "exceeds" in error.message


async def test_mlte_bad_input_slow_but_in_time_is_fine(emulator: RunningEmulator, client: MLTEClient) -> None:
    emulator.state.add_fault(Fault(prefix="model/credit-risk", kind="delay", delay_ms=200, times=1))
    assert (await client.get_model("credit-risk")).versions == ("v1", "v2", "v3")


async def test_mlte_bad_input_one_bad_key_spares_its_neighbours(emulator: RunningEmulator,
                                                                client: MLTEClient) -> None:
    emulator.state.add_fault(Fault(prefix="model/spam-filter", kind="json", body="{}"))
    models = await client.get_models(["credit-risk", "spam-filter", "nope"])
    assert models["credit-risk"].identifier == "credit-risk"
    assert isinstance(models["spam-filter"], BackendError) and isinstance(models["nope"], NotFoundError)


@pytest.mark.parametrize(("status", "body", "expected", "code", "message"), [
    (401, "oops", UnauthenticatedError, "401", "HTTP 401: oops"),
    (400, '{"error":"invalid_request","error_description":"User is inactive."}', UnauthenticatedError,
     "invalid_request", "User is inactive."),
    (400, '{"error":"unsupported_grant_type","error_description":"Grant type None is not supported."}',
     BackendError, "unsupported_grant_type", "Grant type None is not supported."),
    (422, '{"detail":[{"loc":["body","username"],"msg":"Field required"},"odd",7]}', BadUserInputError, "422",
     "username: Field required; odd; 7"),
    (500, '{"detail":{"nested":true}}', BackendError, "500", 'HTTP 500: {"detail": {"nested": true}}'),
])
async def test_mlte_bad_input_token_endpoint_errors(emulator: RunningEmulator, client: MLTEClient, status: int,
                                                    body: str, expected: type, code: str, message: str) -> None:
    emulator.state.add_fault(Fault(prefix="token", kind="status", status=status, body=body))
    error = await fail(client, lambda c: c.list_models())
    assert (type(error), error.backend_code, error.message) == (expected, code, message)


async def test_mlte_bad_input_faults_over_the_control_route(emulator: RunningEmulator, client: MLTEClient) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{emulator.base_url}/_emulator/faults",
                                json={"prefix": "model", "kind": "text", "status": 500, "method": "GET"}) as resp:
            assert resp.status == 200
        error = await fail(client, lambda c: c.list_models())
        assert isinstance(error, BackendError) and error.message == "HTTP 500: Internal Server Error"
        async with session.post(f"{emulator.base_url}/_emulator/faults", json={"kind": "nope"}) as resp:
            assert resp.status == 400
        async with session.delete(f"{emulator.base_url}/_emulator/faults") as resp:
            assert resp.status == 200
    assert "credit-risk" in await client.list_models()


async def test_mlte_bad_input_refused_cached_service_token_is_renewed_once(emulator: RunningEmulator,
                                                                           client: MLTEClient) -> None:
    await client.list_models()
    secret = emulator.state.backend.secret
    try:
        emulator.state.rotate_secret()  # as after a restart with a new secret: the cached token is refused
        assert "credit-risk" in await client.list_models()
        assert client.service_token is not None and client.service_token.logins == 2
        emulator.state.add_fault(Fault(prefix="model", kind="status", status=401, method="GET"))
        error = await fail(client, lambda c: c.list_models())  # refused again after a fresh login: no loop
        assert isinstance(error, UnauthenticatedError) and client.service_token.logins == 3
    finally:
        emulator.state.backend.secret = secret
