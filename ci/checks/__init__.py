"""Check registry: one function per checklist id, or one runner for a whole section (smoke).

Section modules register themselves on import; :func:`load_all` imports them so the registry is
complete, and a test proves every catalogue id has exactly one check.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ci.checklist import Item
    from ci.deployment import Deployment
    from ci.model import Outcome

CheckFn = Callable[["Deployment"], "Outcome"]
SectionRunner = Callable[["Deployment", "tuple[Item, ...]"], Iterator[tuple[str, "Outcome"]]]

REGISTRY: dict[str, CheckFn] = {}
SECTION_RUNNERS: dict[str, SectionRunner] = {}

_MODULES = (
    "pre_deployment",
    "tables",
    "functions",
    "api",
    "monitoring",
    "post_deployment",
    "smoke",
    "production",
    "manual",
)


def check(check_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check of ``check_id`` (each id once)."""

    def register(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} registered twice")
        REGISTRY[check_id] = fn
        return fn

    return register


def section_runner(section: str) -> Callable[[SectionRunner], SectionRunner]:
    def register(fn: SectionRunner) -> SectionRunner:
        SECTION_RUNNERS[section] = fn
        return fn

    return register


def load_all() -> None:
    for name in _MODULES:
        importlib.import_module(f"ci.checks.{name}")
