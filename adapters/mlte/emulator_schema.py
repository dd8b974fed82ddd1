"""Request validation for the MLTE emulator, as MLTE's pydantic models do it (lax mode, extra fields ignored).

Each spec takes ``(value, loc, errors)`` and returns the validated value in the model's field order with
defaults filled (what MLTE stores and echoes), or ``BAD`` after appending pydantic-shaped error dicts
(``{"type", "loc", "msg", "input", "ctx"?}``) that FastAPI returns as a 422 ``detail`` list.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "ARTIFACT_TYPES",
    "BAD",
    "MODEL",
    "QUERY",
    "REQUIRED",
    "VERSION",
    "WRITE_REQUEST",
    "Errors",
    "Spec",
    "boolean",
    "integer",
    "string",
]

Loc = tuple[str | int, ...]
Errors = list[dict[str, Any]]
Spec = Callable[[Any, Loc, Errors], Any]
BAD: Any = type("Bad", (), {"__repr__": lambda self: "BAD"})()
REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()
EMPTY: Any = type("Empty", (), {"__repr__": lambda self: "EMPTY"})()  # default: the sub-model built from {}

ARTIFACT_TYPES = ("card", "evidence", "suite", "results", "report")
_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def _err(errors: Errors, kind: str, loc: Loc, msg: str, value: Any, ctx: dict[str, Any] | None = None) -> Any:
    item: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
    if ctx is not None:
        item["ctx"] = ctx
    errors.append(item)
    return BAD


def string(value: Any, loc: Loc, errors: Errors) -> Any:
    """A ``str`` field: only strings pass."""
    return value if isinstance(value, str) else _err(errors, "string_type", loc, "Input should be a valid string",
                                                     value)


def integer(value: Any, loc: Loc, errors: Errors) -> Any:
    """An ``int`` field: ints, booleans, integral floats and numeric strings pass."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        return _err(errors, "int_from_float", loc,
                    "Input should be a valid integer, got a number with a fractional part", value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return _err(errors, "int_parsing", loc,
                        "Input should be a valid integer, unable to parse string as an integer", value)
    return _err(errors, "int_type", loc, "Input should be a valid integer", value)


def number(value: Any, loc: Loc, errors: Errors) -> Any:
    """A ``float`` field."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return _err(errors, "float_parsing", loc,
                        "Input should be a valid number, unable to parse string as a number", value)
    return _err(errors, "float_type", loc, "Input should be a valid number", value)


def boolean(value: Any, loc: Loc, errors: Errors) -> Any:
    """A ``bool`` field (``"yes"``, ``1`` and friends pass)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, str | int | float):
        return _err(errors, "bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", value)
    return _err(errors, "bool_type", loc, "Input should be a valid boolean", value)


def anything(value: Any, loc: Loc, errors: Errors) -> Any:
    """An ``Any`` field."""
    return value


def optional(inner: Spec) -> Spec:
    """``X | None``."""
    return lambda value, loc, errors: None if value is None else inner(value, loc, errors)


def list_of(inner: Spec) -> Spec:
    """``list[X]``."""

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, list):
            return _err(errors, "list_type", loc, "Input should be a valid list", value)
        out = [inner(item, (*loc, i), errors) for i, item in enumerate(value)]
        return BAD if any(item is BAD for item in out) else out

    return check


def dict_of(inner: Spec) -> Spec:
    """``dict[str, X]``."""

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, dict):
            return _err(errors, "dict_type", loc, "Input should be a valid dictionary", value)
        out = {key: inner(item, (*loc, key), errors) for key, item in value.items()}
        return BAD if any(item is BAD for item in out.values()) else out

    return check


def choice(values: Sequence[str], expected: str) -> Spec:
    """A (str) enum field."""

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if isinstance(value, str) and value in values:
            return value
        return _err(errors, "enum", loc, f"Input should be {expected}", value, {"expected": expected})

    return check


def literal(value: str, shown: str) -> Spec:
    """A ``Literal[Enum.X]`` field (the discriminators)."""

    def check(given: Any, loc: Loc, errors: Errors) -> Any:
        if given == value:
            return value
        return _err(errors, "literal_error", loc, f"Input should be {shown}", given, {"expected": shown})

    return check


Field = tuple[str, Spec, Any]


def model(*fields: Field) -> Spec:
    """A pydantic model: fields in order, unknown keys ignored, defaults filled (``EMPTY``: the sub-model of {})."""

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, dict):
            return _err(errors, "model_attributes_type", loc,
                        "Input should be a valid dictionary or object to extract fields from", value)
        out: dict[str, Any] = {}
        for name, spec, default in fields:
            if name in value:
                out[name] = spec(value[name], (*loc, name), errors)
            elif default is REQUIRED:
                out[name] = _err(errors, "missing", (*loc, name), "Field required", value)
            elif default is EMPTY:
                out[name] = spec({}, (*loc, name), errors)
            else:
                out[name] = copy.deepcopy(default)
        return BAD if any(item is BAD for item in out.values()) else out

    return check


def tagged(discriminator: str, members: dict[str, Spec], expected: str) -> Spec:
    """A discriminated union (``Field(discriminator=...)``); the member's tag joins the error location."""

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, dict):
            return _err(errors, "model_attributes_type", loc,
                        "Input should be a valid dictionary or object to extract fields from", value)
        if discriminator not in value:
            return _err(errors, "union_tag_not_found", loc,
                        f"Unable to extract tag using discriminator '{discriminator}'", value,
                        {"discriminator": f"'{discriminator}'"})
        tag = value[discriminator]
        if not isinstance(tag, str) or tag not in members:
            return _err(errors, "union_tag_invalid", loc,
                        f"Input tag '{tag}' found using '{discriminator}' does not match any of the expected tags: "
                        f"{expected}", value, {"discriminator": f"'{discriminator}'", "tag": str(tag),
                                               "expected_tags": expected})
        return members[tag](value, (*loc, tag), errors)

    return check


def union(members: Sequence[tuple[str, Spec]]) -> Spec:
    """A plain union: the first member that validates wins; otherwise every member's errors, by class name."""

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        collected: Errors = []
        for name, spec in members:
            attempt: Errors = []
            out = spec(value, (*loc, name), attempt)
            if out is not BAD:
                return out
            collected.extend(attempt)
        errors.extend(collected)
        return BAD

    return check


def _strings(*names: str) -> list[Field]:
    return [(name, optional(string), None) for name in names]


def _enum_tags(enum: str, pairs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"<{enum}.{member}: '{value}'>" for member, value in pairs)


_ARTIFACT_TAGS = (("NEGOTIATION_CARD", "card"), ("EVIDENCE", "evidence"), ("TEST_SUITE", "suite"),
                  ("TEST_RESULTS", "results"), ("REPORT", "report"))
_EVIDENCE_TAGS = (("INTEGER", "integer"), ("REAL", "real"), ("OPAQUE", "opaque"), ("IMAGE", "image"),
                  ("ARRAY", "array"), ("STRING", "string"))
_SHOWN = {value: f"<ArtifactType.{member}: '{value}'>" for member, value in _ARTIFACT_TAGS}


def _kind(value: str) -> Field:
    return ("artifact_type", literal(value, _SHOWN[value]), value)


# ---- negotiation card (mlte.negotiation.model)
_RESOURCES = model(*_strings("cpu", "gpu", "gpu_memory", "main_memory", "storage"))
_IO = model(*_strings("name", "description", "type", "expected_values"))
_METRIC = model(*_strings("description", "baseline"))
_GOAL = model(("description", optional(string), None), ("metrics", list_of(_METRIC), []))
_LABEL = model(*_strings("name", "description"), ("percentage", optional(number), None))
_FIELD = model(*_strings("name", "description", "type", "expected_values", "missing_values", "special_values"))
_DATA = model(*_strings("description", "purpose", "source"), ("classification", string, ""),
              *_strings("access", "labeling_method"), ("labels", list_of(_LABEL), []),
              ("fields", list_of(_FIELD), []), *_strings("rights", "policies"))
_SYSTEM = model(("goals", list_of(_GOAL), []), ("problem_type", string, ""), *_strings("task", "usage_context"),
                ("risks", list_of(string), []))
_MODEL_DESCRIPTOR = model(("development_compute_resources", _RESOURCES, EMPTY),
                          *_strings("deployment_platform", "capability_deployment_mechanism", "model_source"),
                          ("input_specification", list_of(_IO), []), ("output_specification", list_of(_IO), []),
                          ("production_compute_resources", _RESOURCES, EMPTY))
_QAS = model(("identifier", optional(string), None), ("quality", string, ""),
             *_strings("stimulus", "source", "environment", "response", "measure"))
CARD = model(_kind("card"), ("system", _SYSTEM, EMPTY), ("data", list_of(_DATA), []),
             ("model", _MODEL_DESCRIPTOR, EMPTY), ("system_requirements", list_of(_QAS), []))

# ---- evidence (mlte.evidence.model)
_MEASUREMENT = model(("measurement_class", string, REQUIRED), ("output_class", string, REQUIRED),
                     ("additional_data", dict_of(string), {}))
_EVIDENCE_METADATA = model(("test_case_id", string, REQUIRED), ("measurement", _MEASUREMENT, REQUIRED))


def _value(tag: str, *fields: Field) -> Spec:
    return model(("evidence_type", anything, tag), *fields)


_VALUE = tagged("evidence_type", {
    "integer": _value("integer", ("integer", integer, REQUIRED), ("unit", optional(string), None)),
    "real": _value("real", ("real", number, REQUIRED), ("unit", optional(string), None)),
    "opaque": _value("opaque", ("data", dict_of(anything), REQUIRED)),
    "image": _value("image", ("data", string, REQUIRED)),
    "array": _value("array", ("data", list_of(anything), REQUIRED)),
    "string": _value("string", ("string", string, REQUIRED)),
}, _enum_tags("EvidenceType", _EVIDENCE_TAGS))
EVIDENCE = model(_kind("evidence"), ("metadata", _EVIDENCE_METADATA, REQUIRED), ("evidence_class", string, REQUIRED),
                 ("value", _VALUE, REQUIRED))

# ---- suite, results, report
_VALIDATOR = model(("bool_exp", optional(string), REQUIRED), ("bool_exp_str", optional(string), REQUIRED),
                   ("thresholds", list_of(string), REQUIRED), ("success", optional(string), REQUIRED),
                   ("failure", optional(string), REQUIRED), ("default_success", string, REQUIRED),
                   ("default_failure", string, REQUIRED), ("info", optional(string), REQUIRED),
                   ("input_types", list_of(string), []), *_strings("creator_entity", "creator_function"),
                   ("creator_args", list_of(anything), []))
_TEST_CASE = model(("identifier", string, REQUIRED), ("goal", string, REQUIRED), ("qas_list", list_of(string), []),
                   ("measurement", optional(_MEASUREMENT), None), ("validator", optional(_VALIDATOR), None),
                   ("note", optional(string), None))
SUITE = model(_kind("suite"), ("test_cases", list_of(_TEST_CASE), []))
_RESULT = model(("type", string, REQUIRED), ("message", string, REQUIRED), ("additional_data", string, REQUIRED),
                ("evidence_metadata", optional(_EVIDENCE_METADATA), REQUIRED))
RESULTS = model(_kind("results"), ("test_suite_id", string, ""), ("test_suite", SUITE, REQUIRED),
                ("results", dict_of(_RESULT), {}))
REPORT = model(_kind("report"), ("negotiation_card_id", string, REQUIRED), ("negotiation_card", CARD, REQUIRED),
               ("test_suite_id", string, REQUIRED), ("test_suite", SUITE, REQUIRED),
               ("test_results_id", string, REQUIRED), ("test_results", RESULTS, REQUIRED),
               ("comments", list_of(model(("content", string, REQUIRED))), []))

_HEADER = model(("identifier", string, REQUIRED),
                ("type", choice(ARTIFACT_TYPES, "'card', 'evidence', 'suite', 'results' or 'report'"), REQUIRED),
                ("timestamp", optional(integer), -1), ("creator", optional(string), None),
                ("level", choice(("model", "version"), "'model' or 'version'"), "version"))
_BODY = tagged("artifact_type", {"card": CARD, "evidence": EVIDENCE, "suite": SUITE, "results": RESULTS,
                                 "report": REPORT}, _enum_tags("ArtifactType", _ARTIFACT_TAGS))
ARTIFACT = model(("header", _HEADER, REQUIRED), ("body", _BODY, REQUIRED))
WRITE_REQUEST = model(("artifact", ARTIFACT, REQUIRED), ("force", boolean, False), ("parents", boolean, False))
VERSION = model(("identifier", string, REQUIRED))
MODEL = model(("identifier", string, REQUIRED), ("versions", list_of(VERSION), []))

# ---- search queries (mlte.store.query)
_FILTER_MEMBERS: list[tuple[str, Spec]] = []
_FILTER = union(_FILTER_MEMBERS)


def _filter_type(value: str) -> Field:
    return ("type", literal(value, f"<FilterType.{value.upper()}: '{value}'>"), value)


_FILTER_MEMBERS.extend([
    ("AllFilter", model(_filter_type("all"))),
    ("NoneFilter", model(_filter_type("none"))),
    ("IdentifierFilter", model(_filter_type("identifier"), ("id", string, REQUIRED))),
    ("TypeFilter", model(_filter_type("type"), ("item_type", string, REQUIRED))),
    ("TagFilter", model(_filter_type("tag"), ("name", string, REQUIRED), ("tag", string, REQUIRED))),
    ("PropertyFilter", model(_filter_type("property"), ("name", string, REQUIRED), ("property", anything, REQUIRED))),
    ("AndFilter", model(("filters", list_of(_FILTER), REQUIRED), _filter_type("and"))),
    ("OrFilter", model(("filters", list_of(_FILTER), REQUIRED), _filter_type("or"))),
])
QUERY = model(("filter", _FILTER, {"type": "all"}))
