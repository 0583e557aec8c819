"""``python -m ci.gates``: run ``make lint``'s gates and record which ran, on which code.

The checklist line "Code linted successfully (`make lint`)" is ticked only when ``make lint``'s
gates all ran and passed on the code being verified, not when one linter of them did. So
``make lint`` runs each gate through this module, which keeps ``reports/lint.json``: the tree's
fingerprint, each gate with its exit status, and whether the run got to its end. The
verification (``pre.lint``) reads it and compares the fingerprint with the tree it verifies.

    python -m ci.gates begin                    # a new record for the current tree
    python -m ci.gates run ruff -- ruff check .  # run a gate, record its exit status
    python -m ci.gates end                      # every gate ran and passed
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RECORD = REPO_ROOT / "reports" / "lint.json"


def _git(args: list[str], root: Path) -> bytes:
    return subprocess.run(  # noqa: S603 - fixed git arguments
        ["git", *args], cwd=root, capture_output=True, check=True, timeout=60  # noqa: S607
    ).stdout


def fingerprint(root: Path = REPO_ROOT) -> str | None:
    """The code as it is: the commit, uncommitted changes and untracked files, hashed.

    ``None`` outside a git checkout (an exported tarball), where no record can be tied to
    the code.
    """
    try:
        digest = hashlib.sha256(_git(["rev-parse", "HEAD"], root))
        digest.update(_git(["diff", "HEAD", "--binary"], root))
        untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], root)
        for name in sorted(filter(None, untracked.split(b"\0"))):
            digest.update(name + b"\0")
            path = root / name.decode()
            if path.is_file():
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    except (OSError, subprocess.SubprocessError):
        return None
    return digest.hexdigest()


@dataclass
class Record:
    """What one ``make lint`` run did: gates in order, each with its exit status."""

    tree: str | None
    started_at: str
    gates: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = False

    @classmethod
    def read(cls, path: Path) -> Record | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                tree=data["tree"],
                started_at=str(data["started_at"]),
                gates=list(data["gates"]),
                complete=bool(data["complete"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n", encoding="utf-8")

    @property
    def failed(self) -> dict[str, Any] | None:
        return next((g for g in self.gates if g["exit"] != 0), None)

    def names(self) -> str:
        return ", ".join(g["name"] for g in self.gates)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ci.gates", description=__doc__.splitlines()[0])
    p.add_argument("--record", type=Path, default=RECORD, help="the record file")
    p.add_argument("--root", type=Path, default=REPO_ROOT, help="the checkout the gates lint")
    sub = p.add_subparsers(dest="step", required=True)
    sub.add_parser("begin", help="start a new record for the current tree")
    run = sub.add_parser("run", help="run one gate and record its exit status")
    run.add_argument("name")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- then the gate's command")
    sub.add_parser("end", help="mark the record complete (every gate ran and passed)")
    args = p.parse_args(argv)
    if args.step == "begin":
        Record(tree=fingerprint(args.root), started_at=_now()).write(args.record)
        return 0
    record = Record.read(args.record)
    if record is None:
        print(f"error: no lint record at {args.record}; run `make lint`", file=sys.stderr)
        return 2
    if args.step == "end":
        record.complete = record.failed is None
        record.write(args.record)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print(
            "error: no command for the gate: python -m ci.gates run NAME -- COMMAND",
            file=sys.stderr,
        )
        return 2
    try:
        code = subprocess.run(command, check=False).returncode  # noqa: S603 - the Makefile's own
    except OSError as err:
        print(f"error: {args.name}: cannot run {command[0]}: {err.strerror}", file=sys.stderr)
        code = 127
    record.gates.append({"name": args.name, "exit": code, "finished_at": _now()})
    record.write(args.record)
    return code


if __name__ == "__main__":
    sys.exit(main())
