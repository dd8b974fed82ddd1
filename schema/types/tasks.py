"""OpenML tasks: list fields from ``task/list`` (batched), inputs and tags from the full task."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from adapters.records import EstimationProcedureRecord, TaskRecord, TaskSummaryRecord
from gateway.ids import global_id, parse_int_id
from schema.context_access import openml
from schema.keyed import MaybeAwaitable, then
from schema.pagination import Connection
from schema.types.base import Run, Source, Task

if TYPE_CHECKING:
    from schema.loaders import OpenMLLoaders
    from schema.types.datasets import Dataset

__all__ = ["EstimationProcedure", "OpenMLTask"]

T = TypeVar("T")


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
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, tid: int, loaders: OpenMLLoaders) -> OpenMLTask:
        """Return the (lazy) task with native id ``tid`` for this request's loaders."""
        return cls(id=strawberry.ID(global_id("openml", "task", tid)), source=Source.OPENML, native_id=str(tid),
                   native=tid, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> OpenMLTask:
        return cls.of(parse_int_id(id, kind="task"), openml(info))

    def _summary(self, fn: Callable[[TaskSummaryRecord], T]) -> MaybeAwaitable[T]:
        return self._l.task_summary.get(self.native, fn)

    def _full(self, fn: Callable[[TaskRecord], T]) -> MaybeAwaitable[T]:
        return self._l.task.get(self.native, fn)

    @strawberry.field(graphql_type=str | None,
                      description='"Task 7: kr-vs-kp (Supervised Classification)", as the server names it.')
    def name(self) -> MaybeAwaitable[str | None]:
        return self._summary(lambda t: t.name)

    @strawberry.field(description="OpenML v1 does not record when a task was created.")
    def created_at(self) -> datetime | None:
        return None

    @strawberry.field(graphql_type=str | None)
    def task_type(self) -> MaybeAwaitable[str | None]:
        return self._summary(lambda t: t.task_type)

    @strawberry.field(graphql_type=int | None)
    def task_type_id(self) -> MaybeAwaitable[int | None]:
        return self._summary(lambda t: t.task_type_id)

    @strawberry.field(graphql_type=str | None)
    def status(self) -> MaybeAwaitable[str | None]:
        return self._summary(lambda t: t.status)

    @strawberry.field(graphql_type=Annotated["Dataset", strawberry.lazy("schema.types.datasets")] | None)
    def dataset(self) -> MaybeAwaitable[Dataset | None]:
        from schema.types.datasets import Dataset

        return self._summary(
            lambda t: Dataset.of(t.dataset_id, self._l, t.dataset_name) if t.dataset_id is not None else None)

    @strawberry.field(graphql_type=str | None)
    def target_name(self) -> MaybeAwaitable[str | None]:
        return self._summary(lambda t: t.target_name)

    def _measures(self) -> MaybeAwaitable[tuple[str, ...]]:
        return then(self._summary(lambda t: t.evaluation_measures),
                    lambda listed: listed or self._full(lambda t: t.evaluation_measures))

    @strawberry.field(graphql_type=str | None, description="The task's main evaluation measure, if it names one.")
    def evaluation_measure(self) -> MaybeAwaitable[str | None]:
        return then(self._measures(), lambda measures: measures[0] if measures else None)

    @strawberry.field(graphql_type=list[str])
    def evaluation_measures(self) -> MaybeAwaitable[list[str]]:
        return then(self._measures(), list)

    @strawberry.field(graphql_type=EstimationProcedure | None)
    def estimation_procedure(self) -> MaybeAwaitable[EstimationProcedure | None]:
        def build(task: TaskRecord) -> MaybeAwaitable[EstimationProcedure | None]:
            proc = task.estimation_procedure
            if proc is None:
                return None

            def named(table: dict[int, EstimationProcedureRecord]) -> EstimationProcedure:
                known = table.get(proc.id) if proc.id is not None else None
                return EstimationProcedure(
                    id=proc.id, name=known.name if known else None, type=proc.type,
                    number_repeats=proc.number_repeats, number_folds=proc.number_folds,
                    percentage=proc.percentage, stratified_sampling=proc.stratified_sampling,
                    data_splits_url=proc.data_splits_url,
                )

            if proc.id is None:
                return named({})
            return self._l.procedures.get("all", named)

        return self._full(build)

    @strawberry.field(graphql_type=list[str])
    def tags(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda t: list(t.tags))

    async def load_runs(self, info: strawberry.Info, *, first: int, after: str | None,
                        order_by: Any) -> Connection[Run]:
        from schema.listing import list_runs

        return await list_runs(info, task_ids=[self.native], first=first, after=after, order_by=order_by)
