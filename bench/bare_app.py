"""The framework's floor: bare Strawberry serving the leaderboard's response shape from memory.

Same stack as the gateway (Starlette, Strawberry's ASGI view, uvicorn), no loaders, no backends: what is
left is Strawberry's own cost of resolving and serializing that shape. ``python -m bench.bare_app --port P
--data rows.json`` serves it; rows are ``[id, flow name, task name, dataset name, accuracy]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL


@strawberry.type
class Named:
    name: str | None


@strawberry.type
class Value:
    value: float | None


@strawberry.type
class BareTask:
    name: str | None
    dataset: Named | None


@strawberry.interface
class Run:
    id: strawberry.ID


@strawberry.type
class OpenMLRun(Run):
    flow: Named | None
    task: BareTask | None
    accuracy: strawberry.Private[float | None]

    @strawberry.field
    def evaluation(self, measure: str) -> Value | None:
        return Value(value=self.accuracy)


@strawberry.type
class Edge:
    node: Run


@strawberry.type
class Connection:
    edges: list[Edge]


def build_app(rows: list[list[object]]) -> Starlette:
    runs = [OpenMLRun(id=strawberry.ID(str(r[0])), flow=Named(name=str(r[1])),
                      task=BareTask(name=str(r[2]), dataset=Named(name=str(r[3]))),
                      accuracy=r[4] if isinstance(r[4], float) else None) for r in rows]

    @strawberry.type
    class Query:
        @strawberry.field
        def runs(self, filter: strawberry.scalars.JSON | None = None, first: int | None = 20) -> Connection:
            return Connection(edges=[Edge(node=run) for run in runs[: first or 0]])

    schema = strawberry.Schema(query=Query, types=[OpenMLRun])
    return Starlette(routes=[Route("/graphql", GraphQL(schema), methods=["GET", "POST"])])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    rows = json.loads(args.data.read_text())
    uvicorn.run(build_app(rows), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
