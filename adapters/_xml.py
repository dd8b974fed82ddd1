"""The one place XML from a backend is parsed: size cap, no DTD, no entities, explicit force-lists.

Hardening (OpenML v1 is the only XML backend, and it never sends a DTD):
- a byte cap is checked before parsing;
- any ``<!DOCTYPE`` or ``<!ENTITY`` is refused outright (billion laughs, external entities);
- HTML pages (a proxy's 414/5xx page, PHP warnings) are recognised and refused;
- xmltodict runs with ``disable_entities=True`` and ``strip_whitespace=False`` so significant spaces in
  values survive (nominal values like ``" - 50000."``, see corpus data_features_whitespace_nominals.xml);
- text that PHP's ``htmlentities`` filled with HTML named entities (``&eacute;``) or bare ``&`` is repaired
  once and parsed again, since XML defines neither (openml-api.md §2.1.6).
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Collection
from typing import Any
from xml.parsers import expat
from xml.parsers.expat import ExpatError

import xmltodict

from gateway.errors import BackendError

__all__ = ["DEFAULT_MAX_BYTES", "looks_like_html", "parse_rows", "parse_xml", "sniff"]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_AMP = re.compile(rb"&(#[0-9]{1,7};|#x[0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};)?")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html|<head|<body|<div|<br|<b>|<h1|<p>)", re.I | re.S)


def sniff(body: bytes) -> str:
    """Return ``"xml"``, ``"json"``, ``"html"`` or ``"empty"`` from the first bytes, whatever the headers say."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return "empty"
    if _HTML_START.match(head):
        return "html"
    if head[:1] in (b"{", b"["):
        return "json"
    if head[:1] == b"<":
        return "xml"
    return "text"


def looks_like_html(body: bytes) -> bool:
    """Return True when the body is an HTML page rather than a backend document."""
    return sniff(body) == "html"


def _repair(body: bytes) -> bytes:
    """Replace HTML named entities by their characters and escape bare ampersands."""

    def fix(match: re.Match[bytes]) -> bytes:
        ref = match.group(1)
        if ref is None:
            return b"&amp;"
        if ref.startswith(b"#"):
            return match.group(0)
        name = ref[:-1].decode("ascii")
        if name in _XML_ENTITIES:
            return match.group(0)
        char = html.entities.html5.get(name + ";")
        if char is None:
            return b"&amp;" + ref
        return char.encode("utf-8").replace(b"&", b"&amp;").replace(b"<", b"&lt;")

    return _AMP.sub(fix, body)


def parse_xml(
    body: bytes,
    *,
    backend: str,
    force_list: Collection[str],
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[str, Any]:
    """Parse a backend's XML body into xmltodict's dict form.

    Returns the document dict (one key: the root element name, prefix included).
    Raises BackendError for an oversized body, a DTD or entity declaration, an HTML page, an empty
    body, or XML that is malformed even after the one repair pass.
    """
    _check(body, backend, max_bytes)
    names = frozenset(force_list)
    try:
        return _parse(body, names)
    except ExpatError as exc:
        if b"&" not in body:
            raise BackendError(f"The {backend} backend returned malformed XML ({exc}).", backend=backend) from exc
        first = exc
    try:
        return _parse(_repair(body), names)
    except (ExpatError, ValueError) as exc:
        raise BackendError(f"The {backend} backend returned malformed XML ({first}).", backend=backend) from exc


def _parse(body: bytes, force_list: frozenset[str]) -> dict[str, Any]:
    try:
        doc = xmltodict.parse(body, strip_whitespace=False, force_list=force_list, disable_entities=True)
    except ValueError as exc:  # xmltodict refuses entity declarations with ValueError
        raise ExpatError(str(exc)) from exc
    if not isinstance(doc, dict) or len(doc) != 1:
        raise ExpatError("expected exactly one root element")
    return doc


class _ErrorRoot(Exception):  # control flow: the document is an error envelope
    """The document's root is not the list root (an ``oml:error`` body, or another document)."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.root = root


def parse_rows(
    body: bytes,
    *,
    backend: str,
    root: str,
    row: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[dict[str, Any]]:
    """Parse a flat list document (``<root><row><field>text</field>...</row>...</root>``) straight into dicts.

    The fast path for big list responses (10,000-row run and evaluation lists): one pass of expat, no
    intermediate tree. Each row maps a child element name to its text (kept verbatim, whitespace included);
    a child with attributes or one that repeats is also collected under ``name + "*"`` as ``(attrs, text)``
    pairs. Deeper nesting is skipped. The same hardening as ``parse_xml`` applies (byte cap, no DTD or
    entities, HTML refused, one repair pass for PHP's HTML entities).

    Returns the rows; raises BackendError for a malformed body, and ``LookupError(root name)`` when the
    document is not a ``root`` document (the caller then reads it as an error envelope).
    """
    _check(body, backend, max_bytes)
    try:
        return _rows(body, root, row)
    except _ErrorRoot as exc:
        raise LookupError(exc.root) from None
    except ExpatError as exc:
        if b"&" not in body:
            raise BackendError(f"The {backend} backend returned malformed XML ({exc}).", backend=backend) from exc
        first = exc
    try:
        return _rows(_repair(body), root, row)
    except _ErrorRoot as exc:
        raise LookupError(exc.root) from None
    except ExpatError as exc:
        raise BackendError(f"The {backend} backend returned malformed XML ({first}).", backend=backend) from exc


def _check(body: bytes, backend: str, max_bytes: int) -> None:
    if len(body) > max_bytes:
        raise BackendError(f"The {backend} response is larger than {max_bytes} bytes.", backend=backend)
    kind = sniff(body)
    if kind != "xml":
        what = {"empty": "an empty body", "html": "an HTML page instead of XML"}.get(kind, "a body that is not XML")
        raise BackendError(f"The {backend} backend returned {what}.", backend=backend)
    if _DTD.search(body) is not None:
        raise BackendError(f"The {backend} response declares a DTD or entities, which are refused.", backend=backend)


def _rows(body: bytes, root: str, row: str) -> list[dict[str, Any]]:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    rows: list[dict[str, Any]] = []
    depth = 0
    current: dict[str, Any] | None = None
    parts: list[str] = []
    attributes: dict[str, str] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, current, attributes
        depth += 1
        if depth == 3:
            if current is not None:
                parts.clear()
                attributes = attrs
        elif depth == 2:
            current = {} if name == row else None
        elif depth == 1 and name != root:
            raise _ErrorRoot(name)

    def end(name: str) -> None:
        nonlocal depth, current
        if depth == 3 and current is not None:
            text = "".join(parts) if parts else ""
            if attributes or name in current:
                bucket = current.get(name + "*")
                if bucket is None:
                    bucket = current[name + "*"] = []
                    if name in current and not attributes:
                        bucket.append(({}, current[name]))
                bucket.append((attributes, text))
            if name not in current:
                current[name] = text
        elif depth == 2 and current is not None:
            rows.append(current)
            current = None
        depth -= 1

    def chars(data: str) -> None:
        if depth == 3 and current is not None:
            parts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(body, True)
    return rows
