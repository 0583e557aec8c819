"""Tests of the local environment's own parts (``local/``), e.g. the gateway with stand-ins."""

from __future__ import annotations

import sys
from pathlib import Path

# ``local`` is a top-level package at the repository root (run as ``python -m local``).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
