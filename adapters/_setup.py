"""Setup parameters shared by the OpenML v1 (XML, ``oml:`` keys) and v2 (JSON, bare keys) normalizers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters._coerce import as_list, opt_int
from adapters.records import SetupParameterRecord

TextFn = Callable[..., str | None]


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
