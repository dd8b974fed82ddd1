"""OpenML runs, their evaluations, setups, output files and uploaders.

Summary fields come from ``run/list`` (batched), evaluations from ``evaluation/list/run/...`` (batched),
per-fold values, tags, parameter settings and files from the full run (``run/{id}``, only when selected).
Fields answer synchronously when the record is already known (see ``schema.keyed``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types.nodes import SelectedField

from adapters.records import EvaluationRecord, EvaluationRowRecord, RunFileRecord, RunRecord, RunSummaryRecord
from gateway.errors import BadUserInputError, NotFoundError
from gateway.ids import global_id, parse_global_id, parse_int_id
from schema.context_access import openml
from schema.keyed import MaybeAwaitable, then
from schema.lookahead import fields_of
from schema.types.base import Artifact, Node, Run, Source
from schema.types.flows import Flow
from schema.types.tasks import OpenMLTask

if TYPE_CHECKING:
    from schema.loaders import OpenMLLoaders
    from schema.types.datasets import Dataset

__all__ = ["Evaluation", "FoldValue", "OpenMLRun", "OpenMLRunFile", "OpenMLUser", "ParameterSetting", "Setup",
           "SetupParameter", "parse_run_file_id"]

T = TypeVar("T")


@strawberry.type(description="An evaluation value of one fold of one repeat.")
class FoldValue:
    repeat: int
    fold: int
    value: float | None


@strawberry.type(description="One evaluation measure of a run.")
class Evaluation:
    measure: str
    value: float | None
    array_data: JSON | None = strawberry.field(description="Per-class values, decoded when they are JSON.")
    run_native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, row: EvaluationRowRecord, loaders: OpenMLLoaders) -> Evaluation:
        return cls(measure=row.function, value=row.value, array_data=row.array_data, run_native=row.run_id,
                   _l=loaders)

    def _detail(self, fn: Callable[[EvaluationRecord | None], T]) -> MaybeAwaitable[T]:
        return self._l.run.get(self.run_native,
                               lambda run: fn(next((e for e in run.evaluations if e.measure == self.measure), None)))

    @strawberry.field(graphql_type=list[FoldValue],
                      description="Per-fold values (read from the full run, only when selected: evaluation/list's "
                                  "per_fold variant flattens the folds without their repeat and fold numbers).")
    def per_fold(self) -> MaybeAwaitable[list[FoldValue]]:
        return self._detail(lambda d: [] if d is None else [
            FoldValue(repeat=f.repeat, fold=f.fold, value=f.value) for f in d.per_fold])

    @strawberry.field(graphql_type=float | None,
                      description="Standard deviation over folds, as the backend reported it.")
    def stdev(self) -> MaybeAwaitable[float | None]:
        return self._detail(lambda d: d.stdev if d is not None else None)


@strawberry.type(description="A hyperparameter value a run used.")
class ParameterSetting:
    name: str
    value: str | None
    component: Annotated[Flow, strawberry.lazy("schema.types.flows")] | None


@strawberry.federation.type(keys=["id"], description="An OpenML user (uploader).")
class OpenMLUser(Node):
    id: strawberry.ID
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, uid: int, loaders: OpenMLLoaders) -> OpenMLUser:
        """Return the (lazy) user ``uid``."""
        return cls(id=strawberry.ID(global_id("openml", "user", uid)), native_id=str(uid), native=uid, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> OpenMLUser:
        return cls.of(parse_int_id(id, kind="user"), openml(info))

    @strawberry.field(graphql_type=str | None, description="Display name (batched through user/list).")
    def name(self) -> MaybeAwaitable[str | None]:
        return self._l.user.get(self.native, lambda u: u.name)


@strawberry.type(description="One parameter value of a setup.")
class SetupParameter:
    name: str
    value: str | None
    default_value: str | None
    data_type: str | None
    full_name: str | None
    flow: Annotated[Flow, strawberry.lazy("schema.types.flows")] | None


@strawberry.federation.type(keys=["id"], description="An OpenML setup: a flow plus a value for each hyperparameter.")
class Setup(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, sid: int, loaders: OpenMLLoaders) -> Setup:
        """Return the (lazy) setup ``sid``."""
        return cls(id=strawberry.ID(global_id("openml", "setup", sid)), source=Source.OPENML, native_id=str(sid),
                   native=sid, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Setup:
        return cls.of(parse_int_id(id, kind="setup"), openml(info))

    @strawberry.field(graphql_type=Flow | None)
    def flow(self) -> MaybeAwaitable[Flow | None]:
        return self._l.setup.get(self.native, lambda s: Flow.of(s.flow_id, self._l) if s.flow_id is not None else None)

    @strawberry.field(graphql_type=list[SetupParameter])
    def parameters(self) -> MaybeAwaitable[list[SetupParameter]]:
        return self._l.setup.get(self.native, lambda s: [
            SetupParameter(name=p.name, value=p.value, default_value=p.default_value, data_type=p.data_type,
                           full_name=p.full_name, flow=Flow.of(p.flow_id, self._l) if p.flow_id is not None else None)
            for p in s.parameters
        ])


@strawberry.federation.type(keys=["id"], description="A file an OpenML run produced (description, predictions).")
class OpenMLRunFile(Artifact):
    id: strawberry.ID
    source: Source
    native_id: str
    run_native: strawberry.Private[int]
    file_native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, run_id: int, file_id: int, loaders: OpenMLLoaders) -> OpenMLRunFile:
        """Return the (lazy) file ``file_id`` of run ``run_id``."""
        native = f"{run_id}/{file_id}"
        return cls(id=strawberry.ID(global_id("openml", "runfile", native)), source=Source.OPENML, native_id=native,
                   run_native=run_id, file_native=file_id, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> OpenMLRunFile:
        return cls.of(*parse_run_file_id(id), openml(info))

    def _file(self, fn: Callable[[RunFileRecord], T]) -> MaybeAwaitable[T]:
        def pick(run: RunRecord) -> T:
            found = next((f for f in run.output_files if f.file_id == self.file_native), None)
            if found is None:
                raise NotFoundError(f"Run {self.run_native} has no file {self.file_native}.", backend="openml")
            return fn(found)

        return self._l.run.get(self.run_native, pick)

    @strawberry.field(graphql_type=str | None, description="The file's role: description, predictions, trace, ...")
    def name(self) -> MaybeAwaitable[str | None]:
        return self._file(lambda f: f.name)

    @strawberry.field(graphql_type=str | None, description="Same as name: OpenML names files by their role.")
    def kind(self) -> MaybeAwaitable[str | None]:
        return self._file(lambda f: f.name)

    @strawberry.field(graphql_type=str | None)
    def url(self) -> MaybeAwaitable[str | None]:
        return self._file(lambda f: f.url)

    @strawberry.field(graphql_type=str | None, description="Lower-case extension of the file's URL (xml, arff, ...).")
    def format(self) -> MaybeAwaitable[str | None]:
        def extension(f: RunFileRecord) -> str | None:
            tail = f.url.rsplit("/", 1)[-1] if f.url else ""
            return tail.rsplit(".", 1)[-1].lower() if "." in tail else None

        return self._file(extension)

    @strawberry.field(graphql_type=datetime | None, description="When the run (and so the file) was uploaded.")
    def created_at(self) -> MaybeAwaitable[datetime | None]:
        return then(self._file(lambda f: f),
                    lambda _f: self._l.run_summary.get(self.run_native, lambda r: r.upload_time))

    @strawberry.field
    def run(self) -> Annotated[OpenMLRun, strawberry.lazy("schema.types.runs")]:
        return OpenMLRun.of(self.run_native, self._l)


@strawberry.federation.type(keys=["id"], description="An OpenML run: a flow (with a setup) executed on a task.")
class OpenMLRun(Run):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, rid: int, loaders: OpenMLLoaders) -> OpenMLRun:
        """Return the (lazy) run ``rid``."""
        return cls(id=strawberry.ID(global_id("openml", "run", rid)), source=Source.OPENML, native_id=str(rid),
                   native=rid, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> OpenMLRun:
        return cls.of(parse_int_id(id, kind="run"), openml(info))

    def _summary(self, fn: Callable[[RunSummaryRecord], T]) -> MaybeAwaitable[T]:
        return self._l.run_summary.get(self.native, fn)

    def _full(self, fn: Callable[[RunRecord], T]) -> MaybeAwaitable[T]:
        return self._l.run.get(self.native, fn)

    @strawberry.field(graphql_type=str | None, description="completed, or failed when the uploader reported an error.")
    def status(self) -> MaybeAwaitable[str | None]:
        return self._summary(lambda r: "failed" if r.error_message else "completed")

    @strawberry.field(graphql_type=datetime | None, description="When the run was uploaded (naive server time).")
    def created_at(self) -> MaybeAwaitable[datetime | None]:
        return self._summary(lambda r: r.upload_time)

    @strawberry.field(graphql_type=datetime | None)
    def upload_date(self) -> MaybeAwaitable[datetime | None]:
        return self._summary(lambda r: r.upload_time)

    @strawberry.field(graphql_type=OpenMLTask | None)
    def task(self) -> MaybeAwaitable[OpenMLTask | None]:
        return self._summary(lambda r: OpenMLTask.of(r.task_id, self._l) if r.task_id is not None else None)

    @strawberry.field(graphql_type=Flow | None)
    def flow(self) -> MaybeAwaitable[Flow | None]:
        return self._summary(lambda r: Flow.of(r.flow_id, self._l, via_run=self.native)
                             if r.flow_id is not None else None)

    @strawberry.field(graphql_type=Setup | None)
    def setup(self) -> MaybeAwaitable[Setup | None]:
        return self._summary(lambda r: Setup.of(r.setup_id, self._l) if r.setup_id is not None else None)

    @strawberry.field(graphql_type=Annotated["Dataset", strawberry.lazy("schema.types.datasets")] | None,
                      description="The task's dataset.")
    def dataset(self) -> MaybeAwaitable[Dataset | None]:
        return then(self._summary(lambda r: r.task_id),
                    lambda tid: OpenMLTask.of(tid, self._l).dataset() if tid is not None else None)

    @strawberry.field(graphql_type=OpenMLUser | None)
    def uploader(self) -> MaybeAwaitable[OpenMLUser | None]:
        return self._summary(lambda r: OpenMLUser.of(r.uploader, self._l) if r.uploader is not None else None)

    @strawberry.field(graphql_type=str | None)
    def error_message(self) -> MaybeAwaitable[str | None]:
        return self._summary(lambda r: r.error_message)

    @strawberry.field(graphql_type=str | None, description="Evaluation-engine error, when evaluating the run failed.")
    def evaluation_error(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda r: r.error)

    @strawberry.field(graphql_type=list[str])
    def tags(self) -> MaybeAwaitable[list[str]]:
        return self._full(lambda r: list(r.tags))

    @strawberry.field(graphql_type=str | None)
    def setup_string(self) -> MaybeAwaitable[str | None]:
        return self._full(lambda r: r.setup_string)

    @strawberry.field(graphql_type=list[ParameterSetting])
    def parameter_settings(self) -> MaybeAwaitable[list[ParameterSetting]]:
        return self._full(lambda r: [
            ParameterSetting(name=p.name, value=p.value,
                             component=Flow.of(p.component, self._l) if p.component is not None else None)
            for p in r.parameter_settings
        ])

    @strawberry.field(graphql_type=list[Evaluation],
                      description="Aggregate evaluations (batched through evaluation/list); `measures` filters.")
    def evaluations(self, measures: list[str] | None = None) -> MaybeAwaitable[list[Evaluation]]:
        wanted = set(measures) if measures is not None else None
        return self._l.run_evaluations(self.native, lambda rows: [
            Evaluation.of(row, self._l) for row in rows if wanted is None or row.function in wanted])

    @strawberry.field(graphql_type=Evaluation | None,
                      description="One evaluation measure, or null when the run has none of that name (batched per "
                                  "measure through evaluation/list/function/<measure>).")
    def evaluation(self, measure: str) -> MaybeAwaitable[Evaluation | None]:
        def pick(rows: tuple[EvaluationRowRecord, ...]) -> Evaluation | None:
            return Evaluation.of(rows[0], self._l) if rows else None

        return self._l.run_measure(self.native, measure, pick)

    @strawberry.field(graphql_type=list[OpenMLRunFile], description="Files the run produced.")
    def files(self) -> MaybeAwaitable[list[OpenMLRunFile]]:
        return self._full(lambda r: [OpenMLRunFile.of(self.native, f.file_id, self._l) for f in r.output_files])


def parse_run_file_id(value: str) -> tuple[int, int]:
    """Return ``(run id, file id)`` of ``openml:runfile:<run>/<file>``; BadUserInputError otherwise."""
    native = parse_global_id(value, kind="runfile", source="openml").native
    run, _, file = native.partition("/")
    if not (run.isdigit() and file.isdigit()):
        raise BadUserInputError(f"Invalid id {value!r}: expected openml:runfile:<run id>/<file id>.")
    return int(run), int(file)


RUN_TYPES = frozenset({"OpenMLRun", "Run", "Node"})  # type conditions a selection on an OpenML run may carry
_RECORD_FIELDS = frozenset({"evaluationError", "tags", "setupString", "parameterSettings", "files"})  # run/{id}
_FREE = frozenset({"id", "source", "nativeId", "__typename"})  # known from the id alone
_FLOW_NAMES = frozenset({"name", "version", "fullName"})
_FOLD_FIELDS = frozenset({"perFold", "stdev"})  # Evaluation fields read from the full run


def want_for_runs(loaders: OpenMLLoaders, runs: Sequence[RunSummaryRecord],
                  selected: Sequence[SelectedField]) -> list[asyncio.Future[Any]]:
    """Look-ahead for a page of runs (``schema.lookahead``): ask now, in one batch per loader, for what the
    ``selected`` fields of ``runs`` will need; return the pending loads."""
    asks: list[asyncio.Future[Any] | None] = []
    for field in selected:
        inner = {f.name for f in fields_of(field.selections)} - _FREE
        if field.name in _RECORD_FIELDS:
            asks += [loaders.run.want(r.id) for r in runs]
        elif field.name == "flow" and inner:
            flows = [(r.flow_id, r.id) for r in runs if r.flow_id is not None]
            if inner <= _FLOW_NAMES:
                asks += [loaders.want_flow_name(flow, run) for flow, run in flows]
            else:
                asks += [loaders.flow.want(flow) for flow, _run in flows]
        elif (field.name == "task" and inner) or field.name == "dataset":
            asks += [loaders.task_summary.want(r.task_id) for r in runs if r.task_id is not None]
        elif field.name == "evaluation" and isinstance(field.arguments.get("measure"), str):
            asks += [loaders.want_measure(r.id, field.arguments["measure"]) for r in runs]
        elif field.name == "evaluations":
            asks += [loaders.want_evaluations(r.id) for r in runs]
        if field.name in ("evaluation", "evaluations") and inner & _FOLD_FIELDS:
            asks += [loaders.run.want(r.id) for r in runs]  # per-fold values come from run/{id}
    return [ask for ask in asks if ask is not None]
