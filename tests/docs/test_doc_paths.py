"""Every repository path a document names exists: README.md, docs/*.md and every other tracked *.md.

What counts as a named path, outside fenced code blocks (their commands and listings are examples)
and quotations (``<q>…</q>``: another document's words, such as the original checklist's lines in
docs/checklist.md, which name paths of a layout this repository does not have):

- a relative Markdown link ``[text](target)``: the target, without its ``#anchor``, resolved from
  the document's folder as GitHub resolves it (``/x`` from the repository's root). A link leads
  to a file or folder in the repository, or it is broken: no exception for generated paths.
- a backticked span without spaces that looks like a path: it starts with ``./`` or ``../``, or
  its first part is a top-level entry of the repository (``src/…``, ``Makefile``), or it ends
  with ``/`` (``core/``), or it is a file name with a stem and a known extension (``cdk.json``).
  Spans with ``:``, ``$``, ``=`` or ``@`` are URLs, ARNs, variables, settings or pinned actions;
  ``/x`` and ``~/x`` are outside the repository by construction; none of these is checked.

A named path exists when it is in the repository (tracked, or new and not ignored) relative to the
repository's root or to the document's folder, or, for a backticked path, as the tail of one (a
table row about ``src/session_service/`` may say ``handlers/``). A path that leaves the repository
(``../shared/…`` from the root) does not exist: a clone has nothing there.

Not checked, because a run produces them: paths git ignores (``.venv/``, ``node_modules/``,
``cdk.out/…``, ``reports/…``, ``.local/…``, by ``.gitignore``'s own rules) and, under
``bench/results/``, a run's output folder (committed for some runs, written by others): there
only ``bench/results/`` itself must exist. Placeholders: ``{a,b}`` is each of its alternatives;
from the first other placeholder (``<env>``, ``{env}``, ``*``, ``…``) on, a path is a pattern, and
the folder before it must exist.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

RUN_OUTPUT_FOLDERS = ("bench/results/",)
EXTENSIONS = ("md", "py", "json", "yml", "yaml", "toml", "lock", "sh", "txt", "png", "cfg", "ini")
_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1", re.M | re.S)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FILE_NAME = re.compile(r"(^|/)[^/]*[^/.][^/]*\.(" + "|".join(EXTENSIONS) + ")$")
_ALTERNATIVES = re.compile(r"\{([^{}]*,[^{}]*)\}")
_PLACEHOLDER = re.compile(r"<[^>]*>|\{[^}]*\}|\*|…|\.\.\.(?!/)")
_NOT_A_PATH = re.compile(r"[\s:$=@]")
_QUOTATION = re.compile(r"<q>.*?</q>", re.S)


@dataclass(frozen=True)
class Named:
    doc: str  # the document, relative to the repository's root
    line: int
    path: str  # as written
    link: bool

    def __str__(self) -> str:
        kind = "links to" if self.link else "names"
        return f"{self.doc}:{self.line} {kind} {self.path}"


def _git(*args: str) -> list[str]:
    done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return [line for line in done.stdout.split("\n") if line]


def repository_paths() -> set[str]:
    """Every file in the repository (tracked, or new and not ignored) and every folder above one."""
    paths: set[str] = set()
    for name in _git("ls-files", "--cached", "--others", "--exclude-standard"):
        if not (REPO_ROOT / name).exists():
            continue  # deleted in the working tree
        parts = PurePosixPath(name).parts
        paths.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return paths


def documents() -> list[str]:
    return sorted(
        name
        for name in _git("ls-files", "--cached", "--others", "--exclude-standard", "*.md")
        if (REPO_ROOT / name).exists()
    )


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _blank_fences(text: str) -> str:
    """The text with fenced code blocks and quotations blanked out (line numbers kept)."""
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))  # noqa: E731
    return _QUOTATION.sub(blank, _FENCE.sub(blank, text))


def _looks_like_path(span: str, top_level: set[str]) -> bool:
    if _NOT_A_PATH.search(span) or span.startswith(("/", "~")):
        return False
    return (
        span.startswith(("./", "../"))
        or span.split("/", 1)[0] in top_level
        or span.endswith("/")
        or bool(_FILE_NAME.search(span))
    )


def named_paths(doc: str, text: str, top_level: set[str]) -> list[Named]:
    """The repository paths ``text`` (the document ``doc``) names, by the module's rules."""
    text = _blank_fences(text)
    found: list[Named] = []
    for match in _CODE_SPAN.finditer(text):
        span = match.group(1).strip()
        if _looks_like_path(span, top_level):
            found.append(Named(doc, _line_of(text, match.start()), span, link=False))
    without_code = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)
    for match in _LINK.finditer(without_code):
        target = match.group(1)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (https:, mailto:) or an anchor of this page
        target = target.split("#", 1)[0].split("?", 1)[0]
        found.append(Named(doc, _line_of(text, match.start()), target, link=True))
    return found


def _expand(path: str) -> list[str]:
    match = _ALTERNATIVES.search(path)
    if not match:
        return [path]
    head, tail = path[: match.start()], path[match.end() :]
    return [e for alt in match.group(1).split(",") for e in _expand(head + alt.strip() + tail)]


def _normalize(path: str) -> str | None:
    """``path`` relative to the repository's root, or None when it leaves the repository."""
    parts: list[str] = []
    for part in PurePosixPath(path).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in (".", "/"):
            parts.append(part)
    return "/".join(parts)


def _ignored(paths: list[str]) -> set[str]:
    if not paths:
        return set()
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=REPO_ROOT,
        input="\n".join(paths) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: none ignored
    return set(done.stdout.split("\n")) - {""}


class Repository:
    def __init__(self, paths: set[str]) -> None:
        self.paths = paths
        self.top_level = {p for p in paths if "/" not in p}
        # Every tail of every path, part-wise: "session_service/constants.py", "constants.py".
        self.tails: set[str] = set()
        for path in paths:
            parts = path.split("/")
            self.tails.update("/".join(parts[i:]) for i in range(len(parts)))

    def _exists(self, path: str, doc: str, link: bool) -> bool:
        pattern = _PLACEHOLDER.search(path)
        if pattern:  # a pattern: the folder before the placeholder must exist
            prefix = path[: pattern.start()]
            path = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
            if not path:
                return True
        folder = str(PurePosixPath(doc).parent)
        from_doc = _normalize(path if folder == "." else f"{folder}/{path}")
        if path.startswith("/"):  # a link from the repository's root, as GitHub reads it
            candidates = [_normalize(path)]
        elif link:  # GitHub resolves a link from the document's folder only
            candidates = [from_doc]
        else:
            candidates = [_normalize(path), from_doc]
        if any(c is not None and c.rstrip("/") in self.paths for c in candidates):
            return True
        relative = path.startswith(("./", "../", "/"))
        return not link and not relative and path.rstrip("/") in self.tails

    def missing(self, named: list[Named]) -> list[Named]:
        """The named paths (as ``Named``, once each) that the repository does not have."""
        expanded = [
            (n, _normalize(p) if p.startswith("./") else p) for n in named for p in _expand(n.path)
        ]
        ignored = _ignored([p for n, p in expanded if not n.link and p and not p.startswith("..")])
        wrong: list[Named] = []
        for n, path in expanded:
            if path is not None and not n.link:
                if path in ignored:
                    continue
                path = next((f for f in RUN_OUTPUT_FOLDERS if path.startswith(f)), path)
            if path is None or not self._exists(path, n.doc, n.link):
                wrong.append(n)
        return list(dict.fromkeys(wrong))


@pytest.fixture(scope="module")
def repository() -> Repository:
    return Repository(repository_paths())


def test_every_path_a_document_names_exists_in_the_repository(repository):
    docs = documents()
    assert "README.md" in docs, docs
    assert "docs/architecture.md" in docs, docs
    named = [
        n
        for doc in docs
        for n in named_paths(
            doc, (REPO_ROOT / doc).read_text(encoding="utf-8"), repository.top_level
        )
    ]
    assert len(named) > 50, "the rules found almost no paths: they no longer read the documents"
    missing = repository.missing(named)
    assert not missing, "documents name paths that are not in the repository:\n" + "\n".join(
        f"  {n}" for n in missing
    )


# --- the rules themselves, on small documents ------------------------------------------------

FAKE = Repository(
    {
        "README.md",
        "Makefile",
        "docs",
        "docs/protocol.md",
        "src",
        "src/session_service",
        "src/session_service/handlers",
        "src/session_service/handlers/connect.py",
        "src/session_service/constants.py",
        "infra",
        "infra/config",
        "infra/config/dev.json",
        "infra/config/prod.json",
        "bench",
        "bench/results",
        "local",
        "local/README.md",
        "local/gateway.py",
    }
)


def _missing(doc: str, text: str) -> list[str]:
    return [n.path for n in FAKE.missing(named_paths(doc, text, FAKE.top_level))]


def test_a_backticked_file_or_folder_that_is_not_there_is_reported_with_its_document_and_line():
    text = "Intro.\n\nThe checklist (`DEPLOYMENT_CHECKLIST.md`) and the rules (`core/`).\n"
    named = named_paths("README.md", text, FAKE.top_level)
    missing = FAKE.missing(named)
    assert [str(n) for n in missing] == [
        "README.md:3 names DEPLOYMENT_CHECKLIST.md",
        "README.md:3 names core/",
    ]


def test_paths_from_the_root_from_the_documents_folder_or_as_a_tail_of_one_exist():
    text = (
        "`src/session_service/` holds `handlers/` and `constants.py`; "
        "`session_service/constants.py`; `Makefile`; `gateway.py`; [protocol](../docs/protocol.md)"
    )
    assert _missing("local/README.md", text) == []


def test_a_broken_relative_link_is_reported_and_urls_and_anchors_are_not_links():
    text = "[a](docs/nope.md) [b](https://example.com/x.md) [c](#layout) [d](docs/protocol.md#x)"
    assert _missing("README.md", text) == ["docs/nope.md"]


def test_a_path_that_leaves_the_repository_is_missing_and_absolute_or_home_paths_are_not_checked():
    text = "`../shared/DEPLOYMENT_CHECKLIST.md` `/etc/hosts` `~/.aws/credentials` [x](../../y.md)"
    assert _missing("docs/protocol.md", text) == ["../shared/DEPLOYMENT_CHECKLIST.md", "../../y.md"]


def test_generated_paths_patterns_and_code_blocks_are_not_checked_but_their_folder_is():
    text = (
        "`.venv/bin/python` `cdk.out/<env>/` `reports/rehearsal.md` `node_modules/.bin/cdk` "
        "`bench/results/staging/` `infra/config/{env}.json` `infra/config/{dev,prod}.json` "
        "`infra/nowhere/{env}.json`\n"
        "```\nmake -C core/ docs/missing.md\n```\n"
    )
    assert _missing("README.md", text) == ["infra/nowhere/{env}.json"]


def test_commands_urls_arns_refs_and_module_names_are_not_paths():
    text = (
        "`python -m ci.verify --env dev` `wss://x/{stage}` `arn:aws:iam::1:role/r` "
        "`actions/checkout@v4` `$GITHUB_STEP_SUMMARY` `REPO=OWNER/NAME` `origin/main` "
        "`handlers/_runtime.message_body` `faithful-shepherd-427` `.json`"
    )
    assert _missing("README.md", text) == []


def test_a_quotation_of_another_documents_words_is_not_checked_but_the_text_around_it_is():
    text = (
        "- <q>Configuration file created (`infrastructure/config/dev.json`)</q> · "
        "`infra/config/dev.json` `infra/config/nope.json`\n"
    )
    assert _missing("docs/checklist.md", text) == ["infra/config/nope.json"]


def test_alternatives_are_each_checked():
    assert _missing("README.md", "`infra/config/{dev,staging}.json`") == [
        "infra/config/{dev,staging}.json"
    ]
