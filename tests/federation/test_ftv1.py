"""Federated tracing over HTTP: `apollo-federation-include-trace: ftv1` gets `extensions.ftv1`, a protobuf Trace.

The trace is decoded here with a small protobuf reader written from Apollo's reports.proto (field numbers
below), independent of the encoder in schema/ftv1.py; @apollo/gateway decodes it in test_supergraph.py.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.openml_v1.emulator import RunningEmulator
from tests.helpers import RunningGateway, running_gateway, settings_for

HEADER = {"apollo-federation-include-trace": "ftv1"}


@pytest.fixture
async def gateway(openml_emulator: RunningEmulator) -> AsyncIterator[RunningGateway]:
    openml_emulator.state.clear_faults()
    async with running_gateway(settings_for(openml_emulator.url)) as gw:
        yield gw


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of every field of one message; only wire types 0 and 2 are expected."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            yield number, data[pos:pos + length]
            pos += length
        else:
            raise AssertionError(f"unexpected wire type {wire} for field {number}")
    assert pos == len(data), "message overruns its buffer"


@dataclass
class Node:
    response_name: str | None = None
    index: int | None = None
    original_field_name: str = ""
    type: str = ""
    parent_type: str = ""
    start_time: int = 0
    end_time: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def child(self, key: str | int) -> Node:
        (found,) = [c for c in self.children if (c.response_name if isinstance(key, str) else c.index) == key]
        return found

    def at(self, *path: str | int) -> Node:
        node = self
        for key in path:
            node = node.child(key)
        return node

    def walk(self) -> Iterator[tuple[Node | None, Node]]:
        for child in self.children:
            yield self, child
            yield from child.walk()


@dataclass
class Trace:
    start_ns: int
    end_ns: int
    duration_ns: int
    root: Node


def _timestamp(data: bytes) -> int:
    values = dict(_fields(data))
    assert set(values) <= {1, 2}
    return int(values.get(1, 0)) * 1_000_000_000 + int(values.get(2, 0))


def _error(data: bytes) -> dict[str, Any]:
    error: dict[str, Any] = {"locations": []}
    for number, value in _fields(data):
        assert isinstance(value, bytes) and number in {1, 2, 4}, number
        if number == 1:
            error["message"] = value.decode()
        elif number == 2:
            location = dict(_fields(value))
            error["locations"].append((location.get(1, 0), location.get(2, 0)))
        else:
            error["json"] = json.loads(value)
    return error


def _node(data: bytes) -> Node:
    node = Node()
    strings = {1: "response_name", 14: "original_field_name", 3: "type", 13: "parent_type"}
    for number, value in _fields(data):
        if number in strings:
            assert isinstance(value, bytes)
            setattr(node, strings[number], value.decode())
        elif number in (2, 8, 9):
            assert isinstance(value, int)
            setattr(node, {2: "index", 8: "start_time", 9: "end_time"}[number], value)
        elif number == 11:
            assert isinstance(value, bytes)
            node.errors.append(_error(value))
        elif number == 12:
            assert isinstance(value, bytes)
            node.children.append(_node(value))
        else:
            raise AssertionError(f"unexpected Trace.Node field {number}")
    assert node.response_name is None or node.index is None, "id is a oneof"
    return node


def decode_trace(encoded: str) -> Trace:
    """Decode `extensions.ftv1` (base64 of a protobuf Trace)."""
    values: dict[int, int | bytes] = {}
    for number, value in _fields(base64.b64decode(encoded, validate=True)):
        assert number in {3, 4, 11, 14} and number not in values, number
        values[number] = value
    start, end, duration, root = values[4], values[3], values[11], values[14]
    assert isinstance(start, bytes) and isinstance(end, bytes) and isinstance(root, bytes)
    assert isinstance(duration, int)
    return Trace(start_ns=_timestamp(start), end_ns=_timestamp(end), duration_ns=duration, root=_node(root))


async def test_ftv1_absent_without_the_header(gateway: RunningGateway) -> None:
    body = await gateway.query('{ dataset(id: "openml:dataset:61") { name } }')
    assert body["data"] == {"dataset": {"name": "iris"}}
    assert "ftv1" not in (body.get("extensions") or {})
    other = await gateway.query('{ dataset(id: "openml:dataset:61") { name } }',
                                headers={"apollo-federation-include-trace": "ftv2"})
    assert "ftv1" not in (other.get("extensions") or {})


async def test_ftv1_trace_tree_types_and_times(gateway: RunningGateway) -> None:
    before = time.time_ns()
    body = await gateway.query("""{
      iris: dataset(id: "openml:dataset:61") { __typename name version }
      runs(filter: {taskIds: ["openml:task:31"]}, first: 3) { edges { node { id status } } }
    }""", headers=HEADER)
    after = time.time_ns()
    assert not body.get("errors"), body
    trace = decode_trace(body["extensions"]["ftv1"])

    assert before <= trace.start_ns <= trace.end_ns <= after
    assert trace.end_ns - trace.start_ns == trace.duration_ns > 0
    root = trace.root
    assert root.response_name is None and root.index is None and root.type == ""
    assert {c.response_name for c in root.children} == {"iris", "runs"}

    iris = root.child("iris")
    assert (iris.original_field_name, iris.type, iris.parent_type) == ("dataset", "Dataset", "Query")
    assert {c.response_name for c in iris.children} == {"name", "version"}, "__typename is not traced"
    assert (iris.child("name").type, iris.child("name").parent_type) == ("String", "Dataset")
    assert iris.child("version").type == "Int!" and iris.child("name").original_field_name == ""

    edges = root.at("runs", "edges")
    assert edges.type == "[RunEdge!]!" and edges.parent_type == "RunConnection"
    assert [c.index for c in edges.children] == [0, 1, 2], "list items by index, index 0 included"
    item = edges.child(0)
    assert item.type == "" and item.response_name is None
    status = item.at("node", "status")
    assert (status.type, status.parent_type) == ("String", "OpenMLRun")

    for parent, child in root.walk():
        assert 0 <= child.start_time <= child.end_time <= trace.duration_ns
        if parent is not None and parent.response_name is not None and child.response_name is not None:
            assert child.start_time >= parent.start_time
    assert iris.child("name").end_time > iris.child("name").start_time, "async fields end when awaited"


async def test_ftv1_errors_sit_on_their_field(gateway: RunningGateway) -> None:
    body = await gateway.query("""{ ok: dataset(id: "openml:dataset:61") { name }
        missing: dataset(id: "openml:dataset:999999") { name } }""", headers=HEADER)
    assert body["data"]["ok"] == {"name": "iris"} and body["data"]["missing"] is None
    trace = decode_trace(body["extensions"]["ftv1"])
    missing = trace.root.child("missing")
    (error,) = missing.errors
    (sent,) = body["errors"]
    assert error["message"] == sent["message"]
    assert error["locations"] == [(sent["locations"][0]["line"], sent["locations"][0]["column"])]
    assert error["json"] == sent, "the trace carries the client-facing error, nothing more"
    assert error["json"]["extensions"]["code"] == "NOT_FOUND"
    assert not trace.root.errors and not trace.root.child("ok").errors


async def test_ftv1_validation_errors_sit_on_the_root(gateway: RunningGateway) -> None:
    async with gateway.session.post(gateway.url, json={"query": "{ dataset(id: 1) { nope } }"},
                                    headers={**HEADER, "Accept": "application/json"}) as response:
        body = await response.json(content_type=None)
    assert body["errors"] and body.get("data") is None
    trace = decode_trace(body["extensions"]["ftv1"])
    assert not trace.root.children
    assert {e["json"]["extensions"]["code"] for e in trace.root.errors} == {"GRAPHQL_VALIDATION_FAILED"}
    assert len(trace.root.errors) == len(body["errors"])
