"""Apollo federated tracing (ftv1): per-field timings as a protobuf ``Trace`` in ``extensions.ftv1``.

A federation router (Apollo Router, @apollo/gateway) asks a subgraph for a trace with the request header
``apollo-federation-include-trace: ftv1`` and reads back ``extensions.ftv1``: the base64 of an Apollo
``Trace`` message (``reports.proto`` of @apollo/usage-reporting-protobuf). Only the fields a subgraph
fills are written: ``start_time``, ``end_time``, ``duration_ns`` and the ``root`` node tree (one node per
resolved field, keyed by response name, list items by index, with type, parent type, start and end in
nanoseconds since the trace's start, and the request's errors on the node of their path).

The message is encoded by hand (varints and length-delimited fields; no protoc, no protobuf runtime).
Without the header the extension installs no resolver middleware at all: an untraced request pays for one
header lookup, nothing per field.
Errors in the trace are the client-facing ones (``schema.errors.format_error``), never internals.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from schema.errors import format_error

__all__ = ["FTV1_HEADER", "FederatedTracing", "TraceError", "TraceNode", "encode_trace", "trace_requested"]

FTV1_HEADER = "apollo-federation-include-trace"

# Field numbers of reports.proto (Trace, Trace.Node, Trace.Error, Trace.Location, google.protobuf.Timestamp).
_TRACE_START_TIME, _TRACE_END_TIME, _TRACE_DURATION_NS, _TRACE_ROOT = 4, 3, 11, 14
_NODE_RESPONSE_NAME, _NODE_INDEX, _NODE_ORIGINAL_FIELD_NAME = 1, 2, 14
_NODE_TYPE, _NODE_PARENT_TYPE, _NODE_START_TIME, _NODE_END_TIME, _NODE_ERROR, _NODE_CHILD = 3, 13, 8, 9, 11, 12
_ERROR_MESSAGE, _ERROR_LOCATION, _ERROR_JSON = 1, 2, 4
_LOCATION_LINE, _LOCATION_COLUMN = 1, 2
_TIMESTAMP_SECONDS, _TIMESTAMP_NANOS = 1, 2
_VARINT, _LENGTH_DELIMITED = 0, 2


@dataclass(slots=True)
class TraceError:
    """One GraphQL error as ftv1 carries it: message, locations and the error's JSON."""

    message: str
    locations: Sequence[tuple[int, int]] = ()
    json: str = ""


@dataclass(slots=True)
class TraceNode:
    """One node of the trace tree: a field (``response_name``), a list item (``index``) or the root (neither)."""

    response_name: str | None = None
    index: int | None = None
    original_field_name: str = ""
    type: str = ""
    parent_type: str = ""
    start_time: int = 0
    end_time: int = 0
    errors: list[TraceError] = field(default_factory=list)
    children: list[TraceNode] = field(default_factory=list)


class _Writer:
    """The two protobuf wire types a Trace needs: varints (wire type 0) and length-delimited (wire type 2)."""

    __slots__ = ("buffer",)

    def __init__(self) -> None:
        self.buffer = bytearray()

    def _raw_varint(self, value: int) -> None:
        if value < 0:
            value &= (1 << 64) - 1  # int64 two's complement, as protobuf encodes negative int64
        while value > 0x7F:
            self.buffer.append((value & 0x7F) | 0x80)
            value >>= 7
        self.buffer.append(value)

    def varint(self, number: int, value: int, *, always: bool = False) -> None:
        """Write ``value``; proto3 omits zero unless ``always`` (a set oneof member, such as index 0)."""
        if value or always:
            self._raw_varint(number << 3 | _VARINT)
            self._raw_varint(value)

    def delimited(self, number: int, value: bytes | bytearray, *, always: bool = False) -> None:
        """Write a length-delimited field (a string's UTF-8 or an embedded message)."""
        if value or always:
            self._raw_varint(number << 3 | _LENGTH_DELIMITED)
            self._raw_varint(len(value))
            self.buffer += value

    def string(self, number: int, value: str, *, always: bool = False) -> None:
        """Write a UTF-8 string field."""
        self.delimited(number, value.encode(), always=always)


def _timestamp(wall_ns: int) -> bytearray:
    writer = _Writer()
    seconds, nanos = divmod(wall_ns, 1_000_000_000)
    writer.varint(_TIMESTAMP_SECONDS, seconds)
    writer.varint(_TIMESTAMP_NANOS, nanos)
    return writer.buffer


def _error(error: TraceError) -> bytearray:
    writer = _Writer()
    writer.string(_ERROR_MESSAGE, error.message, always=True)
    for line, column in error.locations:
        location = _Writer()
        location.varint(_LOCATION_LINE, line)
        location.varint(_LOCATION_COLUMN, column)
        writer.delimited(_ERROR_LOCATION, location.buffer, always=True)
    writer.string(_ERROR_JSON, error.json)
    return writer.buffer


def _node(node: TraceNode) -> bytearray:
    writer = _Writer()
    if node.response_name is not None:
        writer.string(_NODE_RESPONSE_NAME, node.response_name, always=True)
    elif node.index is not None:
        writer.varint(_NODE_INDEX, node.index, always=True)
    writer.string(_NODE_ORIGINAL_FIELD_NAME, node.original_field_name)
    writer.string(_NODE_TYPE, node.type)
    writer.string(_NODE_PARENT_TYPE, node.parent_type)
    writer.varint(_NODE_START_TIME, node.start_time)
    writer.varint(_NODE_END_TIME, node.end_time)
    for error in node.errors:
        writer.delimited(_NODE_ERROR, _error(error), always=True)
    for child in node.children:
        writer.delimited(_NODE_CHILD, _node(child), always=True)
    return writer.buffer


def encode_trace(*, start_wall_ns: int, end_wall_ns: int, duration_ns: int, root: TraceNode) -> bytes:
    """Return the protobuf encoding of a ``Trace`` with the given wall-clock bounds, duration and node tree."""
    writer = _Writer()
    writer.delimited(_TRACE_START_TIME, _timestamp(start_wall_ns), always=True)
    writer.delimited(_TRACE_END_TIME, _timestamp(end_wall_ns), always=True)
    writer.varint(_TRACE_DURATION_NS, duration_ns)
    writer.delimited(_TRACE_ROOT, _node(root), always=True)
    return bytes(writer.buffer)


def trace_requested(context: Any) -> bool:
    """Return whether the request behind a GraphQL ``context`` carries ``apollo-federation-include-trace: ftv1``.

    ``context`` is the gateway's Context (or a mapping with a ``request``); anything without request
    headers (a direct ``schema.execute`` call) is never traced.
    """
    request = context.get("request") if isinstance(context, Mapping) else getattr(context, "request", None)
    headers = getattr(request, "headers", None)
    if headers is None:
        return False
    value = headers.get(FTV1_HEADER)
    return isinstance(value, str) and value.strip() == "ftv1"


class _Tracer:
    """The trace tree of one request, built while its fields resolve."""

    __slots__ = ("nodes", "root", "start_perf", "start_wall")

    def __init__(self) -> None:
        self.start_wall = time.time_ns()
        self.start_perf = time.perf_counter_ns()
        self.root = TraceNode()
        self.nodes: dict[tuple[str | int, ...], TraceNode] = {(): self.root}

    def _now(self) -> int:
        return time.perf_counter_ns() - self.start_perf

    def node(self, path: tuple[str | int, ...]) -> TraceNode:
        """Return the node of ``path``, creating it (and any missing list-item ancestors) on first use."""
        found = self.nodes.get(path)
        if found is not None:
            return found
        key = path[-1]
        created = TraceNode(index=key) if isinstance(key, int) else TraceNode(response_name=key)
        self.node(path[:-1]).children.append(created)
        self.nodes[path] = created
        return created

    def resolve(self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
        """Call the resolver, timing it on the node of its path (awaitables end when awaited)."""
        path = tuple(info.path.as_list())
        if any(isinstance(key, str) and key.startswith("__") for key in path):
            return _next(root, info, *args, **kwargs)  # introspection and __typename are not traced
        node = self.node(path)
        if info.field_name != path[-1]:
            node.original_field_name = info.field_name
        node.type = str(info.return_type)
        node.parent_type = info.parent_type.name
        node.start_time = self._now()
        try:
            result = _next(root, info, *args, **kwargs)
        except BaseException:
            node.end_time = self._now()
            raise
        if isawaitable(result):
            return self._finish_when_awaited(node, result)
        node.end_time = self._now()
        return result

    async def _finish_when_awaited(self, node: TraceNode, result: Any) -> Any:
        try:
            return await result
        finally:
            node.end_time = self._now()

    def add_errors(self, errors: Sequence[GraphQLError]) -> None:
        """Attach each client-facing error to the node of its path (the root when it has none or no node)."""
        for raw in errors:
            error = format_error(raw)
            node = self.nodes.get(tuple(error.path or ()), self.root)
            locations = tuple((loc.line, loc.column) for loc in error.locations or ())
            node.errors.append(TraceError(message=error.message, locations=locations,
                                          json=json.dumps(error.formatted, separators=(",", ":"))))

    def encode(self) -> str:
        """Return the finished trace, base64-encoded."""
        duration = self._now()
        payload = encode_trace(start_wall_ns=self.start_wall, end_wall_ns=self.start_wall + duration,
                               duration_ns=duration, root=self.root)
        return base64.b64encode(payload).decode("ascii")


class FederatedTracing(SchemaExtension):
    """Adds ``extensions.ftv1`` when the router asked for it with ``apollo-federation-include-trace: ftv1``."""

    _tracer: _Tracer | None = None

    def _requested(self) -> bool:
        context = getattr(self, "execution_context", None)
        return context is not None and trace_requested(context.context)

    def _implements_resolve(self) -> bool:  # type: ignore[override]
        # Strawberry asks every extension of a request, after handing it the execution context, whether to
        # install its resolve middleware; answering per request keeps untraced requests free of any per-field
        # cost. Before it has a context (another Strawberry version), say yes: resolve() then only forwards.
        return getattr(self, "execution_context", None) is None or self._requested()

    def on_operation(self) -> Iterator[None]:
        if self._requested():
            self._tracer = _Tracer()
        yield

    def resolve(self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo, *args: Any,
                **kwargs: Any) -> Any:
        tracer = self._tracer
        if tracer is None:
            return _next(root, info, *args, **kwargs)
        return tracer.resolve(_next, root, info, args, kwargs)

    def get_results(self) -> dict[str, Any]:
        tracer = self._tracer
        if tracer is None:
            return {}
        context = self.execution_context
        result = context.result
        errors = (result.errors if result is not None else None) or context.pre_execution_errors or []
        tracer.add_errors(errors)
        return {"ftv1": tracer.encode()}
