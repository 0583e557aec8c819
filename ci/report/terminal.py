"""The terminal view: each line as its check finishes, then the failures and a summary."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from ci.checklist import CATALOGUE
from ci.model import Result, Status, Summary

STYLE = {
    Status.PASS: ("✔ pass  ", "green"),
    Status.FAIL: ("✘ FAIL  ", "bold red"),
    Status.MANUAL: ("✋ manual", "yellow"),
    Status.SKIPPED: ("⏭ skip  ", "dim"),
}
_TITLES: dict[str, str] = {}
for _item in CATALOGUE:
    _TITLES.setdefault(_item.section, _item.heading)
    if _item.heading == "Post-Deployment" or _item.heading == "Deployment":
        _TITLES[_item.section] = f"{_item.heading} > {_item.subheading}"


class TerminalReporter:
    """Prints progress as checks run; ``finish`` prints what failed and the totals."""

    def __init__(
        self,
        console: Console | None = None,
        verbose: bool = False,
        errors: Console | None = None,
    ) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.errors = errors or Console(stderr=True, highlight=False, soft_wrap=True)
        self.verbose = verbose
        self._subheading: str | None = None

    def section(self, section: str, count: int) -> None:
        self.console.rule(f"[bold]{escape(_TITLES.get(section, section))}[/] ({section}, {count})")
        self._subheading = None

    def result(self, result: Result) -> None:
        label, style = STYLE[result.status]
        if result.subheading != self._subheading and _TITLES[result.section] == result.heading:
            self.console.print(f"[bold]{escape(result.subheading)}[/]")
        self._subheading = result.subheading
        line = f"[{style}]{label}[/] {escape(result.text)} [dim]{result.id}[/]"
        self.console.print(line)
        detail = result.evidence
        if result.status in (Status.MANUAL, Status.SKIPPED):
            detail = result.note or detail
        if detail and (self.verbose or result.status is not Status.PASS):
            self.console.print(f"           [dim]{escape(detail)}[/]")

    def not_verified(self, problem: str, written: list[str]) -> None:
        """One line for the cause that stopped the run before any check, then the reports."""
        self.errors.print(f"[bold red]error:[/] {escape(problem)}")
        self.console.print("[dim]nothing verified; the reports say so on every line:[/]")
        for path in written:
            self.console.print(f"[dim]wrote {escape(path)}[/]")

    def finish(
        self, results: list[Result], env: str, written: list[str], handler_log: str | None = None
    ) -> None:
        failed = [r for r in results if r.status is Status.FAIL]
        if failed:
            self.console.rule("[bold red]Failed[/]")
        for r in failed:
            self.console.print(f"[bold red]✘[/] {escape(r.text)} [dim]{r.id}[/]")
            for label, value in (
                ("read", r.evidence),
                ("expected", r.expected),
                ("see", r.command),
            ):
                if value:
                    self.console.print(f"    [bold]{label}:[/] {escape(value)}")
        summary = Summary.of(results)
        style = "bold green" if summary.ok else "bold red"
        self.console.print(f"[{style}]{env}: verification {escape(summary.sentence())}[/]")
        if handler_log:
            self.console.print(f"[dim]the handlers' logs of this run: {escape(handler_log)}[/]")
        for path in written:
            self.console.print(f"[dim]wrote {escape(path)}[/]")
