"""Pure normalizers: OpenML v1 XML bodies -> frozen records (no I/O).

Every function takes the response body as bytes, raises the taxonomy's error for an ``oml:error``
body (``errors.error_for_code``) and ``BackendError`` for a body of the wrong shape, and returns typed
records following design.md's normalization rules: numbers typed, multi-valued fields as tuples,
both date formats parsed, formats lower-cased, one more level of HTML entities decoded in
descriptions and messages, significant whitespace kept in nominal values.
"""

from __future__ import annotations

from adapters.openml_v1._common import NoResults, error_from_body, parse_array
from adapters.openml_v1.normalize_data import (
    arff_header,
    dataset_from_json,
    dataset_from_xml,
    dataset_list_from_xml,
    estimation_procedures_from_xml,
    features_from_xml,
    qualities_from_xml,
    task_from_xml,
    task_list_from_xml,
    task_name,
)
from adapters.openml_v1.normalize_runs import (
    delete_from_xml,
    evaluation_list_from_xml,
    flow_from_xml,
    flow_list_from_xml,
    run_from_xml,
    run_list_from_xml,
    setup_from_xml,
    setup_list_from_xml,
    study_from_xml,
    tag_result_from_xml,
    users_from_xml,
)

__all__ = [
    "NoResults",
    "arff_header",
    "dataset_from_json",
    "dataset_from_xml",
    "dataset_list_from_xml",
    "delete_from_xml",
    "error_from_body",
    "estimation_procedures_from_xml",
    "evaluation_list_from_xml",
    "features_from_xml",
    "flow_from_xml",
    "flow_list_from_xml",
    "parse_array",
    "qualities_from_xml",
    "run_from_xml",
    "run_list_from_xml",
    "setup_from_xml",
    "setup_list_from_xml",
    "study_from_xml",
    "tag_result_from_xml",
    "task_from_xml",
    "task_list_from_xml",
    "task_name",
    "users_from_xml",
]
