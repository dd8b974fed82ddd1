"""Cross-source building blocks: the Source enum, the Relay Node interface, Task / Run / Artifact interfaces.

Interface fields with arguments delegate to a ``load_*`` coroutine that each implementation defines, so
the arguments are declared once and every source answers them its own way.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from schema.pagination import Connection

if TYPE_CHECKING:
    from schema.filters import RunOrder

__all__ = ["Artifact", "Node", "Run", "SortDirection", "Source", "Task"]


@strawberry.enum(description="The backend an entity comes from (OpenML v1 and v2 are one source).")
class Source(Enum):
    OPENML = "openml"
    MLTE = "mlte"
    VANTAGE6 = "vantage6"
    PYTUPLI = "pytupli"


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.interface(description='Anything with a global id "<source>:<kind>:<native id>".')
class Node:
    id: strawberry.ID


@strawberry.interface(description="A machine-learning task of any source.")
class Task(Node):
    source: Source
    native_id: str
    name: str | None
    created_at: datetime | None

    @strawberry.field(description="Runs of this task, newest first unless `orderBy` says otherwise.")
    async def runs(
        self,
        info: strawberry.Info,
        first: int | None = 20,
        after: str | None = None,
        order_by: Annotated[RunOrder, strawberry.lazy("schema.filters")] | None = None,
    ) -> Connection[Run]:
        return await self.load_runs(info, first=20 if first is None else first, after=after, order_by=order_by)

    async def load_runs(self, info: strawberry.Info, *, first: int, after: str | None,
                        order_by: Any) -> Connection[Run]:
        """Implemented by each source's task type."""
        raise TypeError(f"{type(self).__name__} must define load_runs")


@strawberry.interface(description="One execution of a task of any source.")
class Run(Node):
    source: Source
    native_id: str
    status: str | None
    task: Task | None
    created_at: datetime | None


@strawberry.interface(description="A stored artifact (file, card, evidence, ...) of any source.")
class Artifact(Node):
    source: Source
    native_id: str
    name: str | None
    kind: str | None
    created_at: datetime | None
