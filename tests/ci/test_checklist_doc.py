"""docs/checklist.md is the catalogue, rendered: up to date, every line in its words, and its facts.

The document is a clone's only copy of the checklist (the original is kept outside the
repository), so it must say what ``make verify`` checks: a stale file fails here, saying how to
regenerate it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from ci import checklist_doc
from ci.checklist import BY_ID, CATALOGUE, Mode
from ci.checks import api, functions, pre_deployment, production
from session_service import specs


def test_the_committed_document_is_what_the_catalogue_renders() -> None:
    committed = checklist_doc.DOC.read_text(encoding="utf-8") if checklist_doc.DOC.is_file() else ""
    assert committed == checklist_doc.render(), (
        f"{checklist_doc.DOC.relative_to(checklist_doc.REPO_ROOT)} is out of date with "
        f"ci/checklist.py: run `{checklist_doc.REGENERATE}` and commit the result"
    )


def test_every_line_appears_once_in_the_checklists_words_with_its_id_and_who_ticks_it() -> None:
    text = checklist_doc.render()
    for item in CATALOGUE:
        line = f"- <q>{item.text}</q> · `{item.id}` · {item.mode.value}"
        assert text.count(line) == 1, line


def test_lines_are_grouped_under_the_checklists_headings_in_its_order() -> None:
    text = checklist_doc.render()
    headings = [m.group(0) for m in re.finditer(r"^#{2,3} .*$", text, re.M)]
    expected: list[str] = []
    for item in CATALOGUE:
        if f"## {item.heading}" not in expected:
            expected.append(f"## {item.heading}")
        if not expected[-1].startswith("### ") or expected[-1] != f"### {item.subheading}":
            expected.append(f"### {item.subheading}")
    assert headings == expected
    ids = [m.group(1) for m in re.finditer(r"^- <q>.*?</q> · `([^`]+)`", text, re.M)]
    assert ids == [item.id for item in CATALOGUE]


def test_where_aws_disagrees_the_document_says_what_the_system_does_instead() -> None:
    text = checklist_doc.render()
    refresh = BY_ID["api.authorizer.refresh"]
    assert "$connect only" in refresh.differs
    assert f"  - instead: {refresh.differs}" in text
    assert "1 day" in BY_ID["functions.log-retention"].differs
    assert text.count("  - instead: ") == sum(bool(i.differs) for i in CATALOGUE)


def test_the_timeout_note_is_on_exactly_the_functions_whose_spec_exceeds_api_gateways_limit() -> (
    None
):
    noted = {h for h in specs.FUNCTIONS if BY_ID[f"functions.{h}.deployed"].differs}
    # API Gateway's 29 s bounds the functions its routes invoke; the janitor's schedule does not
    behind_a_route = {route.function for route in specs.ROUTES.values()}
    assert noted == {
        h for h, s in specs.FUNCTIONS.items() if s.timeout_s >= 30 and h in behind_a_route
    }
    assert noted, "the checklist's 30 s functions"


def test_the_checks_notes_are_the_catalogues_words_not_a_second_copy() -> None:
    assert api.REFRESH_NOTE is BY_ID["api.authorizer.refresh"].differs
    assert api.IDENTITY_SOURCE_NOTE is BY_ID["api.authorizer"].differs
    for module in (api, functions, pre_deployment, production):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        for item in CATALOGUE:
            if item.differs:
                # the first 40 characters of a note, spelled again in a check, is a second copy
                assert item.differs[:40] not in source, (module.__name__, item.id)


def test_a_conditional_line_says_when_it_falls_to_a_person() -> None:
    text = checklist_doc.render()
    tests = BY_ID["pre.tests"]
    assert tests.mode is Mode.CONDITIONAL
    assert "`--junit`" in text.split(f"`{tests.id}`", 1)[1].split("\n", 1)[0]


def test_a_line_beyond_the_checklist_is_marked_as_an_extra() -> None:
    extra = replace(CATALOGUE[0], id="pre.extra", text="Something the checklist lacks", extra=True)
    text = checklist_doc.render((*CATALOGUE[:1], extra))
    assert "`pre.extra` · automatic · **extra: not a line of the checklist**" in text
    assert "1 beyond the checklist" in text
    assert "extra: not a line" not in checklist_doc.render(CATALOGUE[:1])


def test_check_mode_refuses_a_stale_file_naming_the_make_target_and_writing_mode_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "checklist.md"
    out.write_text("stale\n", encoding="utf-8")
    assert checklist_doc.main(["--check", "--output", str(out)]) == 1
    assert "run `make checklist-doc`" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8") == "stale\n"
    assert checklist_doc.main(["--output", str(out)]) == 0
    assert checklist_doc.main(["--check", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == checklist_doc.render()
