"""OpenML datasets: summary fields come from the batched list loader, the rest from the full description."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from adapters.records import DatasetRecord, DatasetSummaryRecord
from gateway.errors import BackendError
from gateway.ids import global_id, parse_int_id
from schema.context_access import openml
from schema.pagination import Connection
from schema.types.base import Node, Source

if TYPE_CHECKING:
    from schema.types.base import Run, Task

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

    @classmethod
    def of(cls, did: int) -> Dataset:
        """Return the (lazy) Dataset with native id ``did``."""
        return cls(id=strawberry.ID(global_id("openml", "dataset", did)), source=Source.OPENML,
                   native_id=str(did), native=did)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Dataset:
        return cls.of(parse_int_id(id, kind="dataset"))

    async def _summary(self, info: strawberry.Info) -> DatasetSummaryRecord:
        return await openml(info).dataset_summary.load(self.native)

    async def _full(self, info: strawberry.Info) -> DatasetRecord:
        return await openml(info).dataset.load(self.native)

    @strawberry.field
    async def name(self, info: strawberry.Info) -> str | None:
        return (await self._summary(info)).name

    @strawberry.field
    async def version(self, info: strawberry.Info) -> int:
        version = (await self._summary(info)).version
        if version is None:
            raise BackendError(f"OpenML sent dataset {self.native} without a version.", backend="openml")
        return version

    @strawberry.field(description="Lower-case file format: arff, sparse_arff, ...")
    async def format(self, info: strawberry.Info) -> str | None:
        return (await self._summary(info)).format

    @strawberry.field(description="active, deactivated or in_preparation.")
    async def status(self, info: strawberry.Info) -> str | None:
        return (await self._summary(info)).status

    @strawberry.field
    async def file_id(self, info: strawberry.Info) -> int | None:
        return (await self._summary(info)).file_id

    @strawberry.field
    async def description(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).description

    @strawberry.field
    async def description_version(self, info: strawberry.Info) -> int | None:
        return (await self._full(info)).description_version

    @strawberry.field
    async def upload_date(self, info: strawberry.Info) -> datetime | None:
        return (await self._full(info)).upload_date

    @strawberry.field
    async def processing_date(self, info: strawberry.Info) -> datetime | None:
        return (await self._full(info)).processing_date

    @strawberry.field
    async def licence(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).licence

    @strawberry.field
    async def language(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).language

    @strawberry.field(description="Free text as uploaded ('1936', 'Unknown', ...); never parsed.")
    async def collection_date(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).collection_date

    @strawberry.field
    async def creators(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).creators)

    @strawberry.field
    async def contributors(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).contributors)

    @strawberry.field
    async def tags(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).tags)

    @strawberry.field(description="The first default target attribute (see defaultTargetAttributes).")
    async def default_target_attribute(self, info: strawberry.Info) -> str | None:
        targets = (await self._full(info)).default_target_attributes
        return targets[0] if targets else None

    @strawberry.field
    async def default_target_attributes(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).default_target_attributes)

    @strawberry.field
    async def ignore_attributes(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).ignore_attributes)

    @strawberry.field
    async def row_id_attributes(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).row_id_attributes)

    @strawberry.field
    async def url(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).url

    @strawberry.field
    async def parquet_url(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).parquet_url

    @strawberry.field
    async def md5_checksum(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).md5_checksum

    @strawberry.field
    async def version_label(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).version_label

    @strawberry.field
    async def citation(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).citation

    @strawberry.field
    async def visibility(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).visibility

    @strawberry.field
    async def original_data_urls(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).original_data_urls)

    @strawberry.field
    async def paper_url(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).paper_url

    @strawberry.field(description="Columns of the dataset (fetched only when selected).")
    async def features(self, info: strawberry.Info) -> list[DatasetFeature]:
        records = await openml(info).features.load(self.native)
        return [
            DatasetFeature(
                index=f.index, name=f.name, data_type=f.data_type, nominal_values=list(f.nominal_values),
                ontologies=list(f.ontologies), is_target=f.is_target, is_ignore=f.is_ignore,
                is_row_identifier=f.is_row_identifier, number_of_missing_values=f.number_of_missing_values,
            )
            for f in records
        ]

    @strawberry.field(description="Meta-features of the dataset (fetched only when selected).")
    async def qualities(self, info: strawberry.Info, names: list[str] | None = None) -> list[DatasetQuality]:
        records = await openml(info).qualities.load(self.native)
        wanted = set(names) if names is not None else None
        return [DatasetQuality(name=q.name, value=q.value) for q in records if wanted is None or q.name in wanted]

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
