"""Per-operation metrics and spans: one span and one latency sample per GraphQL operation, labelled by name."""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry import trace
from strawberry.extensions import SchemaExtension

__all__ = ["OperationTelemetry"]


class OperationTelemetry(SchemaExtension):
    """Times every operation and counts it by (bounded) operation name and outcome."""

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        services = getattr(ctx.context, "services", None)
        telemetry = getattr(services, "telemetry", None)
        if telemetry is None:  # a schema executed outside the app (tests of the schema alone)
            yield
            return
        operation = telemetry.start_operation(ctx.operation_name)
        scope = trace.use_span(operation.span, end_on_exit=False) if operation.span is not None else None
        try:
            if scope is None:
                yield
            else:
                with scope:  # backend-call spans started during the operation become its children
                    yield
        finally:
            errors = list(ctx.pre_execution_errors or ())
            if ctx.result is not None and ctx.result.errors:
                errors = list(ctx.result.errors)
            codes = [str((e.extensions or {}).get("code", "INTERNAL")) for e in errors]
            telemetry.end_operation(operation, ctx.operation_name, codes)
