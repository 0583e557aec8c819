"""What a check answers: a status, the evidence it read, and for a failure what was expected."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    MANUAL = "manual"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """The answer of one check.

    ``evidence`` is the value the check read (never a secret); ``expected`` says what a pass needs
    (shown on failure); ``note`` explains where the system deliberately differs from the
    checklist's wording (e.g. what AWS does not allow) or, for manual items, what to do.
    """

    status: Status
    evidence: str = ""
    expected: str = ""
    note: str = ""


def passed(evidence: str, note: str = "") -> Outcome:
    return Outcome(Status.PASS, evidence, note=note)


def failed(evidence: str, expected: str, note: str = "") -> Outcome:
    return Outcome(Status.FAIL, evidence, expected, note)


def manual(todo: str, evidence: str = "") -> Outcome:
    """A line only a person can tick: ``todo`` is the exact thing to do."""
    return Outcome(Status.MANUAL, evidence, note=todo)


def skipped(reason: str, evidence: str = "") -> Outcome:
    return Outcome(Status.SKIPPED, evidence, note=reason)


def check(ok: bool, evidence: str, expected: str, note: str = "") -> Outcome:
    """Pass or fail on ``ok``; the evidence is reported either way."""
    return passed(evidence, note) if ok else failed(evidence, expected, note)


@dataclass
class Result:
    """An outcome bound to its checklist item, as the reporters show it."""

    id: str
    section: str
    heading: str
    subheading: str
    text: str
    status: Status
    evidence: str = ""
    expected: str = ""
    note: str = ""
    command: str = ""
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["status"] = self.status.value
        return data


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, results: list[Result]) -> Summary:
        counts = {status.value: 0 for status in Status}
        for result in results:
            counts[result.status.value] += 1
        return cls(counts)

    @property
    def ok(self) -> bool:
        return self.counts.get(Status.FAIL.value, 0) == 0

    def line(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in self.counts.items())

    def sentence(self) -> str:
        """The verdict in words: "passed" is said only when no automatic line failed, and the
        lines that are not automatic passes are named for what they are."""
        count = self.counts.get
        rest = (
            f"{count(Status.MANUAL.value, 0)} left to a person (manual), "
            f"{count(Status.SKIPPED.value, 0)} not applicable here (skipped)"
        )
        passes, fails = count(Status.PASS.value, 0), count(Status.FAIL.value, 0)
        if fails:
            return f"FAILED: {fails} automatic line(s) failed, {passes} passed; {rest}"
        if not passes:
            return f"nothing verified: no automatic line ran; {rest}"
        return f"PASSED: every automatic line passed ({passes}); {rest}"


# A JWT (three base64url segments, header starting with '{"' -> 'eyJ') never reaches a report.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_TOKEN_PARAM = re.compile(r"(token=)[^&\s\"']+")


def redact(text: str) -> str:
    """Remove anything token-like; a second line of defence behind checks that never print one."""
    return _TOKEN_PARAM.sub(r"\1***", _JWT.sub("***", text))


def mask_email(address: str) -> str:
    """``p***@example.com``: enough to recognise the address, not enough to harvest it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
