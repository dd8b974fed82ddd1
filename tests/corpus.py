"""Locate the recorded OpenML corpus in ../shared beside the project root."""

from __future__ import annotations

import os
from pathlib import Path

CORPUS = Path(
    os.environ.get("GATEWAY_OPENML_CORPUS_DIR") or Path(__file__).resolve().parents[2] / "shared" / "openml-corpus"
)


def corpus_files(pattern: str = "**/*.xml") -> list[Path]:
    """Every corpus file matching ``pattern``, sorted; fails loudly when the corpus is missing."""
    files = sorted(CORPUS.glob(pattern))
    assert files, f"the OpenML corpus is missing at {CORPUS} (CI checks out ../shared beside the project)"
    return files


def read(relative: str) -> bytes:
    return (CORPUS / relative).read_bytes()
