"""``make rehearse``: the real workflows through act against the local AWS, scenario by scenario.

python -m rehearsal                       every scenario
python -m rehearsal push-main red-commit  these (and what they need), in order
python -m rehearsal --list
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rehearsal.report import markdown, terminal
from rehearsal.scenarios import SCENARIOS, play, select
from rehearsal.stage import HOME, Stage


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rehearsal", description=__doc__.splitlines()[0]
    )
    parser.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--ci", action="store_true", help="the scenarios that fit CI's budget")
    parser.add_argument("--workdir", type=Path, default=HOME / ".build" / "rehearsal")
    parser.add_argument("--report", type=Path, default=HOME / "reports" / "rehearsal.md")
    args = parser.parse_args(argv)
    if args.list:
        for s in SCENARIOS:
            print(f"{s.name:<15} {s.title}" + ("  (CI)" if s.in_ci else ""))
        return 0
    names = list(args.scenarios) or ([s.name for s in SCENARIOS if s.in_ci] if args.ci else [])
    try:
        chosen = select(names)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    outcomes = []
    with Stage(args.workdir) as stage:
        for scenario in chosen:
            print(f"... {scenario.name}: {scenario.title}", flush=True)
            outcomes.append(play(stage, scenario))
    seconds = time.monotonic() - started
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(markdown(outcomes, seconds))
    print(terminal(outcomes, seconds, args.report))
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
