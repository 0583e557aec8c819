"""Report writers and target evaluation, on hand-made results."""

from __future__ import annotations

import json

from bench import report
from bench.targets import Targets, evaluate, load_targets


def _ops(create_p95=150.0, join_p95=90.0, heartbeat_p95=20.0, errors=None):
    def op(p95, count=10, errs=None):
        errs = errs or {}
        return {
            "count": count,
            "ok": count - sum(errs.values()),
            "errors": errs,
            "p50_ms": p95 / 2,
            "p95_ms": p95,
            "p99_ms": p95,
            "max_ms": p95 * 1.5,
        }

    return {
        "create": op(create_p95),
        "join": op(join_p95, errs=errors),
        "heartbeat": op(heartbeat_p95),
        "sessionEnded": op(40.0),
    }


def _results(levels):
    return {
        "title": "test",
        "command": "python -m bench --levels 1x2",
        "createdAt": "2000-01-01T00:00:00Z",
        "machine": {
            "cpuModel": "CPU",
            "cores": 2,
            "memoryGiB": 1.0,
            "os": "OS",
            "python": "3.11",
            "packages": {},
        },
        "target": {"kind": "local"},
        "notes": ["a note"],
        "levels": levels,
        "requests": {
            "level": "1x2",
            "phases": {
                "join": {
                    "operations": 2,
                    "handlers": {
                        "connection": {
                            "dynamodbRequests": 6,
                            "dynamodbPerOperation": 3.0,
                            "dynamodbCallsPerOperation": {"UpdateItem": 2.0, "PutItem": 1.0},
                        },
                        "authorizer": {
                            "dynamodbRequests": 2,
                            "dynamodbPerOperation": 1.0,
                            "dynamodbCallsPerOperation": {"UpdateItem": 1.0},
                        },
                    },
                    "managementApi": {"requests": 4, "perOperation": 2.0},
                }
            },
        },
        "coldStart": {
            "repetitions": 3,
            "boto3": {"median_ms": 100.0, "min_ms": 90.0, "max_ms": 110.0},
            "handlers": {
                "heartbeat": {
                    "module": "m",
                    "median_ms": 150.0,
                    "min_ms": 140.0,
                    "max_ms": 160.0,
                    "ratio_to_boto3": 1.5,
                },
                "refresh": {"module": "r", "error": "boom"},
            },
        },
    }


def _level(label, connections, ops):
    return {
        "level": label,
        "connections": connections,
        "connectionsPerSecond": 12.5,
        "elapsedSeconds": 3.0,
        "deadlineHit": False,
        "operations": ops,
    }


def test_json_markdown_and_plot_are_written(tmp_path):
    results = _results([_level("1x2", 3, _ops()), _level("2x4", 10, _ops(200.0))])
    report.write_json(results, tmp_path / "r.json")
    report.write_markdown(results, tmp_path / "r.md")
    plot = report.write_plot(results, tmp_path / "r.png")
    assert json.loads((tmp_path / "r.json").read_text())["levels"][1]["level"] == "2x4"
    markdown = (tmp_path / "r.md").read_text()
    assert "| 2x4 | 10 | 12.5 | 200 |" in markdown
    assert (
        "| join | 2 | 4 (connection 3; authorizer 1) | "
        "connection: UpdateItem 2, PutItem 1; authorizer: UpdateItem 1 | 2 |"
    ) in markdown
    assert "| `m` | 150 | 140 | 160 | 1.50 |" in markdown
    assert "failed: boom" in markdown
    assert plot is not None
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _targets(**kw):
    values = {
        "env": "staging",
        "p95_ms": {"create": 2000.0, "join": 1000.0, "heartbeat": 100.0},
        "allowed_errors": {"rateLimitProbe": ("RATE_LIMIT_EXCEEDED",)},
    }
    values.update(kw)
    return Targets(**values)


def test_evaluation_passes_when_every_target_is_met():
    evaluation = evaluate(_targets(), _ops())
    assert evaluation["passed"], evaluation["checks"]


def test_evaluation_fails_on_a_slow_heartbeat():
    evaluation = evaluate(_targets(), _ops(heartbeat_p95=150.0))
    failed = [c["name"] for c in evaluation["checks"] if not c["passed"]]
    assert failed == ["heartbeat p95"]


def test_rate_limits_are_allowed_only_where_provoked():
    ops = _ops(errors={"RATE_LIMIT_EXCEEDED": 1})
    evaluation = evaluate(_targets(), ops)
    failed = [c for c in evaluation["checks"] if not c["passed"]]
    assert [c["measured"] for c in failed] == ["join:RATE_LIMIT_EXCEEDED 1"]
    ops["join"]["errors"] = {}
    ops["rateLimitProbe"] = {
        "count": 9,
        "ok": 8,
        "errors": {"RATE_LIMIT_EXCEEDED": 1},
        "p95_ms": 1.0,
    }
    assert evaluate(_targets(), ops)["passed"]


def test_a_probe_that_is_never_refused_fails_the_sign_off():
    ops = _ops()
    ops["rateLimitProbe"] = {"count": 12, "ok": 12, "errors": {}, "p95_ms": 1.0}
    evaluation = evaluate(_targets(), ops)
    assert not evaluation["passed"]
    assert "markdown" not in evaluation
    lines = report.evaluation_lines(evaluation)
    assert lines[0].startswith("**FAILED**")


def test_staging_create_target_comes_from_the_environment_config():
    targets = load_targets("staging")
    assert targets.p95_ms == {"create": 2000.0, "join": 1000.0, "heartbeat": 100.0}
    assert "infra/config/staging.json" in targets.sources["create p95"]


def test_moto_recording_is_counted_by_handler_and_operation():
    from bench.counting import parse_recording

    def line(target, agent):
        headers = {"User-Agent": agent}
        if target:
            headers["X-Amz-Target"] = target
        return json.dumps({"headers": headers, "method": "POST", "url": "http://x/"})

    text = "\n".join(
        [
            line("DynamoDB_20120810.UpdateItem", "Boto3/1 md/x app/heartbeat Botocore/1"),
            line("DynamoDB_20120810.Query", "Boto3/1 Botocore/1"),
            line("", "curl"),
        ]
    )
    assert parse_recording(text) == [
        ("heartbeat", "dynamodb", "UpdateItem"),
        ("unattributed", "dynamodb", "Query"),
        ("unattributed", "other", "POST http://x/"),
    ]
