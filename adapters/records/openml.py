"""OpenML records (v1 and v2 normalize to the same ones): datasets, tasks, flows, runs, setups, users."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

__all__ = [
    "DatasetFeatureRecord",
    "DatasetQualityRecord",
    "DatasetRecord",
    "DatasetSummaryRecord",
    "EstimationProcedureRecord",
    "EvaluationRecord",
    "EvaluationRowRecord",
    "FlowComponentRecord",
    "FlowParameterRecord",
    "FlowRecord",
    "FlowSummaryRecord",
    "FoldValueRecord",
    "ListPage",
    "ParameterSettingRecord",
    "RunFileRecord",
    "RunRecord",
    "RunSummaryRecord",
    "SetupParameterRecord",
    "SetupRecord",
    "StudyRecord",
    "TagResultRecord",
    "TaskRecord",
    "TaskSummaryRecord",
    "UserRecord",
]

record = dataclass(frozen=True, slots=True, kw_only=True)
T = TypeVar("T")
_FULL_NAME = re.compile(r"^(.*)\((\d+(?:\.\d+)?)\)$", re.S)  # a flow's name(version)


@record
class ListPage(Generic[T]):
    """One page of a backend list: the rows, and whether the backend may have more after them."""

    items: tuple[T, ...]
    has_more: bool = False


# ---------------------------------------------------------------------------------------------- datasets


@record
class DatasetQualityRecord:
    """One meta-feature of a dataset; ``value`` is None when the backend had none."""

    name: str
    value: float | None
    interval_start: float | None = None
    interval_end: float | None = None


@record
class DatasetFeatureRecord:
    """One column of a dataset; nominal values keep their significant whitespace."""

    index: int
    name: str
    data_type: str | None
    nominal_values: tuple[str, ...] = ()
    ontologies: tuple[str, ...] = ()
    is_target: bool = False
    is_ignore: bool = False
    is_row_identifier: bool = False
    number_of_missing_values: int | None = None


@record
class DatasetSummaryRecord:
    """A dataset as list endpoints give it (``data/list``): name, version, status, basic qualities."""

    id: int
    name: str
    version: int | None
    status: str | None
    format: str | None
    file_id: int | None = None
    uploader: int | None = None
    qualities: tuple[DatasetQualityRecord, ...] = ()


@record
class DatasetRecord:
    """A full dataset description (``data/{id}``)."""

    id: int
    name: str
    version: int | None
    description: str | None = None
    description_version: int | None = None
    format: str | None = None
    creators: tuple[str, ...] = ()
    contributors: tuple[str, ...] = ()
    collection_date: str | None = None
    upload_date: datetime | None = None
    language: str | None = None
    licence: str | None = None
    url: str | None = None
    parquet_url: str | None = None
    file_id: int | None = None
    default_target_attributes: tuple[str, ...] = ()
    row_id_attributes: tuple[str, ...] = ()
    ignore_attributes: tuple[str, ...] = ()
    version_label: str | None = None
    citation: str | None = None
    tags: tuple[str, ...] = ()
    visibility: str | None = None
    original_data_urls: tuple[str, ...] = ()
    paper_url: str | None = None
    status: str | None = None
    processing_date: datetime | None = None
    error: str | None = None
    warning: str | None = None
    md5_checksum: str | None = None
    uploader: int | None = None
    raw_extra: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> DatasetSummaryRecord:
        """Return the list-row view of this dataset (used when a list omits it, e.g. private)."""
        return DatasetSummaryRecord(
            id=self.id, name=self.name, version=self.version, status=self.status, format=self.format,
            file_id=self.file_id, uploader=self.uploader,
        )


# ---------------------------------------------------------------------------------------------- tasks


@record
class EstimationProcedureRecord:
    """How a task splits its data: type, repeats, folds, percentage, stratification."""

    id: int | None
    type: str | None
    name: str | None = None
    task_type_id: int | None = None
    data_splits_url: str | None = None
    number_repeats: int | None = None
    number_folds: int | None = None
    percentage: float | None = None
    stratified_sampling: bool | None = None


@record
class TaskSummaryRecord:
    """A task as ``task/list`` gives it; ``name`` is built the way the server builds ``task_name``."""

    id: int
    name: str
    task_type_id: int | None
    task_type: str | None
    dataset_id: int | None
    dataset_name: str | None
    status: str | None
    format: str | None = None
    target_name: str | None = None
    estimation_procedure_id: int | None = None
    evaluation_measures: tuple[str, ...] = ()
    inputs: Mapping[str, str] = field(default_factory=dict)
    qualities: tuple[DatasetQualityRecord, ...] = ()
    tags: tuple[str, ...] = ()


@record
class TaskRecord:
    """A full task (``task/{id}``) with its typed inputs; ``name`` is None in pre-2017 recordings."""

    id: int
    name: str | None
    task_type_id: int | None
    task_type: str | None
    dataset_id: int | None
    target_name: str | None = None
    estimation_procedure: EstimationProcedureRecord | None = None
    evaluation_measures: tuple[str, ...] = ()
    cost_matrix: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    prediction_features: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    raw_extra: Mapping[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- flows


@record
class FlowParameterRecord:
    """A hyperparameter a flow declares; ``default_value`` is the backend's free text."""

    name: str
    data_type: str | None = None
    default_value: str | None = None
    description: str | None = None


@record
class FlowComponentRecord:
    """A subflow at ``identifier``; ``flow`` is the nested full flow."""

    identifier: str
    flow: FlowRecord


@record
class FlowSummaryRecord:
    """A flow as ``flow/list`` gives it."""

    id: int
    name: str
    full_name: str | None
    version: str | None
    external_version: str | None
    uploader: int | None


@record
class FlowRecord:
    """A full flow (``flow/{id}``) with its recursive components."""

    id: int
    name: str
    version: str | None
    uploader: int | None = None
    custom_name: str | None = None
    class_name: str | None = None
    external_version: str | None = None
    description: str | None = None
    creators: tuple[str, ...] = ()
    contributors: tuple[str, ...] = ()
    upload_date: datetime | None = None
    licence: str | None = None
    language: str | None = None
    full_description: str | None = None
    installation_notes: str | None = None
    dependencies: str | None = None
    parameters: tuple[FlowParameterRecord, ...] = ()
    components: tuple[FlowComponentRecord, ...] = ()
    tags: tuple[str, ...] = ()
    source_url: str | None = None
    binary_url: str | None = None
    raw_extra: Mapping[str, Any] = field(default_factory=dict)

    def walk(self) -> tuple[FlowRecord, ...]:
        """Return this flow and every nested subflow, depth first."""
        out: list[FlowRecord] = [self]
        for component in self.components:
            out.extend(component.flow.walk())
        return tuple(out)


# ---------------------------------------------------------------------------------------------- runs


@record
class FoldValueRecord:
    """One evaluation value of one fold of one repeat."""

    repeat: int
    fold: int
    value: float | None


@record
class EvaluationRecord:
    """One evaluation measure of a run: the aggregate value, per-fold values and per-class arrays."""

    measure: str
    value: float | None = None
    stdev: float | None = None
    array_data: Any = None
    per_fold: tuple[FoldValueRecord, ...] = ()


@record
class ParameterSettingRecord:
    """One hyperparameter value a run used; ``component`` is the owning (sub)flow id when known."""

    name: str
    value: str | None
    component: int | None = None


@record
class RunFileRecord:
    """A file a run produced (description, predictions, trace)."""

    file_id: int
    name: str
    url: str | None = None


@record
class RunSummaryRecord:
    """A run as ``run/list`` gives it."""

    id: int
    task_id: int | None
    setup_id: int | None
    flow_id: int | None
    uploader: int | None
    upload_time: datetime | None
    task_type_id: int | None = None
    error_message: str | None = None
    run_details: str | None = None


@record
class RunRecord:
    """A full run (``run/{id}``)."""

    id: int
    task_id: int | None
    flow_id: int | None
    setup_id: int | None
    uploader: int | None = None
    uploader_name: str | None = None
    task_type: str | None = None
    task_evaluation_measure: str | None = None
    flow_name: str | None = None
    error: str | None = None
    error_message: str | None = None
    run_details: str | None = None
    setup_string: str | None = None
    parameter_settings: tuple[ParameterSettingRecord, ...] = ()
    tags: tuple[str, ...] = ()
    input_dataset_ids: tuple[int, ...] = ()
    output_files: tuple[RunFileRecord, ...] = ()
    evaluations: tuple[EvaluationRecord, ...] = ()
    raw_extra: Mapping[str, Any] = field(default_factory=dict)

    def summary(self, upload_time: datetime | None = None) -> RunSummaryRecord:
        """Return the list-row view of this run."""
        return RunSummaryRecord(
            id=self.id, task_id=self.task_id, setup_id=self.setup_id, flow_id=self.flow_id,
            uploader=self.uploader, upload_time=upload_time, error_message=self.error_message,
            run_details=self.run_details,
        )


# ---------------------------------------------------------------------------------------------- setups


@record
class SetupParameterRecord:
    """One parameter value of a setup, with the (sub)flow that owns it."""

    id: int | None
    name: str
    flow_id: int | None
    flow_name: str | None = None
    full_name: str | None = None
    data_type: str | None = None
    default_value: str | None = None
    value: str | None = None


@record
class SetupRecord:
    """A setup: a flow plus one value per hyperparameter."""

    id: int
    flow_id: int | None
    parameters: tuple[SetupParameterRecord, ...] = ()


# ---------------------------------------------------------------------------------------------- misc


@record
class EvaluationRowRecord:
    """One row of ``evaluation/list``: one measure of one run, with the run's context."""

    run_id: int
    function: str
    value: float | None
    task_id: int | None = None
    setup_id: int | None = None
    flow_id: int | None = None
    flow_name: str | None = None
    data_id: int | None = None
    data_name: str | None = None
    uploader: int | None = None
    upload_time: datetime | None = None
    array_data: Any = None
    per_fold: tuple[FoldValueRecord, ...] = ()

    def flow_name_and_version(self) -> tuple[str, str] | None:
        """The flow's name and version from ``flow_name``, which OpenML lists as ``name(version)``."""
        match = _FULL_NAME.match(self.flow_name or "")
        return (match.group(1), match.group(2)) if match is not None else None


@record
class TagResultRecord:
    """What a tag or untag call reports: the entity id and every tag it still has."""

    id: int
    tags: tuple[str, ...]


@record
class UserRecord:
    """An OpenML user id with its display name."""

    id: int
    name: str | None


@record
class StudyRecord:
    """A study or benchmark suite and the ids it collects."""

    id: int
    name: str | None
    alias: str | None = None
    main_entity_type: str | None = None
    description: str | None = None
    status: str | None = None
    visibility: str | None = None
    creation_date: datetime | None = None
    creator: int | None = None
    data_ids: tuple[int, ...] = ()
    task_ids: tuple[int, ...] = ()
    flow_ids: tuple[int, ...] = ()
    setup_ids: tuple[int, ...] = ()
    run_ids: tuple[int, ...] = ()
