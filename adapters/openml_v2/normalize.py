"""Pure normalizers: OpenML v2 (server-api) JSON -> the same frozen records as v1 (no I/O).

Every function takes a response body (bytes, or already decoded JSON) and returns the records of
``adapters/records/openml.py`` following design.md's rules, so that v1 and v2 yield EQUAL records for the
same entity (openml-api.md §5.3 lists what differs on the wire):

- ``subflows`` -> ``components``; ``tags`` (task GET) and ``tag`` (everything else) -> ``tags``;
- typed numbers are kept typed, and turned back into v1's text where the record holds text (a flow
  parameter's ``default_value`` 0.25 -> ``"0.25"``, ``version`` 1 -> ``"1"``);
- strings where numbers belong are read too (task list qualities ``"898.0"``, tag ids ``"21"``, trace
  ``selected`` ``"true"``); ``[]`` and ``""`` are None; one value where a list belongs is a list;
- ``format`` is lower-cased (the dataset list sends it raw), dates with ``T`` and with a space both parse;
- descriptions and messages are decoded one more level of HTML entities, exactly as v1's are;
- a run's ``error`` list is joined into v1's one ``error`` string; files have no ``url`` in v2.

A malformed body raises ``BackendError``; error bodies are mapped in ``errors.error_from_response``.
"""

from __future__ import annotations

from adapters.openml_v2._common import load
from adapters.openml_v2.errors import NoResults, error_from_response
from adapters.openml_v2.normalize_data import (
    dataset_from_json,
    dataset_list_from_json,
    estimation_procedures_from_json,
    evaluation_measures_from_json,
    features_from_json,
    qualities_from_json,
    quality_names_from_json,
    task_from_json,
    task_list_from_json,
    task_name,
)
from adapters.openml_v2.normalize_runs import (
    TraceIterationRecord,
    flow_from_json,
    run_from_json,
    setup_from_json,
    study_from_json,
    tag_result_from_json,
    trace_from_json,
)

__all__ = [
    "NoResults",
    "TraceIterationRecord",
    "dataset_from_json",
    "dataset_list_from_json",
    "error_from_response",
    "estimation_procedures_from_json",
    "evaluation_measures_from_json",
    "features_from_json",
    "flow_from_json",
    "load",
    "qualities_from_json",
    "quality_names_from_json",
    "run_from_json",
    "setup_from_json",
    "study_from_json",
    "tag_result_from_json",
    "task_from_json",
    "task_list_from_json",
    "task_name",
    "trace_from_json",
]
