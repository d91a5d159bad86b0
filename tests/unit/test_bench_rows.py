"""The benchmark's reference rows have the ledger's columns (make bench broke when migration 0018 added one)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_bench_reference_rows_fill_every_disbursement_column():
    sys.path.insert(0, str(BENCH))
    try:
        run = importlib.import_module("run")
    finally:
        sys.path.remove(str(BENCH))
    assert len(run._raw_row(0, "T")) == len(run.RAW_COLUMNS)
