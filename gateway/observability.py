"""Metrics, traces and log context of one app: Prometheus counters/histograms, OpenTelemetry spans, request ids.

Nothing here is global: each app owns a ``Telemetry`` (its own Prometheus registry and tracer provider), so
several apps can live in one process (tests) and workers never share state (design.md: per-process state
is per worker). The request id of the current request lives in a context variable: backend calls send it as
``X-Request-Id`` and JSON log lines carry it. Labels never hold credentials, ids or URLs: backend name,
endpoint kind (``run/list``), status class and a bounded set of operation names.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "REQUEST_ID", "JsonLogFormatter", "Telemetry", "configure_logging", "counter_family", "gauge_family",
    "operation_label", "telemetry_from_settings",
]

REQUEST_ID: ContextVar[str | None] = ContextVar("gateway_request_id", default=None)

_OPERATION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_OPERATIONS = 200
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def operation_label(name: str | None, seen: set[str]) -> str:
    """A bounded label for an operation name: ``anonymous``, the name, or ``other`` past 200 distinct names."""
    if not name or not _OPERATION.match(name):
        return "anonymous"
    if name in seen or len(seen) < _MAX_OPERATIONS:
        seen.add(name)
        return name
    return "other"


def status_class(status: int | None) -> str:
    """``2xx`` ... ``5xx`` for an HTTP status, ``error`` when no response came back."""
    return "error" if status is None else f"{status // 100}xx"


class _StateCollector(Collector):
    """Reports what other objects count (cache stats, breaker states) at scrape time."""

    def __init__(self, read: Callable[[], list[Any]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Any]:
        yield from self._read()


@dataclass
class _Operation:
    span: Span | None
    started: float


class Telemetry:
    """The metrics registry and tracer of one app."""

    def __init__(self, exporter: SpanExporter | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("gateway_graphql_requests_total", "GraphQL operations by name and outcome.",
                                ["operation", "outcome"], registry=self.registry)
        self.request_seconds = Histogram("gateway_graphql_request_seconds", "GraphQL operation latency.",
                                         ["operation"], buckets=_BUCKETS, registry=self.registry)
        self.backend_calls = Counter("gateway_backend_calls_total", "Backend calls that reached the network.",
                                     ["backend", "endpoint", "status"], registry=self.registry)
        self.backend_seconds = Histogram("gateway_backend_call_seconds", "Backend call latency.",
                                         ["backend", "endpoint"], buckets=_BUCKETS, registry=self.registry)
        self.backend_errors = Counter("gateway_backend_errors_total", "Backend calls that failed, by taxonomy code.",
                                      ["backend", "endpoint", "code"], registry=self.registry)
        self._operations: set[str] = set()
        self.provider: TracerProvider | None = None
        self.tracer: Tracer | None = None
        if exporter is not None:
            self.provider = TracerProvider()
            self.provider.add_span_processor(SimpleSpanProcessor(exporter))
            self.tracer = self.provider.get_tracer("ml-metadata-gateway")

    def watch(self, read: Callable[[], list[Any]]) -> None:
        """Register a callback that yields metric families at scrape time (cache, breakers)."""
        self.registry.register(_StateCollector(read))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    @contextlib.contextmanager
    def backend_call(self, backend: str, endpoint: str, method: str) -> Iterator[dict[str, Any]]:
        """Time, count and trace one backend call; the caller sets ``status`` or ``code`` in the yielded dict."""
        outcome: dict[str, Any] = {"status": None, "code": None}
        span = None
        if self.tracer is not None:
            span = self.tracer.start_span(f"{backend} {endpoint}", kind=SpanKind.CLIENT, attributes={
                "gateway.backend": backend, "gateway.endpoint": endpoint, "http.request.method": method})
        started = time.perf_counter()
        try:
            yield outcome
        finally:
            seconds = time.perf_counter() - started
            self.backend_seconds.labels(backend, endpoint).observe(seconds)
            self.backend_calls.labels(backend, endpoint, status_class(outcome["status"])).inc()
            if outcome["code"]:
                self.backend_errors.labels(backend, endpoint, outcome["code"]).inc()
            if span is not None:
                if outcome["status"] is not None:
                    span.set_attribute("http.response.status_code", outcome["status"])
                if outcome["code"]:
                    span.set_status(Status(StatusCode.ERROR, outcome["code"]))
                span.end()

    def start_operation(self, name: str | None) -> _Operation:
        """Begin the span and timer of one GraphQL operation."""
        span = None
        if self.tracer is not None:
            span = self.tracer.start_span(f"graphql {name or 'anonymous'}", kind=SpanKind.SERVER, attributes={
                "graphql.operation.name": name or "", "gateway.request_id": REQUEST_ID.get() or ""})
        return _Operation(span, time.perf_counter())

    def end_operation(self, operation: _Operation, name: str | None, error_codes: list[str]) -> None:
        """Record one finished GraphQL operation (``outcome`` is ``ok``, ``partial`` or ``error``)."""
        label = operation_label(name, self._operations)
        outcome = "ok" if not error_codes else "error"
        self.requests.labels(label, outcome).inc()
        self.request_seconds.labels(label).observe(time.perf_counter() - operation.started)
        if operation.span is not None:
            operation.span.update_name(f"graphql {name or 'anonymous'}")  # the name is known after parsing
            operation.span.set_attribute("graphql.operation.name", name or "")
            if error_codes:
                operation.span.set_attribute("graphql.error_codes", sorted(set(error_codes)))
                operation.span.set_status(Status(StatusCode.ERROR, error_codes[0]))
            operation.span.end()

    def shutdown(self) -> None:
        """Flush and stop the tracer provider."""
        if self.provider is not None:
            self.provider.shutdown()


def counter_family(name: str, documentation: str, labels: list[str],
                   samples: list[tuple[list[str], float]]) -> CounterMetricFamily:
    """A counter family built at scrape time."""
    family = CounterMetricFamily(name, documentation, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


def gauge_family(name: str, documentation: str, labels: list[str],
                 samples: list[tuple[list[str], float]]) -> GaugeMetricFamily:
    """A gauge family built at scrape time."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the current request."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def telemetry_from_settings(settings: Any) -> Telemetry:
    """The Telemetry that ``otel_exporter`` asks for: ``none``, ``console`` or ``otlp`` (to ``otel_endpoint``)."""
    kind = (getattr(settings, "otel_exporter", "none") or "none").lower()
    exporter: SpanExporter | None = None
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        exporter = ConsoleSpanExporter()
    elif kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = getattr(settings, "otel_endpoint", None)
        exporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
    elif kind != "none":
        raise ValueError(f"GATEWAY_OTEL_EXPORTER must be none, console or otlp, not {kind!r}")
    return Telemetry(exporter)


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Route every log line (ours, uvicorn's, strawberry's) through one handler; JSON unless ``fmt`` is text."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # one line per request is metrics' job, not the log's
