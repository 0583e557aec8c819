"""Every line of the checklist maps to exactly one check id, and every id has a check.

The original checklist (DEPLOYMENT_CHECKLIST.md) is the team's, kept outside the repository: the
comparison with it runs where it is found (``$DEPLOYMENT_CHECKLIST``, or ``../shared`` beside the
checkout) and is skipped, saying where it looked, elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.checklist import (
    BY_ID,
    CATALOGUE,
    CHECKLIST_VARIABLE,
    SECTIONS,
    checklist_candidates,
    checklist_path,
    items_of,
    parse_checklist,
)
from ci.checks import REGISTRY, SECTION_RUNNERS, load_all

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = checklist_path(REPO_ROOT)
NOT_FOUND = (
    "the original checklist is not in the repository and was not found at "
    + ", ".join(str(p) for p in checklist_candidates(REPO_ROOT))
    + f"; point {CHECKLIST_VARIABLE}=/path/to/DEPLOYMENT_CHECKLIST.md at a copy to compare"
)


@pytest.mark.skipif(CHECKLIST is None, reason=NOT_FOUND)
def test_catalogue_holds_every_checklist_line_in_order_and_in_its_words() -> None:
    assert CHECKLIST is not None
    lines = parse_checklist(CHECKLIST.read_text(encoding="utf-8"))
    catalogue = [(item.heading, item.subheading, item.text) for item in CATALOGUE if not item.extra]
    assert catalogue == lines


def test_the_checklist_is_looked_for_where_the_variable_points_first_then_beside_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "clone"
    repo.mkdir()
    monkeypatch.delenv(CHECKLIST_VARIABLE, raising=False)
    assert checklist_path(repo) is None
    beside = tmp_path / "shared" / "DEPLOYMENT_CHECKLIST.md"
    beside.parent.mkdir()
    beside.write_text("## A\n", encoding="utf-8")
    assert checklist_path(repo) == beside
    pointed = tmp_path / "copy.md"
    pointed.write_text("## B\n", encoding="utf-8")
    monkeypatch.setenv(CHECKLIST_VARIABLE, str(pointed))
    assert checklist_path(repo) == pointed
    assert checklist_candidates(repo) == [pointed, beside]


def test_each_check_id_is_unique() -> None:
    assert len(BY_ID) == len(CATALOGUE)


def test_every_catalogue_id_has_exactly_one_check() -> None:
    load_all()
    ids = {item.id for item in CATALOGUE}
    by_runner = {item.id for item in CATALOGUE if item.section in SECTION_RUNNERS}
    by_function = set(REGISTRY)
    assert by_function | by_runner == ids
    assert not by_function & by_runner
    assert by_function <= ids


def test_section_names_are_the_ones_the_pipelines_use() -> None:
    assert SECTIONS == (
        "pre-deployment", "tables", "functions", "api", "monitoring", "post-deployment",
        "smoke", "production", "documentation", "rollback", "sign-off",
    )  # fmt: skip
    assert all(items_of(section) for section in SECTIONS)


def test_parser_ignores_code_blocks_and_keeps_headings() -> None:
    text = "## A\n### B\n- [ ] one\n```\n- [ ] not an item\n```\n## C\n- [x] two\n"
    assert parse_checklist(text) == [("A", "B", "one"), ("C", "", "two")]
