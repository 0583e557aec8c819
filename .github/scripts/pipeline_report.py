"""Markdown for the pipelines' job summaries, and the sign-off record of a deployment.

Standard library only, so a job runs it with the runner's ``python3`` before (or without)
``make install``. Called through the Makefile (``make test-summary``, ``make synth-summary``,
``make sign-off``)::

    pipeline_report.py junit reports/junit          # JUnit XML -> markdown table, failures listed
    pipeline_report.py synth cdk.out                # assemblies -> stacks and resource counts
    pipeline_report.py sign-off --env prod --reports reports

``sign-off`` reads the run from the environment: ``NEEDS_JSON`` (``toJSON(needs)`` of the
sign-off job), ``RELEASE``, ``COMMIT``, ``REASON``, ``RUN_URL``, ``DEPLOYED_BY``, ``APPROVED_BY``.
It writes ``sign-off-ENV.md`` and ``sign-off-ENV.json`` under the reports folder, prints the
markdown, and exits 1 when a job of the deployment failed or was cancelled.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

# The checklist's sign-off lines, each with the jobs of deploy-environment.yml that prove it.
SIGN_OFF_ITEMS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "common": [
        ("Deployment completed successfully", ("deploy",)),
        ("All verification steps passed", ("pre-deployment", "verify")),
        ("Testing completed", ("deploy", "verify")),  # the smoke test runs in the deploy job
    ],
    "staging": [
        ("Load testing completed", ("loadtest",)),
        ("Performance targets met", ("loadtest",)),
    ],
    "prod": [
        ("Production configuration applied", ("verify-production",)),
        ("PITR enabled", ("verify-production",)),
        ("Monitoring confirmed", ("verify",)),
    ],
}
FAILED = {"failure", "cancelled"}
_ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")


def redact(text: str) -> str:
    """Mask anything that looks like an AWS account id."""
    return _ACCOUNT_ID.sub("************", text)


def junit_markdown(directory: Path) -> str:
    files = sorted(directory.glob("*.xml")) if directory.is_dir() else []
    if not files:
        return f"No JUnit reports under `{directory}`.\n"
    lines = [
        "| report | tests | failed | errors | skipped | seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    failures: list[str] = []
    for path in files:
        root = ElementTree.parse(path).getroot()  # noqa: S314 - our own pytest output
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        totals: Counter[str] = Counter()
        seconds = 0.0
        for suite in suites:
            for key in ("tests", "failures", "errors", "skipped"):
                totals[key] += int(suite.get(key, 0))
            seconds += float(suite.get("time", 0))
            for case in suite.iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    failures.append(f"{case.get('classname', '')}::{case.get('name', '')}")
        lines.append(
            f"| {path.name} | {totals['tests']} | {totals['failures']} | {totals['errors']} "
            f"| {totals['skipped']} | {seconds:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    if failures:
        shown = "\n".join(f"- `{name}`" for name in failures[:50])
        more = f"\n- … and {len(failures) - 50} more" if len(failures) > 50 else ""
        text += f"\n**Failed:**\n{shown}{more}\n"
    return text


def synth_markdown(directory: Path) -> str:
    templates = sorted(directory.glob("*/*.template.json"))
    if not templates:
        return f"No templates under `{directory}`.\n"
    lines = ["| assembly | stack | resources | by type |", "| --- | --- | ---: | --- |"]
    for path in templates:
        resources = json.loads(path.read_text(encoding="utf-8")).get("Resources", {})
        kinds = Counter(str(r.get("Type", "?")).removeprefix("AWS::") for r in resources.values())
        by_type = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        stack = path.name.removesuffix(".template.json")
        lines.append(f"| {path.parent.name} | {stack} | {len(resources)} | {by_type} |")
    return "\n".join(lines) + "\n"


def _result(needs: dict[str, dict[str, object]], jobs: tuple[str, ...]) -> str:
    results = [str(needs.get(job, {}).get("result", "missing")) for job in jobs]
    if any(r in FAILED or r == "missing" for r in results):
        return "failed"
    if all(r == "success" for r in results):
        return "passed"
    return "not run"


def sign_off(env: str, reports: Path, environ: dict[str, str]) -> tuple[str, dict, bool]:
    """The sign-off record (markdown, JSON) and whether the deployment passed."""
    needs: dict[str, dict[str, object]] = json.loads(environ.get("NEEDS_JSON") or "{}")
    items = SIGN_OFF_ITEMS["common"] + SIGN_OFF_ITEMS.get(env, [])
    checked = [(label, _result(needs, jobs)) for label, jobs in items]
    failed_jobs = sorted(job for job, value in needs.items() if value.get("result") in FAILED)
    passed = not failed_jobs and bool(needs)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    record = {
        "environment": env,
        "release": environ.get("RELEASE", ""),
        "commit": environ.get("COMMIT", ""),
        "reason": environ.get("REASON", ""),
        "run": environ.get("RUN_URL", ""),
        "deployedBy": environ.get("DEPLOYED_BY", ""),
        "approvedBy": environ.get("APPROVED_BY", ""),
        "date": now,
        "jobs": {job: value.get("result") for job, value in sorted(needs.items())},
        "items": dict(checked),
        "passed": passed,
        "verificationReports": sorted(
            str(p.relative_to(reports)) for p in reports.rglob("verify-*.md")
        ),
    }
    mark = {"passed": "x", "failed": " ", "not run": " "}
    lines = [
        f"## Sign-off: {env} {'passed' if passed else 'FAILED'}",
        "",
        f"- Release: `{record['release'] or '-'}` (commit `{record['commit'] or '-'}`)",
        f"- Run: {record['run'] or '-'}",
    ]
    if record["reason"]:
        lines.append(f"- Reason (rollback): {record['reason']}")
    lines += ["", "### Checklist sign-off", ""]
    lines += [f"- [{mark[result]}] {label} ({result})" for label, result in checked]
    issues = ", ".join(failed_jobs) if failed_jobs else "none"
    lines += [
        f"- [x] Issues documented: failed jobs: {issues}",
        f"- [x] Deployed by: {record['deployedBy'] or '-'}",
    ]
    if env == "prod":
        lines += [
            f"- [{'x' if record['approvedBy'] else ' '}] Approved by: "
            f"{record['approvedBy'] or '-'}",
            "- [ ] Stakeholders notified (by the release manager)",
        ]
    lines += [f"- [x] Date: {now}", "", "### Jobs", "", "| job | result |", "| --- | --- |"]
    lines += [f"| {job} | {result} |" for job, result in record["jobs"].items()]
    if record["verificationReports"]:
        lines += ["", "Verification reports: " + ", ".join(record["verificationReports"])]
    return redact("\n".join(lines) + "\n"), record, passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("junit").add_argument("directory", type=Path)
    commands.add_parser("synth").add_argument("directory", type=Path)
    sign = commands.add_parser("sign-off")
    sign.add_argument("--env", required=True)
    sign.add_argument("--reports", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)

    if args.command == "junit":
        sys.stdout.write(junit_markdown(args.directory))
        return 0
    if args.command == "synth":
        sys.stdout.write(redact(synth_markdown(args.directory)))
        return 0
    markdown, record, passed = sign_off(args.env, args.reports, dict(os.environ))
    args.reports.mkdir(parents=True, exist_ok=True)
    (args.reports / f"sign-off-{args.env}.md").write_text(markdown, encoding="utf-8")
    (args.reports / f"sign-off-{args.env}.json").write_text(
        redact(json.dumps(record, indent=2)) + "\n", encoding="utf-8"
    )
    sys.stdout.write(markdown)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
