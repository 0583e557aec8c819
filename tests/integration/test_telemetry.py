"""Logs carry no token, email or full IP; metrics carry exactly the shared dimensions."""

from __future__ import annotations

import io
import json

import pytest

from session_service import constants as c
from session_service.observability import logger

from .conftest import App, Keys


def emf_lines(output: str) -> list[dict]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    assert lines
    return lines


def test_authorizer_logs_no_token_email_or_full_ip(app: App, keys: Keys, capsys) -> None:
    token = keys.token(email="speaker@example.com")
    params = {"action": "createSession", "sourceLanguage": "en", "token": token}
    logs = io.StringIO()
    previous = logger.registered_handler.setStream(logs)  # type: ignore[union-attr]
    logger.setLevel("DEBUG")
    try:
        app.authorize(params, ip="198.51.100.77")
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            app.authorize({**params, "token": token[:-4] + "AAAA"}, ip="198.51.100.77")
    finally:
        logger.setLevel("WARNING")
        logger.registered_handler.setStream(previous)  # type: ignore[union-attr]
    output = logs.getvalue() + capsys.readouterr().out
    assert "connection refused" in output  # the refusal was logged
    assert token[:40] not in output
    assert "speaker@example.com" not in output
    assert "198.51.100.77" not in output
    assert "198.51.100.0/24" in output


def test_every_metric_has_exactly_the_shared_dimensions(app: App, capsys) -> None:
    session_id = app.create()
    app.join("lis-1", session_id)
    app.join("lis-2", "brave-otter-321")
    app.connect("x", {"action": "createSession", "sourceLanguage": "en"}, rateLimited=True)
    names = set()
    for line in emf_lines(capsys.readouterr().out):
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == c.METRICS_NAMESPACE
        assert directive["Dimensions"] == [sorted(c.metric_dimensions("test"))]
        for name, value in c.metric_dimensions("test").items():
            assert line[name] == value
        names |= {m["Name"] for m in directive["Metrics"]}
    assert names == {
        c.METRIC_SESSION_CREATION_LATENCY,
        c.METRIC_ACTIVE_SESSIONS,
        c.METRIC_LISTENER_JOIN_LATENCY,
        c.METRIC_TOTAL_LISTENERS,
        c.METRIC_CONNECTION_ERRORS,
        c.METRIC_RATE_LIMIT_EXCEEDED,
    }
