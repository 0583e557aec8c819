"""``python -m ci.verify --env dev``: verify a deployment against the deployment checklist.

Finds the deployment from the outputs of ``SessionManagement-{env}``, runs the checks of the
chosen sections, prints them as they finish, writes Markdown/JSON/JUnit reports and the
sign-off record, and exits non-zero when any check failed. ``main(argv)`` is importable (the
local environment's demo calls it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ci import access, runner, signoff
from ci.checklist import SECTIONS
from ci.deployment import LOCAL_ENV, REPO_ROOT, Deployment, Options
from ci.local_state import STATE_FILE, LocalEnvironmentMissing, read_state
from ci.model import Result, Summary
from ci.report import json_report, junit, markdown
from ci.report.terminal import TerminalReporter
from infra.config import available_environments

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_VERIFIED = 3  # nothing could be read: no credentials, refused ones, no stack


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ci.verify",
        description="Verify a deployment against DEPLOYMENT_CHECKLIST.md, line by line.",
    )
    p.add_argument("--env", required=True, help="environment: dev, staging, prod or local")
    p.add_argument(
        "--section",
        action="append",
        choices=SECTIONS,
        dest="sections",
        help="run only this checklist section (repeatable; default: all)",
    )
    p.add_argument("--endpoint-url", help="AWS endpoint override (moto); --env local reads it")
    p.add_argument(
        "--websocket-url",
        help="WebSocket URL for the smoke tests (default: $SESSION_WEBSOCKET_URL, e.g. a local "
        "gateway or a custom domain in front, else the stack's WebSocketUrl output)",
    )
    p.add_argument("--region", help="region (default: the environment's config)")
    p.add_argument("--report-dir", type=Path, default=REPO_ROOT / "reports")
    p.add_argument("--deployed-by", help="who deployed (the pipeline passes its actor)")
    p.add_argument("--approved-by", help="who approved the deployment (production)")
    p.add_argument("--version", help="the version deployed")
    p.add_argument("--commit", help="the commit deployed")
    p.add_argument(
        "--junit",
        type=Path,
        action="append",
        default=[],
        help="JUnit XML of `make test` (evidence for 'All unit tests passing'; repeatable)",
    )
    p.add_argument("--state-file", type=Path, default=STATE_FILE, help=argparse.SUPPRESS)
    p.add_argument(
        "--handler-log",
        type=Path,
        help="where the handlers of the verified system log (the report names it; `make demo`)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show the evidence of passes too")
    return p


def options_from(args: argparse.Namespace) -> Options:
    endpoint, websocket, region = args.endpoint_url, args.websocket_url, args.region
    if args.env == LOCAL_ENV and not endpoint:
        state = read_state(args.state_file)
        endpoint = state.endpoint_url
        websocket = websocket or state.websocket_url
        region = region or state.region
    return Options(
        env=args.env,
        sections=tuple(args.sections or SECTIONS),
        endpoint_url=endpoint,
        websocket_url=websocket,
        region=region,
        report_dir=args.report_dir,
        deployed_by=args.deployed_by,
        approved_by=args.approved_by,
        version=args.version,
        commit=args.commit or os.environ.get("GITHUB_SHA"),
        junit=tuple(args.junit),
        handler_log=args.handler_log,
    )


def write_reports(dep: Deployment, results: list[Result], error: str | None = None) -> list[Path]:
    directory = dep.options.report_dir
    directory.mkdir(parents=True, exist_ok=True)
    handler_log = str(dep.options.handler_log) if dep.options.handler_log else None
    meta = {
        "stack": dep.stack_name,
        "region": dep.region,
        "endpoint_url": dep.endpoint_url,
        "version": dep.options.version,
        "commit": dep.options.commit,
        "verified_at": dep.scratch.get("started_at"),
        "sections": list(dep.options.sections),
        "error": error,
        "handler_log": handler_log,
    }
    text = markdown.render(results, dep.env, error=error, handler_log=handler_log)
    written = {
        directory / f"verify-{dep.env}.md": text,
        directory / f"verify-{dep.env}.json": json_report.render(results, dep.env, meta),
        directory / f"verify-{dep.env}.junit.xml": junit.render(results, dep.env),
    }
    for path, content in written.items():
        path.write_text(content, encoding="utf-8")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return [*written, *signoff.write(dep, results, directory, error)]


def verify(
    options: Options, reporter: TerminalReporter | None = None, dep: Deployment | None = None
) -> tuple[int, list[Result]]:
    """Run the verification; (exit status, results). Tests call this with an in-process moto."""
    dep = dep or Deployment(options)
    reporter = reporter or TerminalReporter()
    problem = access.probe(dep, options.sections)
    if problem is not None:
        results = runner.not_verified(dep, options.sections, problem.what, problem.how)
        paths = write_reports(dep, results, problem.line())
        reporter.not_verified(problem.line(), [str(p) for p in paths])
        return EXIT_NOT_VERIFIED, results
    reporter.console.print(
        f"[bold]Verifying {dep.stack_name}[/] in {dep.region}"
        + (f" at {dep.endpoint_url}" if dep.endpoint_url else "")
    )
    results = runner.run(dep, options.sections, reporter.result, reporter.section)
    paths = write_reports(dep, results)
    log = str(options.handler_log) if options.handler_log else None
    reporter.finish(results, dep.env, [str(p) for p in paths], log)
    return (0 if Summary.of(results).ok else EXIT_FAILED), results


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    known = available_environments()
    if args.env not in known:
        print(
            f"error: no environment {args.env!r}: expected one of {', '.join(known)} "
            f"(one infra/config/<env>.json each)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        options = options_from(args)
    except LocalEnvironmentMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    reporter = TerminalReporter(verbose=args.verbose)
    status, _ = verify(options, reporter)
    return status


if __name__ == "__main__":
    sys.exit(main())
