"""Pure helpers: coercions, global ids, cursors and pages, settings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from adapters._coerce import opt_bool, opt_datetime, opt_float, opt_int, opt_str, split_csv, unescape_html
from gateway.errors import BadUserInputError
from gateway.ids import global_id, parse_global_id, parse_int_id
from gateway.settings import SettingsError, iter_setting_docs, load_settings
from schema.pagination import check_first, decode_cursor, encode_cursor, page_newest_first


def test_coerce_numbers_booleans_dates() -> None:
    assert opt_int("898.0") == 898 and opt_int("") is None and opt_int(None) is None
    with pytest.raises(ValueError):
        opt_int("1.5")
    assert opt_float("0.25") == 0.25 and opt_float("null") is None and opt_float({"#text": "3"}) == 3.0
    assert opt_bool("TRUE") is True and opt_bool("false") is False and opt_bool(None) is None
    assert opt_datetime("2014-04-06T23:23:39") == datetime(2014, 4, 6, 23, 23, 39)
    assert opt_datetime("2014-04-06 23:23:39") == datetime(2014, 4, 6, 23, 23, 39)
    assert opt_datetime("0000-00-00 00:00:00") is None and opt_datetime("") is None
    assert opt_datetime("2026-11-24T02:19:29.028930").microsecond == 28930


def test_coerce_strings_lists_and_entities() -> None:
    assert opt_str("  x ") == "x" and opt_str("  x ", strip=False) == "  x " and opt_str("   ") is None
    assert split_csv(['"Alice","Bob"', "Carol, Dan", None, ""]) == ("Alice", "Bob", "Carol", "Dan")
    assert unescape_html("&ldquo;a&rdquo; &lt;b&gt;") == "\u201ca\u201d <b>" and unescape_html("R&D") == "R&D"


def test_ids_round_trip_and_refusals() -> None:
    assert global_id("openml", "run", 10437) == "openml:run:10437"
    assert parse_int_id("openml:run:10437", kind="run") == 10437
    assert parse_global_id("mlte:artifact:m%2Fx/v1/card.default").native == "m%2Fx/v1/card.default"
    for bad in ["10437", "openml:run:", "nope:run:1", "openml:task:1", "openml:run:-1", "openml:run:1e3"]:
        with pytest.raises(BadUserInputError):
            parse_int_id(bad, kind="run")


def test_pagination_cursors_are_opaque_and_checked() -> None:
    cursor = encode_cursor("openml:run", 42)
    assert "42" not in cursor and decode_cursor(cursor, "openml:run") == "42"
    for bad in ["!!!", encode_cursor("openml:task", 1), "", "a" * 5]:
        with pytest.raises(BadUserInputError):
            decode_cursor(bad, "openml:run")
    with pytest.raises(BadUserInputError):
        check_first(501, 500)
    with pytest.raises(BadUserInputError):
        check_first(-1, 500)


def test_pagination_newest_first_keyset() -> None:
    rows = [5, 1, 9, 3, 7, 9]
    page, has_next, has_prev = page_newest_first(rows, first=2, after=None, prefix="p", key=lambda r: r)
    assert [r for _, r in page] == [9, 7] and has_next and not has_prev
    page2, has_next2, has_prev2 = page_newest_first([*rows, 8], first=2, after=page[-1][0], prefix="p",
                                                    key=lambda r: r)
    assert [r for _, r in page2] == [5, 3] and has_next2 and has_prev2  # stable although 8 was added before


def test_settings_env_wins_over_file(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('max_first = 100\n[openml]\nurl = "http://file/api/v1/xml"\ntimeout = 9\n')
    settings = load_settings({"GATEWAY_OPENML_TIMEOUT": "3.5", "GATEWAY_CACHE_ENABLED": "false"}, config)
    assert settings.openml.url == "http://file/api/v1/xml" and settings.openml.timeout == 3.5
    assert settings.max_first == 100 and settings.cache_enabled is False and settings.mlte.url is None
    assert settings.openml.http_policy().total_timeout == 3.5


def test_settings_errors_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_OPENML_TIMEOUT"):
        load_settings({"GATEWAY_OPENML_TIMEOUT": "soon"})
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings({}, tmp_path / "missing.toml")


def test_settings_every_field_is_documented() -> None:
    docs = list(iter_setting_docs())
    assert ("GATEWAY_OPENML_URL", "None", docs[[d[0] for d in docs].index("GATEWAY_OPENML_URL")][2]) in docs
    assert all(name.startswith("GATEWAY_") and meaning for name, _default, meaning in docs)
