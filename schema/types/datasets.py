"""OpenML datasets: summary fields come from the batched list loader, the rest from the full description."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from adapters.records import DatasetRecord, DatasetSummaryRecord
from gateway.errors import BackendError
from gateway.ids import global_id, parse_int_id
from schema.context_access import openml
from schema.keyed import MaybeAwaitable
from schema.pagination import Connection
from schema.types.base import Node, Source

if TYPE_CHECKING:
    from schema.loaders import OpenMLLoaders
    from schema.types.base import Run, Task

T = TypeVar("T")

__all__ = ["Dataset", "DatasetFeature", "DatasetQuality"]


@strawberry.type(description="One column of a dataset.")
class DatasetFeature:
    index: int
    name: str
    data_type: str | None
    nominal_values: list[str] = strawberry.field(description="Values of a nominal column, whitespace kept.")
    ontologies: list[str]
    is_target: bool
    is_ignore: bool
    is_row_identifier: bool
    number_of_missing_values: int | None


@strawberry.type(description="One meta-feature (quality) of a dataset.")
class DatasetQuality:
    name: str
    value: float | None


@strawberry.federation.type(keys=["id"], description="An OpenML dataset.")
class Dataset(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]
    listed_name: strawberry.Private[str | None] = None

    @classmethod
    def of(cls, did: int, loaders: OpenMLLoaders, name: str | None = None) -> Dataset:
        """Return the (lazy) Dataset with native id ``did`` for this request's loaders; ``name`` is its name when
        a row that listed it gave one (``task/list`` rows name their dataset), so ``name`` costs no call."""
        return cls(id=strawberry.ID(global_id("openml", "dataset", did)), source=Source.OPENML,
                   native_id=str(did), native=did, _l=loaders, listed_name=name)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Dataset:
        return cls.of(parse_int_id(id, kind="dataset"), openml(info))

    def _summary(self, fn: Callable[[DatasetSummaryRecord], T]) -> MaybeAwaitable[T]:
        return self._l.dataset_summary.get(self.native, fn)

    def _full(self, fn: Callable[[DatasetRecord], T]) -> MaybeAwaitable[T]:
        return self._l.dataset.get(self.native, fn)

    @strawberry.field(graphql_type=str | None)
    def name(self) -> MaybeAwaitable[str | None]:
        if self.listed_name is not None:
            return self.listed_name
        return self._summary(lambda d: d.name)

    @strawberry.field(graphql_type=int)
    def version(self) -> MaybeAwaitable[int]:
        def version(d: DatasetSummaryRecord) -> int:
            if d.version is None:
                raise BackendError(f"OpenML sent dataset {self.native} without a version.", backend="openml")
            return d.version

        return self._summary(version)

    @strawberry.field(graphql_type=str | None, description="Lower-case file format: arff, sparse_arff, ...")
    def format(self) -> MaybeAwaitable[str | None]:
        return self._summary(lambda d: d.format)

    @strawberry.field(graphql_type=str | None, description="active, deactivated or in_preparation.")
    def status(self) -> MaybeAwaitable[str | None]:
        return self._summary(lambda d: d.status)

    @strawberry.field(graphql_type=int | None)
    def file_id(self) -> MaybeAwaitable[int | None]:
        return self._summary(lambda d: d.file_id)

    @strawberry.field(graphql_type=str | None)
    def description(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.description)

    @strawberry.field(graphql_type=int | None)
    def description_version(self) -> MaybeAwaitable[int | None]:
        return self._full(lambda d: d.description_version)

    @strawberry.field(graphql_type=datetime | None)
    def upload_date(self) -> MaybeAwaitable[datetime | None]:
        return self._full(lambda d: d.upload_date)

    @strawberry.field(graphql_type=datetime | None)
    def processing_date(self) -> MaybeAwaitable[datetime | None]:
        return self._full(lambda d: d.processing_date)

    @strawberry.field(graphql_type=str | None)
    def licence(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.licence)

    @strawberry.field(graphql_type=str | None)
    def language(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.language)

    @strawberry.field(graphql_type=str | None,
                      description="Free text as uploaded ('1936', 'Unknown', ...); never parsed.")
    def collection_date(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.collection_date)

    @strawberry.field(graphql_type=list[str])
    def creators(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda d: list(d.creators))

    @strawberry.field(graphql_type=list[str])
    def contributors(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda d: list(d.contributors))

    @strawberry.field(graphql_type=list[str])
    def tags(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda d: list(d.tags))

    @strawberry.field(graphql_type=str | None,
                      description="The first default target attribute (see defaultTargetAttributes).")
    def default_target_attribute(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.default_target_attributes[0] if d.default_target_attributes else None)

    @strawberry.field(graphql_type=list[str])
    def default_target_attributes(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda d: list(d.default_target_attributes))

    @strawberry.field(graphql_type=list[str])
    def ignore_attributes(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda d: list(d.ignore_attributes))

    @strawberry.field(graphql_type=list[str])
    def row_id_attributes(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda d: list(d.row_id_attributes))

    @strawberry.field(graphql_type=str | None)
    def url(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.url)

    @strawberry.field(graphql_type=str | None)
    def parquet_url(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.parquet_url)

    @strawberry.field(graphql_type=str | None)
    def md5_checksum(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.md5_checksum)

    @strawberry.field(graphql_type=str | None)
    def version_label(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.version_label)

    @strawberry.field(graphql_type=str | None)
    def citation(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.citation)

    @strawberry.field(graphql_type=str | None)
    def visibility(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.visibility)

    @strawberry.field(graphql_type=list[str])
    def original_data_urls(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda d: list(d.original_data_urls))

    @strawberry.field(graphql_type=str | None)
    def paper_url(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda d: d.paper_url)

    @strawberry.field(graphql_type=list[DatasetFeature],
                      description="Columns of the dataset (fetched only when selected).")
    def features(self) -> MaybeAwaitable[list[DatasetFeature]]:
        return self._l.features.get(self.native, lambda records: [
            DatasetFeature(
                index=f.index, name=f.name, data_type=f.data_type, nominal_values=list(f.nominal_values),
                ontologies=list(f.ontologies), is_target=f.is_target, is_ignore=f.is_ignore,
                is_row_identifier=f.is_row_identifier, number_of_missing_values=f.number_of_missing_values,
            )
            for f in records
        ])

    @strawberry.field(graphql_type=list[DatasetQuality],
                      description="Meta-features of the dataset (fetched only when selected).")
    def qualities(self, names: list[str] | None = None) -> MaybeAwaitable[list[DatasetQuality]]:
        wanted = set(names) if names is not None else None
        return self._l.qualities.get(self.native, lambda records: [
            DatasetQuality(name=q.name, value=q.value) for q in records if wanted is None or q.name in wanted
        ])

    @strawberry.field(description="Tasks defined on this dataset, newest first.")
    async def tasks(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None,
    ) -> Connection[Annotated[Task, strawberry.lazy("schema.types.base")]]:
        from schema.listing import list_tasks

        return await list_tasks(info, dataset_ids=[self.native], first=first, after=after)

    @strawberry.field(description="Runs on this dataset's tasks, newest first.")
    async def runs(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None,
    ) -> Connection[Annotated[Run, strawberry.lazy("schema.types.base")]]:
        from schema.listing import list_runs_of_datasets

        return await list_runs_of_datasets(info, [self.native], first=first, after=after)
