"""Every line of DEPLOYMENT_CHECKLIST.md maps to exactly one check id, and every id has a check."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.checklist import BY_ID, CATALOGUE, SECTIONS, checklist_path, items_of, parse_checklist
from ci.checks import REGISTRY, SECTION_RUNNERS, load_all

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = checklist_path(REPO_ROOT)


@pytest.mark.skipif(not CHECKLIST.is_file(), reason=f"{CHECKLIST} not present")
def test_catalogue_holds_every_checklist_line_in_order_and_in_its_words() -> None:
    lines = parse_checklist(CHECKLIST.read_text(encoding="utf-8"))
    catalogue = [(item.heading, item.subheading, item.text) for item in CATALOGUE]
    assert catalogue == lines


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
