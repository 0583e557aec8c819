"""Report writers: JSON (everything), Markdown (the tables people read), PNG (latency percentiles
against load level).

All three are made from one results dictionary (see :func:`bench.cli` for its shape), so what
the Markdown and the plot say is what the JSON holds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.soak import memory_table
from bench.stats import OPERATIONS, RATE_LIMIT_PROBE

PLOTTED = tuple(operation for operation in OPERATIONS if operation != RATE_LIMIT_PROBE)


def _ms(value: object) -> str:
    if value is None:
        return "-"
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.0f}" if number >= 100 else f"{number:.1f}"


def _errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{code} {n}" for code, n in errors.items()) if errors else "0"


def write_json(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def summary_table(levels: list[dict[str, Any]]) -> list[str]:
    """One row per load level: connections per second and p95 of each operation."""
    head = "| level (sessions x listeners) | connections | conn/s | " + " | ".join(
        f"{op} p95 ms" for op in PLOTTED
    )
    lines = [head + " | errors |", "|" + " --- |" * (len(PLOTTED) + 4)]
    for level in levels:
        ops = level["operations"]
        p95 = " | ".join(_ms(ops.get(op, {}).get("p95_ms")) for op in PLOTTED)
        errors: dict[str, int] = {}
        for stats in ops.values():
            for code, n in stats["errors"].items():
                errors[code] = errors.get(code, 0) + n
        lines.append(
            f"| {level['level']} | {level['connections']} | "
            f"{_ms(level['connectionsPerSecond'])} | {p95} | {_errors(errors)} |"
        )
    return lines


def level_table(level: dict[str, Any]) -> list[str]:
    """Per operation: count, errors by code, p50/p95/p99/max."""
    lines = [
        "| operation | count | errors | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for op in OPERATIONS:
        stats = level["operations"].get(op)
        if not stats:
            continue
        lines.append(
            f"| {op} | {stats['count']} | {_errors(stats['errors'])} | {_ms(stats['p50_ms'])} | "
            f"{_ms(stats['p95_ms'])} | {_ms(stats['p99_ms'])} | {_ms(stats['max_ms'])} |"
        )
    return lines


def _calls(calls: dict[str, Any]) -> str:
    return ", ".join(f"{name} {n:g}" for name, n in calls.items())


def requests_table(requests: dict[str, Any]) -> list[str]:
    """Per phase: requests per operation, DynamoDB by handler, management API by phase."""
    lines = [
        "| operation (phase) | operations | DynamoDB requests / op, by handler | "
        "DynamoDB calls / op | management API requests / op |",
        "| --- | --- | --- | --- | --- |",
    ]
    for phase, entry in requests.items():
        handlers = entry["handlers"]
        by_handler = "; ".join(
            f"{name} {counts['dynamodbPerOperation']:g}"
            for name, counts in handlers.items()
            if counts["dynamodbRequests"]
        )
        calls = "; ".join(
            f"{name}: {_calls(counts['dynamodbCallsPerOperation'])}"
            for name, counts in handlers.items()
            if counts["dynamodbRequests"]
        )
        total = sum(c["dynamodbPerOperation"] or 0 for c in handlers.values())
        management = entry["managementApi"]["perOperation"]
        lines.append(
            f"| {phase} | {entry['operations']} | {total:g} ({by_handler or '-'}) | "
            f"{calls or '-'} | {'-' if management is None else f'{management:g}'} |"
        )
    return lines


def cold_start_table(cold: dict[str, Any]) -> list[str]:
    lines = [
        f"Import of `boto3` alone: median {cold['boto3']['median_ms']:.0f} ms "
        f"({cold['repetitions']} fresh interpreters).",
        "",
        "| handler module | median import ms | min | max | ratio to `import boto3` |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, entry in cold["handlers"].items():
        if "error" in entry:
            lines.append(f"| {name} | failed: {entry['error']} | | | |")
            continue
        lines.append(
            f"| `{entry['module']}` | {entry['median_ms']:.0f} | {entry['min_ms']:.0f} | "
            f"{entry['max_ms']:.0f} | {entry['ratio_to_boto3']:.2f} |"
        )
    return lines


def machine_lines(machine: dict[str, Any]) -> list[str]:
    return [
        f"Machine: {machine['cpuModel']}, {machine['cores']} cores, "
        f"{machine['memoryGiB']} GiB memory, {machine['os']}, Python {machine['python']}."
    ]


def render_markdown(results: dict[str, Any]) -> str:
    out = [f"# Load test: {results['title']}", ""]
    out += [f"Command: `{results['command']}`  ", f"Run at: {results['createdAt']}  "]
    out += [*machine_lines(results["machine"])]
    if results.get("loadAverageAtStart") is not None:
        out += [
            f"Load average (1, 5, 15 min) at start {results['loadAverageAtStart']}, "
            f"at end {results.get('loadAverageAtEnd')}."
        ]
    out += [""]
    if results.get("notes"):
        out += [*(f"- {note}" for note in results["notes"]), ""]
    evaluation = results.get("evaluation")
    if evaluation:
        out += ["## Targets", "", *evaluation_lines(evaluation), ""]
    out += ["## Latency by load level (p95)", "", *summary_table(results["levels"]), ""]
    for level in results["levels"]:
        deadline = " (stopped at its deadline)" if level["deadlineHit"] else ""
        out += [
            f"### {level['level']}: {level['connections']} connections, "
            f"{level['elapsedSeconds']} s{deadline}",
            "",
            *level_table(level),
            "",
        ]
    if results.get("requests"):
        out += [
            f"## Requests per operation (level {results['requests']['level']})",
            "",
            *requests_table(results["requests"]["phases"]),
            "",
        ]
    if results.get("coldStart"):
        out += ["## Cold-start import time", "", *cold_start_table(results["coldStart"]), ""]
    if results.get("soak"):
        out += [*soak_lines(results["soak"]), ""]
    return "\n".join(out)


def soak_lines(soak: dict[str, Any]) -> list[str]:
    """The soak's section: each process's memory when steady state began and ended."""
    head = f"## Soak: level {soak['level']} held {soak['minutes']:g} min"
    if not soak.get("complete"):
        return [head, "", "The heartbeat phase did not both begin and end: no memory to compare."]
    return [
        head,
        "",
        f"Resident memory of each process when the heartbeat phase began and when it ended, "
        f"{soak['heldSeconds']:g} s later.",
        "",
        *memory_table(soak),
    ]


def evaluation_lines(evaluation: dict[str, Any]) -> list[str]:
    verdict = "PASSED" if evaluation["passed"] else "FAILED"
    lines = [
        f"**{verdict}** against the `{evaluation['env']}` targets.",
        "",
        "| check | target | measured | result |",
        "| --- | --- | --- | --- |",
    ]
    for check in evaluation["checks"]:
        mark = "pass" if check["passed"] else "**FAIL**"
        lines.append(f"| {check['name']} | {check['target']} | {check['measured']} | {mark} |")
    return lines


def render_summary(results: dict[str, Any]) -> str:
    """The short form for ``$GITHUB_STEP_SUMMARY``: verdict, checks, p95 by level."""
    out = [f"## Load test: {results['title']}", ""]
    if results.get("evaluation"):
        out += [*evaluation_lines(results["evaluation"]), ""]
    out += [*summary_table(results["levels"]), ""]
    out += [*(f"- {note}" for note in results.get("notes", [])), ""]
    out += [f"Command: `{results['command']}`; {machine_lines(results['machine'])[0]}", ""]
    return "\n".join(out)


def write_markdown(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(results) + "\n", encoding="utf-8")
    return path


def write_plot(results: dict[str, Any], path: Path) -> Path | None:
    """Latency p50/p95/p99 of each operation against the number of connections of the level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = results["levels"]
    if not levels:
        return None
    figure, axes = plt.subplots(2, 3, figsize=(15, 8.5), sharex=True)
    for ax, op in zip(axes.flat, PLOTTED, strict=True):
        xs: list[int] = []
        series: dict[str, list[float]] = {"p50_ms": [], "p95_ms": [], "p99_ms": []}
        for level in levels:
            stats = level["operations"].get(op)
            if not stats or stats.get("p50_ms") is None:
                continue
            xs.append(level["connections"])
            for key, values in series.items():
                values.append(stats[key])
        ax.set_title(op)
        if not xs:
            ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes)
            continue
        for key, values in series.items():
            ax.plot(xs, values, marker="o", label=key.removesuffix("_ms"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xlabel("connections in the level (sessions x (1 + listeners))")
        ax.set_ylabel("latency ms")
        ax.legend(fontsize="small")
    figure.suptitle(f"Latency percentiles against load level: {results['title']}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
