"""What a ``ci`` command tells the GitHub Actions job it runs in; nothing outside a workflow.

One place for the workflow commands the commands share: an error annotation (the run's summary
shows the line without opening the log) and step outputs (``$GITHUB_OUTPUT``, which a later job
decides on).
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def in_workflow() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def annotate_error(line: str) -> None:
    """``line`` as an error annotation of the step, in a workflow."""
    if in_workflow():
        print(f"::error::{line}")


def set_outputs(outputs: Mapping[str, str]) -> None:
    """Append ``name=value`` step outputs to ``$GITHUB_OUTPUT``, when the step has one."""
    output_file = os.environ.get("GITHUB_OUTPUT")
    if not output_file:
        return
    with open(output_file, "a", encoding="utf-8") as handle:
        handle.writelines(f"{name}={value}\n" for name, value in outputs.items())
