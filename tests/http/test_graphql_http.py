"""GraphQL over HTTP, rule by rule, over real HTTP against the gateway on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from adapters.openml_v1.emulator import RunningEmulator
from tests.helpers import RunningGateway, running_gateway, settings_for
from tests.http._client import GRAPHQL_RESPONSE, call

TYPENAME = {"query": "{ __typename }"}
PARSE_ERROR = {"query": "{"}
VALIDATION_ERROR = {"query": "{ noSuchField }"}
COERCION_ERROR = {"query": "query Q($id: ID!) { dataset(id: $id) { id } }", "variables": {"id": None}}
TWO_OPERATIONS = "query A { a: __typename } query B { b: __typename }"


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "application/json"),
    ("application/json", "application/json"),
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    ("*/*", "application/json"),
    ("application/*", "application/json"),
    (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
    (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
    (f"{GRAPHQL_RESPONSE};q=0.5, */*", "application/json"),
    (f"application/json;q=0.5, {GRAPHQL_RESPONSE};q=0.8", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE}; charset=utf-8", GRAPHQL_RESPONSE),
    ("application/json; charset=UTF-8", "application/json"),
    (f"{GRAPHQL_RESPONSE};charset=iso-8859-1, application/json", "application/json"),
    ("text/html, application/json;q=0.9", "application/json"),
])
async def test_http_accept_negotiates_the_media_type(gateway: RunningGateway, accept: str | None,
                                                     expected: str) -> None:
    reply = await call(gateway, json_body=TYPENAME, headers={"Accept": accept} if accept else {})
    assert reply.status == 200, reply.text
    assert reply.media_type == expected
    assert "charset=utf-8" in reply.headers["Content-Type"]
    assert reply.body == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", ["text/plain", "application/json;q=0", "application/json; charset=latin-1",
                                    "image/png, text/*"])
async def test_http_nothing_acceptable_is_406(gateway: RunningGateway, accept: str) -> None:
    reply = await call(gateway, json_body=TYPENAME, headers={"Accept": accept})
    assert reply.status == 406
    assert reply.error()["extensions"] == {"code": "BAD_REQUEST"}
    assert GRAPHQL_RESPONSE in reply.error()["message"]


@pytest.mark.parametrize(("payload", "code"), [
    (PARSE_ERROR, {"GRAPHQL_PARSE_FAILED"}),
    (VALIDATION_ERROR, {"GRAPHQL_VALIDATION_FAILED"}),
    (COERCION_ERROR, {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}),  # schema/errors.py's choice
    ({"query": TWO_OPERATIONS}, {"OPERATION_RESOLUTION_FAILURE"}),
    ({"query": TWO_OPERATIONS, "operationName": "C"}, {"OPERATION_RESOLUTION_FAILURE"}),
    ({"query": "fragment F on Query { __typename }"}, {"OPERATION_RESOLUTION_FAILURE"}),
], ids=["parse", "validation", "variable-coercion", "several-operations-unnamed", "unknown-operation-name",
        "no-operation"])
@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 400), ("application/json", 200)])
async def test_http_request_errors_have_no_data_and_status_by_media_type(
    gateway: RunningGateway, payload: dict, code: set[str], accept: str, status: int,
) -> None:
    reply = await call(gateway, json_body=payload, headers={"Accept": accept})
    assert (reply.status, reply.media_type) == (status, accept)
    error = reply.error()  # asserts: exactly one error and no `data` entry
    assert error["extensions"]["code"] in code, error


async def test_http_request_error_messages_name_the_problem(gateway: RunningGateway) -> None:
    several = await call(gateway, json_body={"query": TWO_OPERATIONS})
    assert several.error()["message"] == "Must provide operation name if query contains multiple operations."
    unknown = await call(gateway, json_body={"query": TWO_OPERATIONS, "operationName": "C"})
    assert unknown.error()["message"] == 'Unknown operation named "C".'
    coerced = await call(gateway, json_body=COERCION_ERROR)
    assert "$id" in coerced.error()["message"]


async def test_http_operation_name_selects_one_of_several(gateway: RunningGateway) -> None:
    for name, field in (("A", "a"), ("B", "b")):
        reply = await call(gateway, json_body={"query": TWO_OPERATIONS, "operationName": name},
                           headers={"Accept": GRAPHQL_RESPONSE})
        assert (reply.status, reply.body) == (200, {"data": {field: "Query"}})


async def test_http_field_error_keeps_data_and_200_with_either_media_type(gateway: RunningGateway) -> None:
    query = {"query": '{ dataset(id: "openml:dataset:999999") { name } known: dataset(id: "openml:dataset:61") '
                      "{ name } }"}
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        reply = await call(gateway, json_body=query, headers={"Accept": accept})
        assert reply.status == 200
        assert reply.body["data"] == {"dataset": None, "known": {"name": "iris"}}
        assert reply.body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("parameter", ["variables", "operationName", "extensions"])
async def test_http_null_parameters_are_allowed(gateway: RunningGateway, parameter: str) -> None:
    reply = await call(gateway, json_body={**TYPENAME, parameter: None}, headers={"Accept": GRAPHQL_RESPONSE})
    assert (reply.status, reply.body) == (200, {"data": {"__typename": "Query"}})


async def test_http_get_runs_a_query_from_query_parameters(gateway: RunningGateway) -> None:
    params = {"query": "query Named($id: ID!) { dataset(id: $id) { name } }", "operationName": "Named",
              "variables": json.dumps({"id": "openml:dataset:61"}), "extensions": json.dumps({"some": "value"})}
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        reply = await call(gateway, "GET", params=params, headers={"Accept": accept})
        assert (reply.status, reply.media_type) == (200, accept)
        assert reply.body == {"data": {"dataset": {"name": "iris"}}}
        assert "Cache-Control" not in reply.headers  # no caching headers unless a setting says so


async def test_http_get_empty_variables_and_extensions_count_as_absent(gateway: RunningGateway) -> None:
    reply = await call(gateway, "GET", params={**TYPENAME, "variables": "", "extensions": ""})
    assert (reply.status, reply.body) == (200, {"data": {"__typename": "Query"}})


@pytest.mark.parametrize(("params", "operation"), [
    ({"query": "mutation { __typename }"}, "mutation"),
    ({"query": 'mutation M { addTag(id: "openml:dataset:61", tag: "x") } query Q { __typename }',
      "operationName": "M"}, "mutation"),
])
async def test_http_mutation_over_get_is_405_with_allow(gateway: RunningGateway, params: dict,
                                                        operation: str) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        reply = await call(gateway, "GET", params=params, headers={"Accept": accept})
        assert reply.status == 405
        assert reply.headers["Allow"] == "POST"
        assert reply.error() == {"message": f"Can only perform a {operation} operation from a POST request.",
                                 "extensions": {"code": "BAD_REQUEST"}}


async def test_http_get_may_pick_the_query_of_a_document_that_also_has_a_mutation(gateway: RunningGateway) -> None:
    params = {"query": 'mutation M { addTag(id: "openml:dataset:61", tag: "x") } query Q { __typename }',
              "operationName": "Q"}
    reply = await call(gateway, "GET", params=params)
    assert (reply.status, reply.body) == (200, {"data": {"__typename": "Query"}})


async def test_http_mutation_over_post_runs(gateway: RunningGateway) -> None:
    reply = await call(gateway, json_body={"query": "mutation { __typename }"}, headers={"Accept": GRAPHQL_RESPONSE})
    assert (reply.status, reply.body) == (200, {"data": {"__typename": "Mutation"}})


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/graphql", "multipart/form-data",
                                          "application/x-www-form-urlencoded", GRAPHQL_RESPONSE,
                                          "application/json; charset=latin-1", "application/jsonx"])
async def test_http_unsupported_media_type_is_415(gateway: RunningGateway, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    reply = await call(gateway, data=json.dumps(TYPENAME), headers=headers)
    assert reply.status == 415
    assert reply.error()["extensions"] == {"code": "BAD_REQUEST"}
    assert "application/json" in reply.error()["message"]


async def test_http_json_content_type_with_utf8_charset_is_accepted(gateway: RunningGateway) -> None:
    query = {"query": '{ __type(name: "Run🏃Swim🏊") { name } }'}
    reply = await call(gateway, data=json.dumps(query, ensure_ascii=False).encode(),
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert (reply.status, reply.body) == (200, {"data": {"__type": None}})


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_http_wrong_method_is_405_with_allow(gateway: RunningGateway, method: str) -> None:
    reply = await call(gateway, method, json_body=TYPENAME)
    assert reply.status == 405
    assert {"GET", "POST"} <= {m.strip() for m in reply.headers["Allow"].split(",")}


async def test_http_head_is_get_without_a_body(gateway: RunningGateway) -> None:
    reply = await call(gateway, "HEAD", params=TYPENAME)
    assert (reply.status, reply.media_type, reply.text) == (200, "application/json", "")


async def test_http_graphiql_only_for_browsers_asking_for_html(gateway: RunningGateway) -> None:
    page = await call(gateway, "GET", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status == 200 and "graphiql" in page.text.lower()
    for accept in ("*/*", "application/json"):  # an API client without a query gets a GraphQL error, not HTML
        reply = await call(gateway, "GET", headers={"Accept": accept})
        assert reply.status == 400 and "no GraphQL document" in reply.error()["message"]


async def test_http_graphiql_off_answers_missing_query(openml_emulator: RunningEmulator) -> None:
    async with running_gateway(settings_for(openml_emulator.url, graphiql="false")) as gw:
        browser = await call(gw, "GET", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        html_only = await call(gw, "GET", headers={"Accept": "text/html"})
    assert browser.status == 400 and "no GraphQL document" in browser.error()["message"]
    assert html_only.status == 406 and html_only.error()["extensions"] == {"code": "BAD_REQUEST"}


async def test_http_get_cache_control_only_when_configured_and_never_shared_for_credentials(
    openml_emulator: RunningEmulator,
) -> None:
    async with running_gateway(settings_for(openml_emulator.url, get_cache_control="public, max-age=60")) as gw:
        anonymous = await call(gw, "GET", params=TYPENAME)
        keyed = await call(gw, "GET", params=TYPENAME, headers={"X-OpenML-Api-Key": "demo-key-alice"})
        failed = await call(gw, "GET", params={"query": '{ dataset(id: "openml:dataset:999999") { name } }'})
        posted = await call(gw, json_body=TYPENAME)
    assert anonymous.headers["Cache-Control"] == "public, max-age=60"
    assert "Accept" in anonymous.headers["Vary"] and "x-openml-api-key" in anonymous.headers["Vary"].lower()
    assert keyed.headers["Cache-Control"] == "private"
    assert "Cache-Control" not in failed.headers and "Cache-Control" not in posted.headers


async def test_http_context_carries_credentials_and_request_id_to_the_backend(
    gateway: RunningGateway, openml_emulator: RunningEmulator,
) -> None:
    openml_emulator.state.reset_calls()
    reply = await call(gateway, json_body={"query": '{ dataset(id: "openml:dataset:3") { id } }'},
                       headers={"X-Request-Id": "req-http-1", "X-OpenML-Api-Key": "demo-key-alice"})
    assert (reply.status, reply.body) == (200, {"data": {"dataset": {"id": "openml:dataset:3"}}})
    (backend_call,) = [c for c in openml_emulator.state.calls if c.headers.get("x-request-id") == "req-http-1"][:1]
    assert backend_call.query.get("api_key") == "demo-key-alice"
