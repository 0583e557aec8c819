"""The checklist rendered with its sections and ticks, for people and ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

from ci.model import Result, Status, Summary

MARKS = {
    Status.PASS: "[x]",
    Status.FAIL: "[ ]",
    Status.MANUAL: "[ ]",
    Status.SKIPPED: "[ ]",
}
LABELS = {
    Status.PASS: "✅",
    Status.FAIL: "❌ **FAIL**",
    Status.MANUAL: "✋ manual",
    Status.SKIPPED: "⏭️ skipped",
}


def _escape(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")


def _line(result: Result) -> list[str]:
    head = f"- {MARKS[result.status]} {result.text} — {LABELS[result.status]} `{result.id}`"
    lines = [head]
    if result.evidence:
        lines.append(f"  - read: {_escape(result.evidence)}")
    if result.status is Status.FAIL:
        if result.expected:
            lines.append(f"  - expected: {_escape(result.expected)}")
        if result.command:
            lines.append(f"  - see: `{result.command}`")
    if result.note:
        label = {Status.MANUAL: "to do", Status.SKIPPED: "why"}.get(result.status, "note")
        lines.append(f"  - {label}: {_escape(result.note)}")
    return lines


def render(
    results: list[Result],
    env: str,
    title: str = "Deployment checklist",
    error: str | None = None,
    handler_log: str | None = None,
) -> str:
    summary = Summary.of(results)
    verdict = "NOT VERIFIED" if error else ("passed" if summary.ok else "FAILED")
    out = [f"# {title}: `{env}` — {verdict}", "", summary.sentence(), ""]
    if error:
        out += [f"**Not verified:** {_escape(error)}", ""]
    if handler_log:
        out += [f"The handlers' logs of this run: `{handler_log}`", ""]
    heading = subheading = None
    for result in results:
        if result.heading != heading:
            heading, subheading = result.heading, None
            out += ["", f"## {heading}", ""]
        if result.subheading != subheading:
            subheading = result.subheading
            out += ["", f"### {subheading}", ""]
        out += _line(result)
    out.append("")
    return "\n".join(out)
