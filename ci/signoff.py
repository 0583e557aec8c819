"""The sign-off record: who deployed what, when, who approved it, and what verification found.

Written as ``signoff-{env}.json`` and ``.md`` beside the reports, so the pipeline keeps it as an
artifact; it holds names the pipeline passes in (actor, approver), never a secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ci.checks.manual import SIGNOFF_ENV
from ci.deployment import Deployment
from ci.model import Result, Status, Summary


def _stack_status(dep: Deployment) -> str | None:
    """The stack's status, or what stopped reading it: the record is written either way."""
    try:
        return (dep.stack or {}).get("StackStatus")
    except (BotoCoreError, ClientError) as err:
        return f"unknown ({type(err).__name__})"


def record(dep: Deployment, results: list[Result], error: str | None = None) -> dict[str, Any]:
    summary = Summary.of(results)
    options = dep.options
    return {
        "environment": dep.env,
        "signs_off": SIGNOFF_ENV.get(dep.env),
        "stack": dep.stack_name,
        "region": dep.region,
        "version": options.version,
        "commit": options.commit,
        "deployed_by": options.deployed_by,
        "approved_by": options.approved_by,
        "verified_at": dep.scratch.get("started_at"),
        "sections": sorted({r.section for r in results}),
        "result": "passed" if summary.ok else "failed",
        "error": error,
        "summary": summary.counts,
        "failed": [
            {"id": r.id, "text": r.text, "read": r.evidence}
            for r in results
            if r.status is Status.FAIL
        ],
        "manual": [
            {"id": r.id, "text": r.text, "to_do": r.note}
            for r in results
            if r.status is Status.MANUAL
        ],
        "stack_status": None if error else _stack_status(dep),
    }


def markdown(data: dict[str, Any]) -> str:
    rows = [
        ("Environment", data["environment"]),
        (
            "Signs off",
            data["signs_off"]
            or f"nothing: a {data['environment']} run signs off " "no environment",
        ),
        ("Stack", f"{data['stack']} ({data['region']}, {data['stack_status'] or 'not read'})"),
        ("Version", data["version"] or "—"),
        ("Commit", data["commit"] or "—"),
        ("Deployed by", data["deployed_by"] or "— (not given)"),
        ("Approved by", data["approved_by"] or "— (not given)"),
        ("Date", data["verified_at"]),
        (
            "Verification",
            f"{data['result']}: " + ", ".join(f"{n} {k}" for k, n in data["summary"].items()),
        ),
    ]
    out = [f"# Sign-off: {data['environment']}", "", "| | |", "| --- | --- |"]
    out += [f"| {k} | {v} |" for k, v in rows]
    if data["error"]:
        out += ["", "## Not verified", "", data["error"]]
    if data["failed"]:
        out += ["", "## Failed checks", ""]
        out += [f"- `{f['id']}` {f['text']}: {f['read']}" for f in data["failed"]]
    if data["manual"]:
        out += ["", "## Left to a person", ""]
        out += [f"- `{m['id']}` {m['text']}: {m['to_do']}" for m in data["manual"]]
    out += ["", "## Notes", "", "[Add deployment notes here]", ""]
    return "\n".join(out)


def write(
    dep: Deployment, results: list[Result], directory: Path, error: str | None = None
) -> list[Path]:
    data = record(dep, results, error)
    directory.mkdir(parents=True, exist_ok=True)
    as_json = directory / f"signoff-{dep.env}.json"
    as_md = directory / f"signoff-{dep.env}.md"
    as_json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    as_md.write_text(markdown(data), encoding="utf-8")
    return [as_json, as_md]
