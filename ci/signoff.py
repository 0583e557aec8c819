"""The sign-off record: who deployed what, when, who approved it, and what verification found.

Written as ``signoff-{env}.json`` and ``.md`` beside the reports, so the pipeline keeps it as an
artifact; it holds names the pipeline passes in (actor, approver), never a secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ci.deployment import Deployment
from ci.model import Result, Status, Summary


def record(dep: Deployment, results: list[Result]) -> dict[str, Any]:
    summary = Summary.of(results)
    options = dep.options
    return {
        "environment": dep.env,
        "stack": dep.stack_name,
        "region": dep.region,
        "version": options.version,
        "commit": options.commit,
        "deployed_by": options.deployed_by,
        "approved_by": options.approved_by,
        "verified_at": dep.scratch.get("started_at"),
        "sections": sorted({r.section for r in results}),
        "result": "passed" if summary.ok else "failed",
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
        "stack_status": (dep.stack or {}).get("StackStatus"),
    }


def markdown(data: dict[str, Any]) -> str:
    rows = [
        ("Environment", data["environment"]),
        ("Stack", f"{data['stack']} ({data['region']}, {data['stack_status']})"),
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
    if data["failed"]:
        out += ["", "## Failed checks", ""]
        out += [f"- `{f['id']}` {f['text']}: {f['read']}" for f in data["failed"]]
    if data["manual"]:
        out += ["", "## Left to a person", ""]
        out += [f"- `{m['id']}` {m['text']}: {m['to_do']}" for m in data["manual"]]
    out += ["", "## Notes", "", "[Add deployment notes here]", ""]
    return "\n".join(out)


def write(dep: Deployment, results: list[Result], directory: Path) -> list[Path]:
    data = record(dep, results)
    directory.mkdir(parents=True, exist_ok=True)
    as_json = directory / f"signoff-{dep.env}.json"
    as_md = directory / f"signoff-{dep.env}.md"
    as_json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    as_md.write_text(markdown(data), encoding="utf-8")
    return [as_json, as_md]
