"""Running the checks of the chosen sections in checklist order, reporting each as it finishes.

A check that raises does not stop the run: the error becomes that line's failure, with the
error as evidence (a missing resource is a failed line, not a crashed verification).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from ci.checklist import CATALOGUE, SECTIONS, Item, items_of
from ci.checks import REGISTRY, SECTION_RUNNERS, load_all
from ci.deployment import Deployment, DeploymentNotFound
from ci.model import Outcome, Result, failed, redact

OnResult = Callable[[Result], None]
OnSection = Callable[[str, int], None]


def _error_outcome(item: Item, err: Exception) -> Outcome:
    if isinstance(err, DeploymentNotFound):
        return failed(str(err), "the deployment's stack and outputs")
    if isinstance(err, ClientError):
        info = err.response.get("Error", {})
        return failed(f"{info.get('Code')}: {info.get('Message')}", item.text)
    if isinstance(err, BotoCoreError):
        return failed(f"{type(err).__name__}: {err}", item.text)
    return failed(f"check error {type(err).__name__}: {err}", item.text)


def _guarded(fn: Callable[[Deployment], Outcome], dep: Deployment, item: Item) -> Outcome:
    try:
        return fn(dep)
    except Exception as err:  # each line reports its own failure; the run goes on
        return _error_outcome(item, err)


def _result(dep: Deployment, item: Item, outcome: Outcome, duration: float) -> Result:
    return Result(
        id=item.id,
        section=item.section,
        heading=item.heading,
        subheading=item.subheading,
        text=f"{item.text} (extra: not a line of the checklist)" if item.extra else item.text,
        status=outcome.status,
        evidence=redact(outcome.evidence),
        expected=redact(outcome.expected),
        note=redact(outcome.note),
        command=dep.render_command(item.command),
        duration_s=round(duration, 3),
    )


def _run_section(dep: Deployment, section: str) -> Iterable[tuple[Item, Outcome, float]]:
    items = items_of(section)
    runner = SECTION_RUNNERS.get(section)
    if runner is None:
        for item in items:
            started = time.monotonic()
            outcome = _guarded(REGISTRY[item.id], dep, item)
            yield item, outcome, time.monotonic() - started
        return
    by_id = {item.id: item for item in items}
    reported: set[str] = set()
    started = time.monotonic()
    try:
        for check_id, outcome in runner(dep, items):
            reported.add(check_id)
            yield by_id[check_id], outcome, time.monotonic() - started
            started = time.monotonic()
    except Exception as err:  # the section stops; its unreported lines fail with the cause
        for item in items:
            if item.id not in reported:
                reported.add(item.id)
                yield item, _error_outcome(item, err), 0.0


def run(
    dep: Deployment,
    sections: Iterable[str] = SECTIONS,
    on_result: OnResult | None = None,
    on_section: OnSection | None = None,
) -> list[Result]:
    """Run ``sections`` (checklist order kept) and return their results in checklist order."""
    load_all()
    chosen = set(sections)
    dep.scratch.setdefault("started_at", datetime.now(UTC).replace(microsecond=0).isoformat())
    results: dict[str, Result] = dep.scratch.setdefault("results", {})
    for section in SECTIONS:
        if section not in chosen:
            continue
        if on_section:
            on_section(section, len(items_of(section)))
        for item, outcome, duration in _run_section(dep, section):
            result = _result(dep, item, outcome, duration)
            results[item.id] = result
            if on_result:
                on_result(result)
    return [results[item.id] for item in CATALOGUE if item.id in results]


def not_verified(dep: Deployment, sections: Iterable[str], cause: str, remedy: str) -> list[Result]:
    """Every line of ``sections`` failed with the one ``cause`` that stopped the run before any
    check (no credentials, no stack): the reports and the sign-off still say what was not done."""
    chosen = set(sections)
    dep.scratch.setdefault("started_at", datetime.now(UTC).replace(microsecond=0).isoformat())
    return [
        _result(dep, item, failed(f"not verified: {cause}", remedy), 0.0)
        for item in CATALOGUE
        if item.section in chosen
    ]
