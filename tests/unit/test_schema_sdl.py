"""The committed schema.graphql is what `gateway schema` prints, and it keeps the public contract's names."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from gateway.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _printed_sdl() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["schema"]) == 0
    return out.getvalue()


def test_schema_committed_sdl_matches_gateway_schema() -> None:
    assert _printed_sdl() == (ROOT / "schema.graphql").read_text(), "run `make schema` and commit schema.graphql"


def test_schema_keeps_public_contract_names() -> None:
    sdl = _printed_sdl()
    for needle in [
        "enum Source", "interface Node", "interface Task implements Node", "interface Run implements Node",
        "interface Artifact implements Node", "type OpenMLTask implements Task & Node @key(fields: \"id\")",
        "type OpenMLRun implements Run & Node @key(fields: \"id\")",
        "type Dataset implements Node @key(fields: \"id\")",
        "type Flow implements Node @key(fields: \"id\")", "type FlowComponent", "type Evaluation", "type FoldValue",
        "type OpenMLRunFile implements Artifact & Node", "node(id: ID!): Node", "dataset(id: ID!): Dataset",
        "datasets(filter: DatasetFilter = null, first: Int = 20, after: String = null): DatasetConnection!",
        "runs(filter: RunFilter = null, first: Int = 20, after: String = null", "artifact(id: ID!): Artifact",
        "perFold: [FoldValue!]!", "arrayData: JSON", "version: Int!", "hasNextPage: Boolean!", "endCursor: String",
    ]:
        assert needle in sdl, needle
