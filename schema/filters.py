"""GraphQL filter and ordering inputs; every id list takes global ids."""

from __future__ import annotations

import strawberry

from schema.types.base import SortDirection, Source

__all__ = ["ArtifactFilter", "BenchmarkFilter", "DatasetFilter", "EpisodeFilter", "FlowFilter", "RunFilter", "RunOrder",
           "TaskFilter"]


@strawberry.input(description="Filters for `datasets`; lists mean 'any of'.")
class DatasetFilter:
    ids: list[strawberry.ID] | None = None
    tags: list[str] | None = None
    statuses: list[str] | None = strawberry.field(
        default=None, description="active, deactivated, in_preparation or all; default: active (as OpenML)."
    )
    name: str | None = None
    uploaders: list[strawberry.ID] | None = strawberry.field(default=None, description="User ids (openml:user:1).")
    sources: list[Source] | None = None


@strawberry.input(description="Filters for `tasks`; lists mean 'any of'.")
class TaskFilter:
    ids: list[strawberry.ID] | None = None
    dataset_ids: list[strawberry.ID] | None = None
    tags: list[str] | None = None
    task_type_ids: list[int] | None = None
    statuses: list[str] | None = None
    collaboration_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="vantage6 collaborations (vantage6:collaboration:1).")
    sources: list[Source] | None = None


@strawberry.input(description="Filters for `flows`; lists mean 'any of'.")
class FlowFilter:
    tags: list[str] | None = None
    uploaders: list[strawberry.ID] | None = None
    sources: list[Source] | None = None


@strawberry.input(description="Filters for `runs`; lists mean 'any of', different fields combine with 'and'.")
class RunFilter:
    ids: list[strawberry.ID] | None = None
    task_ids: list[strawberry.ID] | None = None
    flow_ids: list[strawberry.ID] | None = None
    setup_ids: list[strawberry.ID] | None = None
    uploaders: list[strawberry.ID] | None = None
    tags: list[str] | None = None
    include_errored: bool = strawberry.field(
        default=True, description="Include runs whose evaluation failed (OpenML hides them by default)."
    )
    sources: list[Source] | None = None


@strawberry.input(description="Order runs by an evaluation measure instead of newest first.")
class RunOrder:
    measure: str
    direction: SortDirection = SortDirection.DESC


@strawberry.input(description="Filters for `artifacts`; lists mean 'any of'.")
class ArtifactFilter:
    run_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="OpenML runs whose output files to list (openml:run:100)."
    )
    kinds: list[str] | None = None
    model_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="MLTE models whose artifacts to list (mlte:model:credit-risk).")
    benchmark_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="pytupli benchmarks whose artifacts to list.")
    sources: list[Source] | None = None


@strawberry.input(description="Filters for `benchmarks`.")
class BenchmarkFilter:
    ids: list[strawberry.ID] | None = None
    names: list[str] | None = None
    created_by: list[str] | None = None


@strawberry.input(description="Filters for `episodes`.")
class EpisodeFilter:
    benchmark_ids: list[strawberry.ID] | None = None
    terminated: bool | None = None
    created_by: list[str] | None = None
