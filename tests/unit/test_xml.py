"""The one XML entry point refuses DTDs, entities, HTML and oversized bodies, and repairs PHP's HTML entities."""

from __future__ import annotations

import pytest

from adapters._xml import parse_xml, sniff
from gateway.errors import BackendError

NS = b'xmlns:oml="http://openml.org/openml"'


def _parse(body: bytes, **kwargs: object) -> dict:
    return parse_xml(body, backend="openml", force_list=("oml:tag",), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b"<oml:x/>", "xml"), (b"\n\n<oml:x/>", "xml"), (b'{"error": {}}', "json"), (b"", "empty"),
     (b"<!DOCTYPE html><html></html>", "html"), (b"<html><body>504</body></html>", "html"),
     (b'<div style="border:1px solid #990000">PHP warning</div><oml:x/>', "html"), (b"plain text", "text")],
)
def test_xml_sniff_whatever_the_headers_say(body: bytes, kind: str) -> None:
    assert sniff(body) == kind


def test_xml_billion_laughs_refused() -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<oml:data " + NS + b">&b;</oml:data>")
    with pytest.raises(BackendError, match="DTD"):
        _parse(body)


def test_xml_external_entity_refused() -> None:
    body = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><oml:data ' + NS + b">&e;</oml:data>"
    with pytest.raises(BackendError) as info:
        _parse(body)
    assert "passwd" not in info.value.message


def test_xml_byte_cap_checked_before_parsing() -> None:
    with pytest.raises(BackendError, match="larger than"):
        _parse(b"<oml:data " + NS + b">" + b"x" * 2000 + b"</oml:data>", max_bytes=1000)


def test_xml_html_named_entities_and_bare_ampersands_repaired() -> None:
    body = b"<oml:flow " + NS + b"><oml:name>caf&eacute; &amp; cr&egrave;me</oml:name><oml:d>R&D</oml:d></oml:flow>"
    doc = _parse(body)
    assert doc["oml:flow"]["oml:name"] == "caf\u00e9 & cr\u00e8me"
    assert doc["oml:flow"]["oml:d"] == "R&D"


def test_xml_truncated_and_two_roots_are_backend_errors() -> None:
    with pytest.raises(BackendError, match="malformed"):
        _parse(b"<oml:data " + NS + b"><oml:tag>a</oml:tag>")
    with pytest.raises(BackendError, match="malformed"):
        _parse(b"<oml:a " + NS + b"/><oml:b " + NS + b"/>")


def test_xml_force_list_and_significant_whitespace() -> None:
    doc = _parse(b"<oml:data " + NS + b"><oml:tag>  padded </oml:tag></oml:data>")
    assert doc["oml:data"]["oml:tag"] == ["  padded "]


def test_xml_rows_fast_path_matches_the_tree_parser() -> None:
    from adapters._xml import parse_rows

    body = (b"<oml:runs " + NS + b">\n <oml:run>\n  <oml:run_id>1</oml:run_id><oml:tag>a</oml:tag><oml:tag>b</oml:tag>"
            b'<oml:quality name="N">5.0</oml:quality><oml:nested><oml:x>skip</oml:x></oml:nested>'
            b"<oml:note>  R&amp;D </oml:note>\n </oml:run>\n</oml:runs>")
    (row,) = parse_rows(body, backend="openml", root="oml:runs", row="oml:run")
    assert row["oml:run_id"] == "1" and row["oml:note"] == "  R&D "
    assert row["oml:tag*"] == [({}, "a"), ({}, "b")] and row["oml:quality*"] == [({"name": "N"}, "5.0")]
    with pytest.raises(LookupError):
        parse_rows(b"<oml:error " + NS + b"><oml:code>512</oml:code></oml:error>", backend="openml",
                   root="oml:runs", row="oml:run")
    with pytest.raises(BackendError, match="DTD"):
        parse_rows(b'<!DOCTYPE x [<!ENTITY e "e">]><oml:runs ' + NS + b"/>", backend="openml", root="oml:runs",
                   row="oml:run")
