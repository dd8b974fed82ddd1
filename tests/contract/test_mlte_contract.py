"""One MLTE contract suite, run against the emulator and the real MLTE 2.7.0 server (``mlte_target``).

Every test asserts the same behaviour on both targets, through ``MLTEClient`` and, where the wire format
itself is the contract (error bodies, auth challenges, the token endpoint), through raw HTTP. Tests write only
into models they create (``unique``), so one seeded server serves the whole session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime

import pytest

from adapters._auth import jwt_expiry
from adapters.mlte.client import MLTEClient
from adapters.mlte.emulator import RunningEmulator
from adapters.mlte.emulator_data import DOCUMENTED_MODELS, seed_plan
from gateway.errors import (
    BackendError,
    BadUserInputError,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)
from gateway.http import BackendHTTP
from tests.backends.mlte_server import ALICE, MLTETarget, RealMLTE, unique

pytest_plugins = ["tests.backends.mlte_fixtures"]

SEEDED_MODELS = [c.json["identifier"] for c in seed_plan() if c.method == "POST" and c.path == "model"]
MEASUREMENT = {"measurement_class": "mlte.measurement.external_measurement.ExternalMeasurement",
               "output_class": "mlte.evidence.types.integer.Integer"}


def evidence(identifier: str, case: str, value: int = 95, **header: str) -> dict:
    return {"header": {"identifier": identifier, "type": "evidence", **header},
            "body": {"artifact_type": "evidence", "metadata": {"test_case_id": case, "measurement": MEASUREMENT},
                     "evidence_class": "mlte.evidence.types.integer.Integer",
                     "value": {"evidence_type": "integer", "integer": value, "unit": None}}}


def jwt(secret: str, claims: dict) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest())


async def fresh_version(client: MLTEClient, *versions: str) -> str:
    model = unique("contract")
    await client.create_model(model)
    for version in versions or ("v1",):
        await client.create_version(model, version)
    return model


# ---------------------------------------------------------------------------------------------- auth


async def test_mlte_login_returns_two_hour_bearer_jwt(mlte_target: MLTETarget, mlte_http: BackendHTTP) -> None:
    client = MLTEClient(mlte_http, mlte_target.settings())
    pair = await client.login("admin", "admin1234")
    assert pair.access.count(".") == 2 and "admin1234" not in repr(pair)
    assert abs((jwt_expiry(pair.access) or 0) - (time.time() + 7200)) < 120
    assert abs((pair.expires_at or 0) - (time.time() + 7200)) < 120


async def test_mlte_login_wrong_password_is_unauthenticated(mlte_target: MLTETarget, mlte_http: BackendHTTP) -> None:
    client = MLTEClient(mlte_http, mlte_target.settings(username="admin", password="wrong-secret"))
    with pytest.raises(UnauthenticatedError) as info:
        await client.list_models()
    assert (info.value.backend, info.value.backend_code) == ("mlte", "invalid_grant")
    assert info.value.message == "Incorrect username or password."
    assert "wrong-secret" not in repr(info.value) + repr(client)


async def test_mlte_token_endpoint_wire_format(mlte_target: MLTETarget) -> None:
    ok = await mlte_target.raw("POST", "token", data={"grant_type": "password", "username": "admin",
                                                      "password": "admin1234"})
    assert ok.status == 200 and set(ok.json()) == {"access_token", "token_type", "expires_in"}
    assert (ok.json()["token_type"], ok.json()["expires_in"]) == ("bearer", 7200)
    wrong = await mlte_target.raw("POST", "token", data={"grant_type": "password", "username": "admin",
                                                         "password": "x"})
    assert (wrong.status, wrong.headers["content-type"]) == (400, "application/json;charset=UTF-8")
    assert wrong.json() == {"error": "invalid_grant", "error_description": "Incorrect username or password."}
    no_grant = await mlte_target.raw("POST", "token", data={"username": "admin", "password": "admin1234"})
    assert (no_grant.status, no_grant.json()) == (400, {"error": "unsupported_grant_type",
                                                        "error_description": "Grant type None is not supported."})
    as_json = await mlte_target.raw("POST", "token", json={"grant_type": "password", "username": "admin",
                                                           "password": "admin1234"})
    assert as_json.status == 422
    assert [e["loc"] for e in as_json.json()["detail"]] == [["body", "username"], ["body", "password"]]
    other = await mlte_target.raw("POST", "token", data={"grant_type": "client_credentials", "username": "admin",
                                                         "password": "admin1234"})
    assert other.status == 422 and other.json()["detail"][0]["type"] == "string_pattern_mismatch"


async def test_mlte_missing_token_is_unauthenticated(mlte_target: MLTETarget, mlte_http: BackendHTTP) -> None:
    raw = await mlte_target.raw("GET", "model")
    assert (raw.status, raw.json(), raw.headers["www-authenticate"]) == (401, {"detail": "Not authenticated"},
                                                                         "Bearer")
    with pytest.raises(UnauthenticatedError) as info:
        await MLTEClient(mlte_http, mlte_target.settings()).list_models()
    assert (info.value.message, info.value.backend_code) == ("Not authenticated", "401")


@pytest.mark.parametrize(("token", "reason"), [
    ("garbage", "Error decoding token: Not enough segments"),
    ("foreign", "Error decoding token: Signature verification failed."),
    ("expired", "Error decoding token: Signature has expired."),
    ("no-sub", "No valid user in token"),
])
async def test_mlte_refused_token_is_unauthenticated_with_reason(mlte_target: MLTETarget, mlte_http: BackendHTTP,
                                                                 token: str, reason: str) -> None:
    tokens = {"garbage": "garbage", "foreign": jwt("not-the-secret", {"sub": "admin", "exp": 4102444800}),
              "expired": jwt(mlte_target.jwt_secret, {"sub": "admin", "exp": int(time.time()) - 60}),
              "no-sub": jwt(mlte_target.jwt_secret, {"exp": int(time.time()) + 600})}
    raw = await mlte_target.raw("GET", "model", token=tokens[token])
    assert (raw.status, raw.json()) == (401, {"detail": "Unauthorized"})
    assert raw.headers["www-authenticate"] == (f'Bearer error="invalid_token", '
                                               f'error_description="Could not decode token: {reason}"')
    with pytest.raises(UnauthenticatedError) as info:
        await MLTEClient(mlte_http, mlte_target.settings()).get_model("credit-risk", tokens[token])
    assert info.value.message == f"Unauthorized (Could not decode token: {reason})"


async def test_mlte_service_account_logs_in_once_and_renews_before_expiry(mlte_target: MLTETarget,
                                                                          mlte_http: BackendHTTP) -> None:
    now = [time.time()]
    client = MLTEClient(mlte_http, mlte_target.settings(username="admin", password="admin1234"),
                        clock=lambda: now[0])
    assert client.service_token is not None and "admin1234" not in repr(client)
    await client.list_models()
    await client.get_model("credit-risk")
    assert client.service_token.logins == 1
    now[0] += 7200 - 30  # inside the renewal margin: MLTE has no refresh token, so the client logs in again
    await client.get_model("spam-filter")
    assert client.service_token.logins == 2


async def test_mlte_caller_token_wins_over_service_account(mlte_target: MLTETarget, mlte_admin: MLTEClient) -> None:
    alice = await mlte_target.token(ALICE.username)
    assert (await mlte_admin.get_model("credit-risk")).versions == ("v1", "v2", "v3")
    with pytest.raises(ForbiddenError) as info:
        await mlte_admin.get_model("credit-risk", alice)
    assert info.value.message == "User is not authorized to access this resource."
    assert (await mlte_admin.get_model("alice-sandbox", f"Bearer {alice}")).versions == ("draft",)


async def test_mlte_regular_user_reads_only_own_models(mlte_target: MLTETarget, mlte_admin: MLTEClient) -> None:
    alice = await mlte_target.token(ALICE.username)
    with pytest.raises(ForbiddenError):
        await mlte_admin.list_models(alice)
    page = await mlte_admin.list_artifacts("alice-sandbox", "draft", credential=alice)
    assert [(a.identifier, a.creator) for a in page.items] == [("evidence.accuracy", "alice")]
    batch = await mlte_admin.get_models(["alice-sandbox", "credit-risk"], alice)
    assert isinstance(batch["credit-risk"], ForbiddenError) and batch["alice-sandbox"].identifier == "alice-sandbox"


async def test_mlte_regular_user_may_write_into_foreign_model(mlte_target: MLTETarget, mlte_admin: MLTEClient) -> None:
    model = await fresh_version(mlte_admin)
    alice = await mlte_target.token(ALICE.username)
    stored = await mlte_admin.write_artifact(model, "v1", evidence("e", "by-alice"), alice)
    assert (stored.identifier, stored.creator) == ("evidence.by-alice", "alice")  # MLTE grants every model POST
    with pytest.raises(ForbiddenError):
        await mlte_admin.get_artifact(model, "v1", stored.identifier, alice)


async def test_mlte_deleted_users_token_is_backend_error(mlte_target: MLTETarget, mlte_admin: MLTEClient) -> None:
    username, password = await mlte_target.create_user()
    token = await mlte_target.token(username, password)
    deleted = await mlte_target.raw("DELETE", f"user/{username}", token=await mlte_target.token())
    assert deleted.status == 200 and deleted.json()["username"] == username
    raw = await mlte_target.raw("GET", "model", token=token)
    assert (raw.status, raw.body, raw.headers["content-type"]) == (500, b"Internal Server Error",
                                                                   "text/plain; charset=utf-8")
    with pytest.raises(BackendError) as info:
        await mlte_admin.get_model("credit-risk", token)
    assert info.value.message == "HTTP 500: Internal Server Error" and info.value.backend == "mlte"


# ---------------------------------------------------------------------------------------------- reads


async def test_mlte_list_models_returns_seed_in_server_order(mlte_admin: MLTEClient) -> None:
    models = await mlte_admin.list_models()
    assert list(models[: len(SEEDED_MODELS)]) == SEEDED_MODELS and len(SEEDED_MODELS) > 20
    assert set(DOCUMENTED_MODELS) | {"alice-sandbox"} <= set(models)


async def test_mlte_get_model_and_versions(mlte_target: MLTETarget, mlte_admin: MLTEClient) -> None:
    model = await mlte_admin.get_model("clinical/diabetes-risk")  # travels as clinical---diabetes-risk
    assert (model.identifier, model.versions, dict(model.raw_extra)) == ("clinical/diabetes-risk", ("v1", "v1.1"), {})
    assert [v.identifier for v in await mlte_admin.list_versions("credit-risk")] == ["v1", "v2", "v3"]
    version = await mlte_admin.get_version("spam-filter", "2024.2")
    assert (version.model, version.identifier) == ("spam-filter", "2024.2")
    raw = await mlte_target.raw("GET", "model/clinical%2Fdiabetes-risk", token=await mlte_target.token())
    assert (raw.status, raw.json()) == (404, {"detail": "Not Found"})  # %2F splits the route upstream


async def test_mlte_not_found_messages(mlte_admin: MLTEClient) -> None:
    c = mlte_admin
    cases = [
        (lambda: c.get_model("nope"), "Model nope not found."),
        (lambda: c.list_versions("nope"), "Model nope not found."),
        (lambda: c.get_version("credit-risk", "v9"), "Version v9 for model credit-risk not found."),
        (lambda: c.get_artifact("credit-risk", "v9", "card.default"), "Version: v9 for model credit-risk not found."),
        (lambda: c.get_artifact("credit-risk", "v1", "evidence.nope"),
         "Artifact: evidence.nope for version v1 and model credit-risk not found."),
        (lambda: c.list_artifacts("credit-risk", "v9"), "Version v9 for model credit-risk not found."),
        (lambda: c.search_artifacts("nope", "v1"), "Model nope not found."),
    ]
    for call, message in cases:
        with pytest.raises(NotFoundError) as info:
            await call()
        assert (info.value.message, info.value.backend, info.value.backend_code) == (message, "mlte", "404")


async def test_mlte_listing_a_missing_version_is_a_500_upstream(mlte_target: MLTETarget) -> None:
    raw = await mlte_target.raw("GET", "model/credit-risk/version/v9/artifact", token=await mlte_target.token())
    assert (raw.status, raw.json()) == (500, {"detail": "Internal server error."})


async def test_mlte_batch_getters_keep_per_key_errors(mlte_admin: MLTEClient) -> None:
    models = await mlte_admin.get_models(["credit-risk", "nope", "spam-filter", "credit-risk"])
    assert set(models) == {"credit-risk", "nope", "spam-filter"} and isinstance(models["nope"], NotFoundError)
    versions = await mlte_admin.get_versions([("credit-risk", "v2"), ("credit-risk", "v9"), ("nope", "v1")])
    assert versions[("credit-risk", "v2")].identifier == "v2"
    assert isinstance(versions[("credit-risk", "v9")], NotFoundError) and isinstance(versions[("nope", "v1")],
                                                                                     NotFoundError)
    keys = [("credit-risk", "v2", "evidence.accuracy"), ("credit-risk", "v2", "suite.v1-acceptance"),
            ("credit-risk", "v2", "evidence.nope"), ("credit-risk", "v9", "evidence.accuracy"),
            ("credit-risk", None, "card.default"), ("credit-risk", None, "evidence.accuracy"),
            ("nope", None, "card.default"), ("clinical/diabetes-risk", "v1.1", "evidence.confusion")]
    before = mlte_admin.http.stats.calls
    found = await mlte_admin.get_artifacts(keys)
    assert mlte_admin.http.stats.calls - before <= 12
    assert found[keys[0]].identifier == "evidence.accuracy" and found[keys[1]].level == "model"
    assert found[keys[4]].is_model_level and found[keys[4]].body["data"][0]["source"] == "openml:dataset:31"
    assert found[keys[7]].body["value"]["evidence_type"] == "array"
    for key in (keys[2], keys[3], keys[5], keys[6]):
        assert isinstance(found[key], NotFoundError), (key, found[key])


async def test_mlte_list_artifacts_pages_without_total(mlte_admin: MLTEClient) -> None:
    pages = [await mlte_admin.list_artifacts("credit-risk", "v2", limit=10, offset=o) for o in (0, 10, 20)]
    assert [len(p.items) for p in pages] == [10, 10, 3] and [p.has_more for p in pages] == [True, True, False]
    rows = [a for p in pages for a in p.items]
    assert [a.identifier for a in rows[:4]] == ["card.default", "suite.v1-acceptance", "suite.v2-acceptance",
                                                "suite.v3-acceptance"]  # model level first, in write order
    assert {a.level for a in rows[:4]} == {"model"} and {a.level for a in rows[4:]} == {"version"}
    assert rows[-1].identifier == "results.default" and len({a.identifier for a in rows}) == 23
    assert [a.identifier for a in await mlte_admin.search_artifacts("credit-risk", "v2")] == [a.identifier
                                                                                              for a in rows]


async def test_mlte_model_level_artifacts_show_in_every_version(mlte_admin: MLTEClient) -> None:
    cards = [await mlte_admin.get_artifact("credit-risk", v, "card.default") for v in ("v1", "v2", "v3")]
    assert [c.version for c in cards] == ["v1", "v2", "v3"] and len({json.dumps(c.body) for c in cards}) == 1
    v3 = [a.identifier for a in (await mlte_admin.list_artifacts("credit-risk", "v3")).items]
    assert v3[:4] == ["card.default", "suite.v1-acceptance", "suite.v2-acceptance", "suite.v3-acceptance"]


async def test_mlte_artifact_record_normalization(mlte_admin: MLTEClient) -> None:
    latency = await mlte_admin.get_artifact("credit-risk", "v2", "evidence.latency-p95")
    assert (latency.type, latency.level, latency.creator, dict(latency.raw_extra)) == ("evidence", "version",
                                                                                         "admin", {})
    assert latency.timestamp is not None and latency.timestamp.tzinfo is UTC
    assert datetime(2020, 1, 1, tzinfo=UTC) <= latency.timestamp <= datetime.now(UTC)
    assert latency.body["value"]["unit"] == "millisecond"  # the seed said "ms": MLTE stores pint's name
    card = await mlte_admin.get_artifact("credit-risk", "v1", "card.default")
    assert [q["identifier"] for q in card.body["system_requirements"]] == [
        "card.default-qas_001", "card.default-qas_002", "card.default-qas_003"]  # assigned by the server
    results = await mlte_admin.get_artifact("credit-risk", "v1", "results.default")
    assert results.type == "results" and set(results.body["results"]) == {"accuracy", "roc-auc", "fairness-gap"}


async def test_mlte_search_filters(mlte_admin: MLTEClient) -> None:
    def ids(rows: tuple) -> list[str]:
        return [r.identifier for r in rows]

    kinds = await mlte_admin.search_artifacts("spam-filter", "2024.1", {"type": "type", "item_type": "evidence"})
    assert ids(kinds) == ["evidence.accuracy", "evidence.f1", "evidence.latency-p95"]
    either = {"type": "or", "filters": [{"type": "identifier", "id": "card.default"},
                                        {"type": "identifier", "id": "evidence.f1"}]}
    assert ids(await mlte_admin.search_artifacts("spam-filter", "2024.1", either)) == ["card.default", "evidence.f1"]
    assert await mlte_admin.search_artifacts("spam-filter", "2024.1", {"type": "none"}) == ()
    with pytest.raises(BadUserInputError) as info:
        await mlte_admin.search_artifacts("spam-filter", "2024.1", {"type": "regex", "x": 1})
    assert info.value.backend_code == "422" and "filter.AllFilter.type" in info.value.message
    with pytest.raises(BackendError):  # property filters crash on artifacts upstream
        await mlte_admin.search_artifacts("spam-filter", "2024.1", {"type": "property", "name": "header",
                                                                    "property": "x"})


async def test_mlte_validation_error_wire_format(mlte_target: MLTETarget, mlte_admin: MLTEClient) -> None:
    token = await mlte_target.token()
    raw = await mlte_target.raw("GET", "model/credit-risk/version/v1/artifact?limit=abc", token=token)
    assert (raw.status, raw.json()) == (422, {"detail": [{
        "type": "int_parsing", "loc": ["query", "limit"], "input": "abc",
        "msg": "Input should be a valid integer, unable to parse string as an integer"}]})
    bad = await mlte_target.raw("POST", "model/credit-risk/version/v1/artifact", token=token,
                                json={"artifact": {"header": {"identifier": "x", "type": "nope"},
                                                   "body": {"artifact_type": "bogus"}}})
    assert [(e["type"], e["loc"]) for e in bad.json()["detail"]] == [
        ("enum", ["body", "artifact", "header", "type"]), ("union_tag_invalid", ["body", "artifact", "body"])]
    not_json = await mlte_target.raw("POST", "model", data=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status == 422 and not_json.json()["detail"][0]["type"] == "json_invalid"  # before auth
    with pytest.raises(BadUserInputError):
        await mlte_admin.list_artifacts("credit-risk", "v1", limit=-1)
    with pytest.raises(BadUserInputError) as info:
        await mlte_admin.write_artifact("credit-risk", "v1", {"header": {"identifier": "x"}, "body": {}})
    assert "artifact.header.type: Field required" in info.value.message


# ---------------------------------------------------------------------------------------------- writes


async def test_mlte_write_returns_what_the_server_stored(mlte_admin: MLTEClient) -> None:
    model = await fresh_version(mlte_admin)
    before = datetime.now(UTC).replace(microsecond=0)
    stored = await mlte_admin.write_artifact(model, "v1", evidence("evidence.accuracy", "acc", creator="bob",
                                                                   timestamp="5", level="model"))
    assert (stored.identifier, stored.level, stored.creator) == ("evidence.acc", "version", "admin")
    assert stored.timestamp is not None and before <= stored.timestamp <= datetime.now(UTC)
    assert stored.body["metadata"]["measurement"]["additional_data"] == {}
    assert (await mlte_admin.get_artifact(model, "v1", "evidence.acc")).body == stored.body
    with pytest.raises(NotFoundError):
        await mlte_admin.get_artifact(model, "v1", "evidence.accuracy")
    with pytest.raises(BadUserInputError) as info:
        await mlte_admin.write_artifact(model, "v1", evidence("x", "acc"))
    assert (info.value.backend_code, info.value.message) == (
        "409", "Artifact 'evidence.acc' (force param prevents overwriting it) already exists.")
    forced = await mlte_admin.write_artifact(model, "v1", evidence("x", "acc", 7), force=True)
    assert forced.body["value"]["integer"] == 7


async def test_mlte_cards_are_model_level_across_versions(mlte_admin: MLTEClient) -> None:
    model = await fresh_version(mlte_admin, "v1", "v2")
    card = {"header": {"identifier": "mycard", "type": "card"},
            "body": {"artifact_type": "card", "data": [{"source": "openml:dataset:61"}]}}
    stored = await mlte_admin.write_artifact(model, "v1", card)
    assert (stored.identifier, stored.level) == ("card.mycard", "model")
    assert stored.body["system"] == {"goals": [], "problem_type": "", "task": None, "usage_context": None,
                                     "risks": []}
    assert [a.identifier for a in (await mlte_admin.list_artifacts(model, "v2")).items] == ["card.mycard"]
    with pytest.raises(BadUserInputError):
        await mlte_admin.write_artifact(model, "v2", {**card, "header": {"identifier": "card.mycard",
                                                                          "type": "card"}})
    deleted = await mlte_admin.delete_artifact(model, "v2", "card.mycard")  # gone from every version
    assert deleted.identifier == "card.mycard"
    assert (await mlte_admin.list_artifacts(model, "v1")).items == ()


async def test_mlte_parents_create_missing_model_and_version(mlte_admin: MLTEClient) -> None:
    model = unique("parents")
    with pytest.raises(NotFoundError) as info:
        await mlte_admin.write_artifact(model, "v1", evidence("e", "acc"))
    assert info.value.message == f"Model {model} not found."
    stored = await mlte_admin.write_artifact(model, "team/v1", evidence("e", "acc"), parents=True)
    assert (stored.model, stored.version) == (model, "team/v1")
    assert (await mlte_admin.get_model(model)).versions == ("team/v1",)
    with pytest.raises(NotFoundError) as info:
        await mlte_admin.write_artifact(model, "v9", evidence("e", "acc"))
    assert info.value.message == f"Version: v9 for model {model} not found."


async def test_mlte_create_and_delete_models_and_versions(mlte_admin: MLTEClient) -> None:
    model = unique("team/crud")
    created = await mlte_admin.create_model(model)
    assert (created.identifier, created.versions) == (model, ())
    with pytest.raises(BadUserInputError) as info:
        await mlte_admin.create_model(model)
    assert info.value.message == f"Model {model} already exists."
    with pytest.raises(NotFoundError):
        await mlte_admin.create_version(unique("nope"), "v1")
    await mlte_admin.create_version(model, "v1")
    assert (await mlte_admin.delete_version(model, "v1")).identifier == "v1"
    assert (await mlte_admin.delete_model(model)).identifier == model
    with pytest.raises(NotFoundError):
        await mlte_admin.get_model(model)


async def test_mlte_delete_artifact_returns_it_then_not_found(mlte_admin: MLTEClient) -> None:
    model = await fresh_version(mlte_admin)
    await mlte_admin.write_artifact(model, "v1", evidence("e", "size"))
    deleted = await mlte_admin.delete_artifact(model, "v1", "evidence.size")
    assert (deleted.identifier, deleted.type) == ("evidence.size", "evidence")
    with pytest.raises(NotFoundError) as info:
        await mlte_admin.delete_artifact(model, "v1", "evidence.size")
    assert info.value.message == f"Artifact: evidence.size for version v1 and model {model} not found."


async def test_mlte_cross_validation_failures_are_backend_errors(mlte_admin: MLTEClient) -> None:
    model = await fresh_version(mlte_admin)
    bad = [
        {"header": {"identifier": "c", "type": "card"},
         "body": {"artifact_type": "card", "system": {"problem_type": "Astrology"}}},
        {"header": {"identifier": "s", "type": "suite"},
         "body": {"artifact_type": "suite", "test_cases": [{"identifier": "a", "goal": "g", "qas_list": ["q-9"]}]}},
        {"header": {"identifier": "r", "type": "results"},
         "body": {"artifact_type": "results", "test_suite": {"test_cases": [{"identifier": "a", "goal": "g"}]}}},
        {"header": {"identifier": "c", "type": "suite"}, "body": {"artifact_type": "card"}},
    ]
    for artifact in bad:
        with pytest.raises(BackendError) as info:
            await mlte_admin.write_artifact(model, "v1", artifact)
        assert (info.value.message, info.value.backend_code) == ("Internal server error.", "500")
    assert (await mlte_admin.list_artifacts(model, "v1")).items == ()


async def test_mlte_report_identifier_gets_a_time_suffix(mlte_admin: MLTEClient) -> None:
    model = await fresh_version(mlte_admin)
    suite = {"test_cases": []}
    report = {"header": {"identifier": "weekly", "type": "report"},
              "body": {"artifact_type": "report", "negotiation_card_id": "card.default", "negotiation_card": {},
                       "test_suite_id": "suite.default", "test_suite": suite, "test_results_id": "results.default",
                       "test_results": {"test_suite": suite}}}
    stored = await mlte_admin.write_artifact(model, "v1", report)
    assert re.fullmatch(r"report\.weekly-\d{8}-\d{6}", stored.identifier) and stored.level == "version"
    assert stored.body["test_results"]["test_suite_id"] == "" and stored.body["comments"] == []


async def test_mlte_errors_carry_backend_and_never_crash(mlte_admin: MLTEClient) -> None:
    for call in (lambda: mlte_admin.get_model(""), lambda: mlte_admin.get_artifact("credit-risk", "v1", "a---b")):
        with pytest.raises(GatewayError) as info:
            await call()
        assert info.value.backend == "mlte"


# ---------------------------------------------------------------------------------------------- parity


async def test_mlte_emulator_stores_the_seed_byte_for_byte_like_the_real_server(
        mlte_emulator: RunningEmulator, mlte_real_server: RealMLTE) -> None:
    """The same seed calls leave both servers with identical bodies (server-set timestamps aside)."""
    targets = [MLTETarget("emulator", mlte_emulator.url, mlte_emulator.base_url, ""),
               MLTETarget("real", mlte_real_server.url, mlte_real_server.base_url, "")]
    tokens = [await t.token() for t in targets]

    async def both(path: str) -> list[bytes]:
        bodies = []
        for target, token in zip(targets, tokens, strict=True):
            response = await target.raw("GET", path, token=token)
            assert response.status == 200, (target.name, path, response.status)
            bodies.append(re.sub(rb'"timestamp":\d+', b'"timestamp":0', response.body))
        return bodies

    listed = await both("model")
    assert all(json.loads(b)[: len(SEEDED_MODELS)] == SEEDED_MODELS for b in listed)
    for model in SEEDED_MODELS:
        segment = model.replace("/", "---")
        emulated, real = await both(f"model/{segment}")
        assert emulated == real, model
        for version in json.loads(real)["versions"]:
            emulated, real = await both(f"model/{segment}/version/{version['identifier']}/artifact?limit=1000")
            assert emulated == real, (model, version)


_SUITE_X = {"artifact": {"header": {"identifier": "x", "type": "suite"}, "body": {"artifact_type": "suite"}}}
_WRITE = "model/credit-risk/version/v1/artifact"
WIRE = [  # (method, path, JSON body, user or None, extra headers): answers that must match byte for byte
    ("GET", "healthz", None, None, None), ("GET", "nothing", None, "admin", None),
    ("PUT", "model", {"identifier": "x"}, "admin", None), ("GET", "model/x/y/z", None, "admin", None),
    ("POST", "model", {"name": "x"}, "admin", None), ("POST", "model", [1], "admin", None),
    ("POST", "model", {"identifier": 5}, "admin", None), ("POST", "model", None, "admin", None),
    ("POST", "model", {"identifier": "credit-risk"}, "admin", None),
    ("POST", "model/credit-risk/version", {"identifier": "v1"}, "admin", None),
    ("GET", "model/credit-risk/version/v1/artifact?limit=2&offset=1", None, "admin", None),
    ("GET", "model/credit-risk/version/v1/artifact?limit=-1&offset=8", None, "admin", None),
    ("GET", "model/credit-risk/version/v1/artifact?offset=-2", None, "admin", None),
    ("GET", "model/credit-risk/version/v1/artifact/search", None, "admin", None),
    ("POST", "model/credit-risk/version/v1/artifact/search", {"filter": "x"}, "admin", None),
    ("POST", "model/credit-risk/version/v1/artifact/search",
     {"filter": {"type": "and", "filters": [{"type": "identifier"}]}}, "admin", None),
    ("POST", "model/credit-risk/version/v1/artifact/search",
     {"filter": {"type": "and", "filters": [{"type": "type", "item_type": "card"},
                                            {"type": "identifier", "id": "card.default"}]}}, "admin", None),
    ("POST", _WRITE, {"artifact": {"header": "x", "body": {"artifact_type": "suite", "test_cases": [1]}}},
     "admin", None),
    ("POST", _WRITE, {"artifact": {"header": {"identifier": "a", "type": "evidence", "timestamp": "abc",
                                              "level": "x", "creator": 5},
                                   "body": {"artifact_type": "evidence", "metadata": "x", "evidence_class": None,
                                            "value": {"evidence_type": "integer", "integer": 1.5}}}}, "admin", None),
    ("POST", _WRITE, {"artifact": {"header": {"identifier": "a", "type": "card"},
                                   "body": {"artifact_type": "card", "system": {"risks": "x"},
                                            "data": [{"labels": [{"percentage": "abc"}]}]}}}, "admin", None),
    ("POST", _WRITE, {"artifact": {"header": {"identifier": "x", "type": "evidence"}, "body": {}}}, "admin", None),
    ("POST", _WRITE, {**_SUITE_X, "force": "maybe"}, "admin", None),
    ("POST", "model/credit-risk/version/v9/artifact", _SUITE_X, "admin", None),
    ("POST", "model/nope/version/v9/artifact", _SUITE_X, "admin", None),
    ("GET", "model", None, "alice", None), ("GET", "user/me", None, "alice", None),
    ("GET", "user/me/models", None, "alice", None), ("GET", "user/admin", None, "alice", None),
    ("POST", "user", {"username": "alice", "password": "x"}, "admin", None),
    ("DELETE", "user/nobody", None, "admin", None), ("GET", "model", None, None, {"Authorization": "Basic abc"}),
    ("GET", "model", None, None, {"Authorization": "Bearer"}),
    ("GET", "model", None, None, {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.xx"}),
    ("GET", "model", None, None, {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30.xx"}),
    ("GET", "model", None, None, {"Authorization": "Bearer bm90anNvbg.e30.xx"}),
    ("POST", "token", None, None, None),
]


async def test_mlte_emulator_answers_the_wire_catalogue_like_the_real_server(
        mlte_emulator: RunningEmulator, mlte_real_server: RealMLTE) -> None:
    """Status, content type, auth challenge, ``allow`` and body of each request, byte for byte (password hashes
    and server-set timestamps aside)."""
    targets = [MLTETarget("emulator", mlte_emulator.url, mlte_emulator.base_url, ""),
               MLTETarget("real", mlte_real_server.url, mlte_real_server.base_url, "")]
    for method, path, body, user, headers in WIRE:
        answers = []
        for target in targets:
            token = await target.token(user) if user else None
            response = await target.raw(method, path, json=body, token=token, headers=headers)
            text = re.sub(rb'"hashed_password":"[^"]*"', b'"hashed_password":"-"', response.body)
            text = re.sub(rb'"timestamp":\d+', b'"timestamp":0', text)
            answers.append((response.status, response.headers.get("content-type"),
                            response.headers.get("www-authenticate"), response.headers.get("allow"), text))
        assert answers[0] == answers[1], (method, path, body)
