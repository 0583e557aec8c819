"""JSON: every result with its evidence, for machines (the pipeline keeps it as an artifact)."""

from __future__ import annotations

import json
from typing import Any

from ci.model import Result, Summary


def document(results: list[Result], env: str, meta: dict[str, Any]) -> dict[str, Any]:
    summary = Summary.of(results)
    return {
        "environment": env,
        **meta,
        "ok": summary.ok,
        "summary": summary.counts,
        "results": [r.to_dict() for r in results],
    }


def render(results: list[Result], env: str, meta: dict[str, Any]) -> str:
    return json.dumps(document(results, env, meta), indent=2) + "\n"
