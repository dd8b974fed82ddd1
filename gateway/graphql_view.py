"""GraphQL over HTTP on /graphql: negotiation, request hardening, persisted queries and status codes.

The rules (the GraphQL-over-HTTP spec as the ``graphql-http`` audit checks it, plus design.md):

- ``Accept`` picks the response type: ``application/graphql-response+json`` when listed explicitly with a q at
  least that of JSON, else ``application/json`` (also for a missing header, ``*/*`` and ``application/*``);
  a charset other than UTF-8 or nothing acceptable is 406.
- A GraphQL request error (parse, validation, operation resolution, variable coercion, query limits) has no
  ``data``: 400 with ``application/graphql-response+json``, 200 with ``application/json``.
- A malformed HTTP request is a 4xx with ``{"errors": [{"message", "extensions": {"code": "BAD_REQUEST"}}]}``
  whatever the Accept: a media type other than JSON (415), a body over
  ``max_body_bytes`` (413, on Content-Length and while streaming), an empty body, bytes that are not UTF-8,
  invalid JSON, JSON nested deeper than ``max_nesting`` (checked before decoding), a body that is not an
  object, wrong parameter types, no ``query``. A mutation over GET is 405 with ``Allow: POST``; HEAD is GET
  without the body; other methods never reach the view (the route answers 405 with ``Allow``).
- Persisted queries follow ``gateway.apq`` (Apollo's statuses, not the ones above).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType as StrawberryOperationType

from gateway.apq import PersistedQueries, PersistedQueryError, Resolved
from gateway.context import CREDENTIAL_HEADERS, Context, Services
from schema.parsing import parse_cached

__all__ = ["APPLICATION_JSON", "GRAPHQL_RESPONSE_JSON", "GatewayGraphQL", "GraphQLRequestError", "HTTPRequestError",
           "negotiate", "too_deep"]

log = logging.getLogger("gateway.graphql_view")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
_PARAMETERS = ("query", "operationName", "variables", "extensions")
_JSON_STRINGS = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)', re.S)  # an unterminated string eats the rest: linear
_GRAPHQL_SKIPPED = re.compile(
    r'"""(?:[^"\\]++|\\"""|\\|"(?!""))*+(?:"""|\Z)|"(?:[^"\\\n\r]++|\\.)*+(?:"|(?=[\n\r])|\Z)|#[^\n\r]*+', re.S)
_NOT_BRACKETS = re.compile(r"[^\[\]{}()]++")
_RESOLUTION = "OPERATION_RESOLUTION_FAILURE"
_VARY = ", ".join(["Accept", *sorted(CREDENTIAL_HEADERS.values())])
_RANGES = {GRAPHQL_RESPONSE_JSON: (GRAPHQL_RESPONSE_JSON, 2), APPLICATION_JSON: (APPLICATION_JSON, 2),
           "application/*": (APPLICATION_JSON, 1), "*/*": (APPLICATION_JSON, 0)}  # range -> (type, specificity)
_STEP = {"[": 1, "{": 1, "(": 1, "]": -1, "}": -1, ")": -1}


class GraphQLRequestError(Exception):
    """A GraphQL request error found by the view (no single operation, a document nested too deep).

    Answered like a parse or validation error: no ``data``; 400 or 200 by the negotiated media type.
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class HTTPRequestError(Exception):
    """A request refused before GraphQL runs: HTTP status, message, ``extensions.code`` and extra headers."""

    def __init__(self, status: int, message: str, *, code: str = "BAD_REQUEST",
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


def negotiate(accept: str | None) -> str | None:
    """Return the response media type for an ``Accept`` header, or None when neither JSON type is acceptable.

    Each type takes the q of its most specific range. Wildcards stand for ``application/json`` only: clients
    that send ``*/*`` predate the new type. On equal q the new type wins.
    """
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    best: dict[str, tuple[int, float]] = {}  # media type -> (specificity of its most specific range, q)
    for item in accept.split(","):
        media, params = _media_type(item)
        target, specificity = _RANGES.get(media, (None, -1))
        if target is None or params.get("charset", "utf-8").lower() not in {"utf-8", "utf8"}:
            continue
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            continue
        if 0 <= q <= 1 and specificity > best.get(target, (-1, 0.0))[0]:
            best[target] = (specificity, q)
    q_new, q_json = (best.get(target, (0, 0.0))[1] for target in (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON))
    if q_new > 0 and q_new >= q_json:
        return GRAPHQL_RESPONSE_JSON
    return APPLICATION_JSON if q_json > 0 else None


def too_deep(text: str, limit: int, *, graphql: bool = False) -> bool:
    """Return True when brackets outside strings (and comments) in ``text`` nest more than ``limit`` deep.

    Linear in ``len(text)`` and recursion-free, so it runs before a recursive parser sees the text.
    """
    skipped = (_GRAPHQL_SKIPPED if graphql else _JSON_STRINGS).sub("", text)
    brackets = _NOT_BRACKETS.sub("", skipped)
    return len(brackets) > limit and max(accumulate(map(_STEP.__getitem__, brackets))) > limit


def _media_type(value: str | None) -> tuple[str, dict[str, str]]:
    media, *rest = (value or "").split(";")
    params = {}
    for param in rest:
        key, _, val = param.partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return media.strip().lower(), params


def _decode_json(text: str, what: str, max_nesting: int) -> Any:
    if too_deep(text, max_nesting):
        raise HTTPRequestError(400, f"{what} nests more than {max_nesting} levels deep.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise HTTPRequestError(400, f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column "
                                    f"{exc.colno}.") from None
    except (ValueError, RecursionError):  # NaN/Infinity, or an integer of more than 4,300 digits
        raise HTTPRequestError(400, f"{what} is not valid JSON: it holds a number out of range.") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _json_kind(value: Any) -> str:
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "an object",
            type(None): "null"}.get(type(value), "not an object")


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _operation(query: str, operation_name: str | None, max_tokens: int | None) -> OperationDefinitionNode | None:
    """Return the operation a request runs, or None when the document does not parse (Strawberry reports that).

    Raises GraphQLRequestError when no single operation can be chosen.
    """
    try:
        document = parse_cached(query, max_tokens)  # the same cache Strawberry then parses from
    except (GraphQLError, RecursionError):
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        named = [op for op in operations if op.name is not None and op.name.value == operation_name]
        if not named:
            raise GraphQLRequestError(f'Unknown operation named "{operation_name}".', _RESOLUTION)
        return named[0]
    if len(operations) > 1:
        raise GraphQLRequestError("Must provide operation name if query contains multiple operations.", _RESOLUTION)
    if not operations:
        raise GraphQLRequestError("The document contains no operation to run.", _RESOLUTION)
    return operations[0]


def _is_request_error(result: ExecutionResult) -> bool:
    """A GraphQL request error: raised before execution began (every error pathless, no data)."""
    if isinstance(result, PreExecutionError):
        return True
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors or ())


class GatewayGraphQL(GraphQL):
    """Strawberry's ASGI view with the gateway's per-request context and the HTTP rules atop this module.

    WebSocket scopes and GraphiQL stay Strawberry's; every HTTP GraphQL request goes through ``handle``.
    """

    def __init__(self, schema: BaseSchema, *, graphql_ide: Any = "graphiql",
                 persisted_queries: PersistedQueries | None = None, max_body_bytes: int = 1024 * 1024,
                 max_nesting: int = 64, max_tokens: int | None = None, get_cache_control: str | None = None) -> None:
        super().__init__(schema, graphql_ide=graphql_ide)
        self.persisted_queries = persisted_queries or PersistedQueries(None)
        self.max_body_bytes = max_body_bytes
        self.max_nesting = max_nesting
        self.max_tokens = max_tokens
        self.get_cache_control = get_cache_control

    def encode_json(self, data: object) -> bytes:
        """orjson (a 100-row leaderboard body: 32 us against json.dumps' 450 us); json for what orjson refuses
        (an integer beyond 64 bits inside a JSON scalar)."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data).encode()

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        services: Services = request.app.state.services
        return Context.create(services, request.headers, request=request, response=response)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.handle(request)
        except ClientDisconnect:
            return
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        """Answer one GraphQL HTTP request; never raises for anything the client sent."""
        media = APPLICATION_JSON
        try:
            if request.method not in {"GET", "HEAD", "POST"}:
                raise HTTPRequestError(405, f"{request.method} is not supported: use GET or POST.",
                                       headers={"Allow": "GET, HEAD, POST"})
            accept = request.headers.get("accept")
            if self._wants_ide(request, accept):
                return await self.render_graphql_ide(request)
            negotiated = negotiate(accept)
            if negotiated is None:
                raise HTTPRequestError(406, f"None of the accepted media types is served: use {GRAPHQL_RESPONSE_JSON}"
                                            f" or {APPLICATION_JSON} (UTF-8).")
            media = negotiated
            params = await (self._get_params(request) if _is_get(request) else self._post_params(request))
            return await self._run(request, media, params)
        except GraphQLRequestError as exc:
            return self._request_error(media, _error_body(exc.message, exc.code)["errors"])
        except HTTPRequestError as exc:
            return self._json(_error_body(exc.message, exc.code), exc.status, media, exc.headers)
        except PersistedQueryError as exc:
            return self._json(_error_body(exc.message, exc.code), exc.status, media, exc.headers)
        except ClientDisconnect:
            raise
        except Exception:
            log.exception("unexpected error while serving %s %s", request.method, request.url.path)
            return self._json(_error_body("Internal server error.", "INTERNAL"), 500, media)

    def _wants_ide(self, request: Request, accept: str | None) -> bool:
        return (self.graphql_ide is not None and _is_get(request) and "text/html" in (accept or "")
                and not any(name in request.query_params for name in ("query", "extensions")))

    async def _get_params(self, request: Request) -> dict[str, Any]:
        if len(request.scope.get("query_string", b"")) > self.max_body_bytes:
            raise HTTPRequestError(414, f"The query string exceeds {self.max_body_bytes} bytes: use POST.")
        found = request.query_params
        for name in _PARAMETERS:
            if len(found.getlist(name)) > 1:
                raise HTTPRequestError(400, f"The `{name}` parameter is given more than once.")
        data: dict[str, Any] = {name: found[name] for name in _PARAMETERS if name in found}
        for name in ("variables", "extensions"):
            if name in data:
                data[name] = _decode_json(data[name], f"The `{name}` parameter", self.max_nesting) \
                    if data[name].strip() else None
        return data

    async def _post_params(self, request: Request) -> dict[str, Any]:
        media, params = _media_type(request.headers.get("content-type"))
        if media != APPLICATION_JSON or params.get("charset", "utf-8").lower() not in {"utf-8", "utf8"}:
            shown = request.headers.get("content-type") or "none"
            raise HTTPRequestError(415, f"Unsupported Content-Type ({shown[:100]}): send application/json "
                                        "(UTF-8).")
        body = await self._read_body(request)
        if not body.strip():
            raise HTTPRequestError(400, "The request body is empty: send a JSON object with a `query`.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPRequestError(400, "The request body is not valid UTF-8.") from None
        data = _decode_json(text, "The request body", self.max_nesting)
        if isinstance(data, list):
            raise HTTPRequestError(400, "Batched requests (a JSON array) are not supported: send one JSON object.")
        if not isinstance(data, dict):
            raise HTTPRequestError(400, f"The request body must be a JSON object, not {_json_kind(data)}.")
        return data

    async def _read_body(self, request: Request) -> bytes:
        limit = self.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise HTTPRequestError(413, f"The request body exceeds {limit} bytes.", headers={"Connection": "close"})
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPRequestError(413, f"The request body exceeds {limit} bytes.",
                                       headers={"Connection": "close"})
            chunks.append(chunk)
        return b"".join(chunks)

    async def _run(self, request: Request, media: str, data: dict[str, Any]) -> Response:
        query, operation_name, variables, extensions = _checked(data)
        resolved = await self.persisted_queries.resolve(query, extensions)
        query = resolved.query
        if query is None:
            raise HTTPRequestError(400, "The request has no GraphQL document: send `query` (or the hash of a "
                                        "persisted query in `extensions.persistedQuery`).")
        if too_deep(query, self.max_nesting, graphql=True):
            raise GraphQLRequestError(f"The document nests brackets more than {self.max_nesting} levels deep.",
                                      "QUERY_TOO_COMPLEX")
        operation = _operation(query, operation_name, self.max_tokens)
        if _is_get(request) and operation is not None and operation.operation != OperationType.QUERY:
            raise _not_over_get(operation.operation.value)
        return await self._execute(request, media, resolved, query, operation_name, variables, extensions)

    async def _execute(self, request: Request, media: str, resolved: Resolved, query: str,
                       operation_name: str | None, variables: dict[str, Any] | None,
                       extensions: dict[str, Any] | None) -> Response:
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        allowed = {StrawberryOperationType.QUERY} if _is_get(request) else \
            {StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION}
        try:
            result = await self.schema.execute(
                query, variable_values=variables, context_value=context,
                root_value=await self.get_root_value(request), operation_name=operation_name,
                allowed_operation_types=allowed, operation_extensions=extensions,
            )
        except InvalidOperationTypeError as exc:
            raise _not_over_get(exc.operation_type.value) from None
        except (CannotGetOperationTypeError, MissingQueryError) as exc:
            message = exc.as_http_error_reason() if isinstance(exc, CannotGetOperationTypeError) else \
                "The request has no GraphQL document."
            raise GraphQLRequestError(message, _RESOLUTION) from None
        body = dict(await self.process_result(request, result))
        if result.errors:
            self._handle_errors(result.errors, body)  # Strawberry's hook (Sentry's integration uses it)
        if _is_request_error(result):
            body.pop("data", None)
            return self._request_error(media, body["errors"], body.get("extensions"))
        await self.persisted_queries.remember(resolved)
        response = self._json(body, sub_response.status_code or 200, media)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if _is_get(request) and self.get_cache_control and not body.get("errors"):
            private = any(request.headers.get(header) for header in CREDENTIAL_HEADERS.values())
            response.headers["Cache-Control"] = "private" if private else self.get_cache_control
            response.headers["Vary"] = _VARY
        return response

    def _request_error(self, media: str, errors: list[Any], extensions: Any = None) -> Response:
        body: dict[str, Any] = {"errors": errors}
        if extensions:
            body["extensions"] = extensions
        return self._json(body, 400 if media == GRAPHQL_RESPONSE_JSON else 200, media)

    def _json(self, body: Any, status: int, media: str, headers: Mapping[str, str] | None = None) -> Response:
        return Response(self.encode_json(body), status_code=status, headers=dict(headers or {}),
                        media_type=f"{media}; charset=utf-8")


def _checked(data: Mapping[str, Any]) -> tuple[str | None, str | None, dict[str, Any] | None, dict[str, Any] | None]:
    """Return ``query, operationName, variables, extensions`` of a decoded request, or raise HTTPRequestError."""
    query, operation_name = data.get("query"), data.get("operationName")
    variables, extensions = data.get("variables"), data.get("extensions")
    if query is not None and not isinstance(query, str):
        raise HTTPRequestError(400, f"`query` must be a string holding the GraphQL document, not {_json_kind(query)}.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPRequestError(400, f"`operationName` must be a string or null, not {_json_kind(operation_name)}.")
    if variables is not None and not isinstance(variables, dict):
        raise HTTPRequestError(400, f"`variables` must be a JSON object or null, not {_json_kind(variables)}.")
    if extensions is not None and not isinstance(extensions, dict):
        raise HTTPRequestError(400, f"`extensions` must be a JSON object or null, not {_json_kind(extensions)}.")
    return query or None, operation_name or None, variables, extensions


def _is_get(request: Request) -> bool:
    return request.method in {"GET", "HEAD"}  # Starlette routes HEAD with GET; it is GET without the body


def _not_over_get(operation: str) -> HTTPRequestError:
    return HTTPRequestError(405, f"Can only perform a {operation} operation from a POST request.",
                            headers={"Allow": "POST"})
