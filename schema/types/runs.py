"""OpenML runs, their evaluations, setups, output files and uploaders.

Summary fields come from ``run/list`` (batched), evaluations from ``evaluation/list/run/...`` (batched),
per-fold values, tags, parameter settings and files from the full run (``run/{id}``, only when selected).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from adapters.records import EvaluationRecord, RunFileRecord, RunRecord, RunSummaryRecord
from gateway.errors import BadUserInputError, NotFoundError
from gateway.ids import global_id, parse_global_id, parse_int_id
from schema.context_access import openml
from schema.types.base import Artifact, Node, Run, Source
from schema.types.flows import Flow
from schema.types.tasks import OpenMLTask

if TYPE_CHECKING:
    from schema.types.datasets import Dataset

__all__ = ["Evaluation", "FoldValue", "OpenMLRun", "OpenMLRunFile", "OpenMLUser", "ParameterSetting", "Setup",
           "SetupParameter"]


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

    async def _detail(self, info: strawberry.Info) -> EvaluationRecord | None:
        run = await openml(info).run.load(self.run_native)
        return next((e for e in run.evaluations if e.measure == self.measure), None)

    @strawberry.field(description="Per-fold values (read from the full run, only when selected).")
    async def per_fold(self, info: strawberry.Info) -> list[FoldValue]:
        detail = await self._detail(info)
        if detail is None:
            return []
        return [FoldValue(repeat=f.repeat, fold=f.fold, value=f.value) for f in detail.per_fold]

    @strawberry.field(description="Standard deviation over folds, as the backend reported it.")
    async def stdev(self, info: strawberry.Info) -> float | None:
        detail = await self._detail(info)
        return detail.stdev if detail is not None else None


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

    @classmethod
    def of(cls, uid: int) -> OpenMLUser:
        """Return the (lazy) user ``uid``."""
        return cls(id=strawberry.ID(global_id("openml", "user", uid)), native_id=str(uid), native=uid)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> OpenMLUser:
        return cls.of(parse_int_id(id, kind="user"))

    @strawberry.field(description="Display name (batched through user/list).")
    async def name(self, info: strawberry.Info) -> str | None:
        return (await openml(info).user.load(self.native)).name


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

    @classmethod
    def of(cls, sid: int) -> Setup:
        """Return the (lazy) setup ``sid``."""
        return cls(id=strawberry.ID(global_id("openml", "setup", sid)), source=Source.OPENML, native_id=str(sid),
                   native=sid)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Setup:
        return cls.of(parse_int_id(id, kind="setup"))

    @strawberry.field
    async def flow(self, info: strawberry.Info) -> Flow | None:
        flow_id = (await openml(info).setup.load(self.native)).flow_id
        return Flow.of(flow_id) if flow_id is not None else None

    @strawberry.field
    async def parameters(self, info: strawberry.Info) -> list[SetupParameter]:
        setup = await openml(info).setup.load(self.native)
        return [
            SetupParameter(name=p.name, value=p.value, default_value=p.default_value, data_type=p.data_type,
                           full_name=p.full_name, flow=Flow.of(p.flow_id) if p.flow_id is not None else None)
            for p in setup.parameters
        ]


@strawberry.federation.type(keys=["id"], description="A file an OpenML run produced (description, predictions).")
class OpenMLRunFile(Artifact):
    id: strawberry.ID
    source: Source
    native_id: str
    run_native: strawberry.Private[int]
    file_native: strawberry.Private[int]

    @classmethod
    def of(cls, run_id: int, file_id: int) -> OpenMLRunFile:
        """Return the (lazy) file ``file_id`` of run ``run_id``."""
        native = f"{run_id}/{file_id}"
        return cls(id=strawberry.ID(global_id("openml", "runfile", native)), source=Source.OPENML, native_id=native,
                   run_native=run_id, file_native=file_id)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> OpenMLRunFile:
        return cls.of(*parse_run_file_id(id))

    async def _file(self, info: strawberry.Info) -> RunFileRecord:
        run = await openml(info).run.load(self.run_native)
        found = next((f for f in run.output_files if f.file_id == self.file_native), None)
        if found is None:
            raise NotFoundError(f"Run {self.run_native} has no file {self.file_native}.", backend="openml")
        return found

    @strawberry.field(description="The file's role: description, predictions, trace, ...")
    async def name(self, info: strawberry.Info) -> str | None:
        return (await self._file(info)).name

    @strawberry.field(description="Same as name: OpenML names files by their role.")
    async def kind(self, info: strawberry.Info) -> str | None:
        return (await self._file(info)).name

    @strawberry.field
    async def url(self, info: strawberry.Info) -> str | None:
        return (await self._file(info)).url

    @strawberry.field(description="Lower-case extension of the file's URL (xml, arff, ...).")
    async def format(self, info: strawberry.Info) -> str | None:
        url = (await self._file(info)).url
        tail = url.rsplit("/", 1)[-1] if url else ""
        return tail.rsplit(".", 1)[-1].lower() if "." in tail else None

    @strawberry.field(description="When the run (and so the file) was uploaded.")
    async def created_at(self, info: strawberry.Info) -> datetime | None:
        await self._file(info)
        return (await openml(info).run_summary.load(self.run_native)).upload_time

    @strawberry.field
    def run(self) -> Annotated[OpenMLRun, strawberry.lazy("schema.types.runs")]:
        return OpenMLRun.of(self.run_native)


@strawberry.federation.type(keys=["id"], description="An OpenML run: a flow (with a setup) executed on a task.")
class OpenMLRun(Run):
    id: strawberry.ID
    source: Source
    native_id: str
    native: strawberry.Private[int]

    @classmethod
    def of(cls, rid: int) -> OpenMLRun:
        """Return the (lazy) run ``rid``."""
        return cls(id=strawberry.ID(global_id("openml", "run", rid)), source=Source.OPENML, native_id=str(rid),
                   native=rid)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> OpenMLRun:
        return cls.of(parse_int_id(id, kind="run"))

    async def _summary(self, info: strawberry.Info) -> RunSummaryRecord:
        return await openml(info).run_summary.load(self.native)

    async def _full(self, info: strawberry.Info) -> RunRecord:
        return await openml(info).run.load(self.native)

    @strawberry.field(description="completed, or failed when the uploader reported an error.")
    async def status(self, info: strawberry.Info) -> str | None:
        return "failed" if (await self._summary(info)).error_message else "completed"

    @strawberry.field(description="When the run was uploaded (naive server time).")
    async def created_at(self, info: strawberry.Info) -> datetime | None:
        return (await self._summary(info)).upload_time

    @strawberry.field
    async def upload_date(self, info: strawberry.Info) -> datetime | None:
        return (await self._summary(info)).upload_time

    @strawberry.field
    async def task(self, info: strawberry.Info) -> OpenMLTask | None:
        task_id = (await self._summary(info)).task_id
        return OpenMLTask.of(task_id) if task_id is not None else None

    @strawberry.field
    async def flow(self, info: strawberry.Info) -> Flow | None:
        flow_id = (await self._summary(info)).flow_id
        return Flow.of(flow_id) if flow_id is not None else None

    @strawberry.field
    async def setup(self, info: strawberry.Info) -> Setup | None:
        setup_id = (await self._summary(info)).setup_id
        return Setup.of(setup_id) if setup_id is not None else None

    @strawberry.field(description="The task's dataset.")
    async def dataset(
        self, info: strawberry.Info,
    ) -> Annotated[Dataset, strawberry.lazy("schema.types.datasets")] | None:
        from schema.types.datasets import Dataset

        task_id = (await self._summary(info)).task_id
        if task_id is None:
            return None
        did = (await openml(info).task_summary.load(task_id)).dataset_id
        return Dataset.of(did) if did is not None else None

    @strawberry.field
    async def uploader(self, info: strawberry.Info) -> OpenMLUser | None:
        uid = (await self._summary(info)).uploader
        return OpenMLUser.of(uid) if uid is not None else None

    @strawberry.field
    async def error_message(self, info: strawberry.Info) -> str | None:
        return (await self._summary(info)).error_message

    @strawberry.field(description="Evaluation-engine error, when evaluating the run failed.")
    async def evaluation_error(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).error

    @strawberry.field
    async def tags(self, info: strawberry.Info) -> list[str]:
        return list((await self._full(info)).tags)

    @strawberry.field
    async def setup_string(self, info: strawberry.Info) -> str | None:
        return (await self._full(info)).setup_string

    @strawberry.field
    async def parameter_settings(self, info: strawberry.Info) -> list[ParameterSetting]:
        return [
            ParameterSetting(name=p.name, value=p.value,
                             component=Flow.of(p.component) if p.component is not None else None)
            for p in (await self._full(info)).parameter_settings
        ]

    @strawberry.field(description="Aggregate evaluations (batched through evaluation/list); `measures` filters.")
    async def evaluations(self, info: strawberry.Info, measures: list[str] | None = None) -> list[Evaluation]:
        rows = await openml(info).evaluations.load(self.native)
        wanted = set(measures) if measures is not None else None
        return [
            Evaluation(measure=r.function, value=r.value, array_data=r.array_data, run_native=self.native)
            for r in rows
            if wanted is None or r.function in wanted
        ]

    @strawberry.field(description="One evaluation measure, or null when the run has none of that name.")
    async def evaluation(self, info: strawberry.Info, measure: str) -> Evaluation | None:
        rows = await openml(info).evaluations.load(self.native)
        row = next((r for r in rows if r.function == measure), None)
        if row is None:
            return None
        return Evaluation(measure=row.function, value=row.value, array_data=row.array_data, run_native=self.native)

    @strawberry.field(description="Files the run produced.")
    async def files(self, info: strawberry.Info) -> list[OpenMLRunFile]:
        run = await self._full(info)
        return [OpenMLRunFile.of(self.native, f.file_id) for f in run.output_files]


def parse_run_file_id(value: str) -> tuple[int, int]:
    """Return ``(run id, file id)`` of ``openml:runfile:<run>/<file>``; BadUserInputError otherwise."""
    native = parse_global_id(value, kind="runfile", source="openml").native
    run, _, file = native.partition("/")
    if not (run.isdigit() and file.isdigit()):
        raise BadUserInputError(f"Invalid id {value!r}: expected openml:runfile:<run id>/<file id>.")
    return int(run), int(file)

