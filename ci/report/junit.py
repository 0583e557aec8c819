"""JUnit XML: one testsuite per section, one testcase per check (fail -> failure, else skipped)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from ci.model import Result, Status


def render(results: list[Result], env: str) -> str:
    root = ET.Element("testsuites", name=f"deployment-checklist-{env}")
    for section, group in groupby(results, key=lambda r: r.section):
        cases = list(group)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{env}.{section}",
            tests=str(len(cases)),
            failures=str(sum(r.status is Status.FAIL for r in cases)),
            skipped=str(sum(r.status in (Status.MANUAL, Status.SKIPPED) for r in cases)),
            errors="0",
            time=f"{sum(r.duration_s for r in cases):.3f}",
        )
        for result in cases:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"checklist.{section}",
                name=f"{result.id}: {result.text}",
                time=f"{result.duration_s:.3f}",
            )
            if result.status is Status.FAIL:
                failure = ET.SubElement(
                    case, "failure", message=f"expected {result.expected}; read {result.evidence}"
                )
                failure.text = "\n".join(
                    x for x in (f"read: {result.evidence}", f"expected: {result.expected}",
                                f"see: {result.command}", result.note) if x
                )  # fmt: skip
            elif result.status in (Status.MANUAL, Status.SKIPPED):
                ET.SubElement(case, "skipped", message=f"{result.status.value}: {result.note}")
            elif result.evidence:
                ET.SubElement(case, "system-out").text = result.evidence
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
