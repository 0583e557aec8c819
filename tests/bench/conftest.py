"""Tests of the load generator and its reports (``bench/``)."""

from __future__ import annotations

import sys
from pathlib import Path

# ``bench`` is a top-level package at the repository root (run as ``python -m bench``).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
