"""`make demo`'s terminal carries the report; the handlers' and gateway's lines go to a file.

``configure_logging`` with a log file is what ``python -m local --demo`` sets up: the local
system's own lines (started, deployed, stopped) and every warning stay on the terminal, the
request-by-request lines of the handlers and the gateway go to the file only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.__main__ import configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:], root.level = handlers, level


def _log_one_of_each() -> None:
    logging.getLogger("lambda.session-connection-handler-local").info('{"message":"joined"}')
    logging.getLogger("local.gateway").info("connected abc= from 127.0.0.1")
    logging.getLogger("local.environment").info("local environment ready in 9.9 s")
    logging.getLogger("lambda.session-disconnect-handler-local").warning("handler timed out")


def test_demo_keeps_traffic_logs_out_of_the_terminal_and_in_the_file(
    restored_logging: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "reports" / "local-handlers.log"
    configure_logging(quiet=False, log_file=log_file)
    _log_one_of_each()
    for handler in logging.getLogger().handlers:
        handler.flush()
    terminal = capsys.readouterr().err
    assert "local environment ready" in terminal
    assert "handler timed out" in terminal  # a warning is never hidden
    assert "joined" not in terminal
    assert "connected abc=" not in terminal
    written = log_file.read_text(encoding="utf-8")
    for line in ("joined", "connected abc=", "local environment ready", "handler timed out"):
        assert line in written


def test_make_local_shows_every_line_on_the_terminal(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(quiet=False)
    _log_one_of_each()
    terminal = capsys.readouterr().err
    for line in ("joined", "connected abc=", "local environment ready", "handler timed out"):
        assert line in terminal
