"""Typed, normalized, immutable records: the contract between adapters and the schema.

One module per source (``openml``, ``mlte``, ``vantage6``, ``pytupli``); the OpenML records are re-exported
here because OpenML v1 and v2 share them. Every record is a frozen, slotted, keyword-only dataclass;
multi-valued fields are tuples, times are ``datetime``, empty is None, unknown fields go to ``raw_extra``.
"""

from adapters.records.openml import *  # noqa: F403 - the OpenML records are the package's default namespace
from adapters.records.openml import __all__ as _openml_all

__all__ = list(_openml_all)
