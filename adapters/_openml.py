"""Shapes the OpenML v1 (XML, ``oml:`` keys) and v2 (JSON, bare keys) normalizers share: evaluations, setups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from adapters._coerce import as_list, opt_int, parse_array
from adapters.records import EvaluationRecord, FoldValueRecord, SetupParameterRecord

TextFn = Callable[..., str | None]
NumberFn = Callable[[Any], float | None]


def setup_parameters(raw: Any, *, prefix: str, text: TextFn) -> tuple[SetupParameterRecord, ...]:
    """Normalize a setup's ``parameter`` list, dropping repeats.

    ``setup/list`` LEFT JOINs ``setup_tag``, so a setup with several tags repeats each parameter; a
    parameter is identified by its id, or by (flow, parameter name, name) when old servers omit the id.
    ``prefix`` is ``"oml:"`` for XML documents and ``""`` for JSON; ``text`` is the source's string reader.
    """
    seen: set[Any] = set()
    params: list[SetupParameterRecord] = []
    for p in as_list(raw):
        if not isinstance(p, dict):
            continue
        pid = opt_int(p.get(f"{prefix}id"))
        key = pid if pid is not None else (
            p.get(f"{prefix}flow_id"), p.get(f"{prefix}parameter_name"), p.get(f"{prefix}name"))
        if key in seen:
            continue
        seen.add(key)
        params.append(SetupParameterRecord(
            id=pid,
            name=text(p.get(f"{prefix}name")) or text(p.get(f"{prefix}parameter_name")) or "",
            flow_id=opt_int(p.get(f"{prefix}flow_id")),
            flow_name=text(p.get(f"{prefix}flow_name")),
            full_name=text(p.get(f"{prefix}full_name")),
            data_type=text(p.get(f"{prefix}data_type")),
            default_value=text(p.get(f"{prefix}default_value"), strip=False),
            value=text(p.get(f"{prefix}value"), strip=False),
        ))
    return tuple(params)


def evaluations(
    nodes: Iterable[Any], *, prefix: str, attr: str, text: TextFn, number: NumberFn,
) -> tuple[EvaluationRecord, ...]:
    """Group aggregate and per-fold evaluations by measure, in first-seen order.

    Fold and repeat are XML attributes in v1 (``attr="@"``) and plain keys in v2 (``attr=""``); per-sample
    values (learning curves) are not exposed.
    """
    aggregates: dict[str, dict[str, Any]] = {}
    folds: dict[str, list[FoldValueRecord]] = {}
    for e in nodes:
        if not isinstance(e, dict):
            continue
        name = text(e.get(f"{prefix}name"))
        if name is None:
            continue
        if e.get(f"{attr}fold") is not None or e.get(f"{attr}repeat") is not None:
            if e.get(f"{attr}sample") is not None:
                continue
            folds.setdefault(name, []).append(FoldValueRecord(
                repeat=opt_int(e.get(f"{attr}repeat")) or 0,
                fold=opt_int(e.get(f"{attr}fold")) or 0,
                value=number(e.get(f"{prefix}value")),
            ))
            aggregates.setdefault(name, {})
        else:
            aggregates[name] = {
                "value": number(e.get(f"{prefix}value")),
                "stdev": number(e.get(f"{prefix}stdev")),
                "array_data": parse_array(text(e.get(f"{prefix}array_data"))),
            }
    return tuple(
        EvaluationRecord(
            measure=name,
            value=agg.get("value"),
            stdev=agg.get("stdev"),
            array_data=agg.get("array_data"),
            per_fold=tuple(sorted(folds.get(name, ()), key=lambda f: (f.repeat, f.fold))),
        )
        for name, agg in aggregates.items()
    )
