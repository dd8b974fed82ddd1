"""OpenML tasks: list fields from ``task/list`` (batched), inputs and tags from the full task."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from adapters.records import EstimationProcedureRecord, TaskRecord, TaskSummaryRecord
from gateway.ids import global_id, parse_int_id
from schema.context_access import openml
from schema.pagination import Connection
from schema.types.base import Run, Source, Task

if TYPE_CHECKING:
    from schema.types.datasets import Dataset

__all__ = ["EstimationProcedure", "OpenMLTask"]


@strawberry.type(description="How a task splits its data for evaluation.")
class EstimationProcedure:
    id: int | None
    name: str | None
    type: str | None
    number_repeats: int | None
    number_folds: int | None
    percentage: float | None
    stratified_sampling: bool | None
    data_splits_url: str | None


@strawberry.federation.type(keys=["id"], description="An OpenML task: a dataset, a target and an evaluation protocol.")
class OpenMLTask(Task):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]

    @classmethod
    def of(cls, tid: int) -> OpenMLTask:
        """Return the (lazy) task with native id ``tid``."""
        return cls(id=strawberry.ID(global_id("openml", "task", tid)), source=Source.OPENML, native_id=str(tid),
                   native=tid)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> OpenMLTask:
        return cls.of(parse_int_id(id, kind="task"))

    async def _summary(self, info: strawberry.Info) -> TaskSummaryRecord:
        return await openml(info).task_summary.load(self.native)

    async def _full(self, info: strawberry.Info) -> TaskRecord:
        return await openml(info).task.load(self.native)

    @strawberry.field(description='"Task 7: kr-vs-kp (Supervised Classification)", as the server names it.')
    async def name(self, info: strawberry.Info) -> str | None:
        return (await self._summary(info)).name

    @strawberry.field(description="OpenML v1 does not record when a task was created.")
    def created_at(self) -> datetime | None:
        return None

    @strawberry.field
    async def task_type(self, info: strawberry.Info) -> str | None:
        return (await self._summary(info)).task_type

    @strawberry.field
    async def task_type_id(self, info: strawberry.Info) -> int | None:
        return (await self._summary(info)).task_type_id

    @strawberry.field
    async def status(self, info: strawberry.Info) -> str | None:
        return (await self._summary(info)).status

    @strawberry.field
    async def dataset(
        self, info: strawberry.Info,
    ) -> Annotated[Dataset, strawberry.lazy("schema.types.datasets")] | None:
        from schema.types.datasets import Dataset

        did = (await self._summary(info)).dataset_id
        return Dataset.of(did) if did is not None else None

    @strawberry.field
    async def target_name(self, info: strawberry.Info) -> str | None:
        return (await self._summary(info)).target_name

    @strawberry.field(description="The task's main evaluation measure, if it names one.")
    async def evaluation_measure(self, info: strawberry.Info) -> str | None:
        measures = (await self._summary(info)).evaluation_measures or (await self._full(info)).evaluation_measures
        return measures[0] if measures else None

    @strawberry.field
    async def evaluation_measures(self, info: strawberry.Info) -> list[str]:
        summary = await self._summary(info)
        return list(summary.evaluation_measures or (await self._full(info)).evaluation_measures)

    @strawberry.field
    async def estimation_procedure(self, info: strawberry.Info) -> EstimationProcedure | None:
        task = await self._full(info)
        proc = task.estimation_procedure
        if proc is None:
            return None
        known: EstimationProcedureRecord | None = None
        if proc.id is not None:
            known = (await openml(info).procedures.load("all")).get(proc.id)
        return EstimationProcedure(
            id=proc.id, name=known.name if known else None, type=proc.type,
            number_repeats=proc.number_repeats, number_folds=proc.number_folds, percentage=proc.percentage,
            stratified_sampling=proc.stratified_sampling, data_splits_url=proc.data_splits_url,
        )

    @strawberry.field
    async def tags(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).tags)

    async def load_runs(self, info: strawberry.Info, *, first: int, after: str | None,
                        order_by: Any) -> Connection[Run]:
        from schema.listing import list_runs

        return await list_runs(info, task_ids=[self.native], first=first, after=after, order_by=order_by)
