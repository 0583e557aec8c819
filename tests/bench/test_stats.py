from __future__ import annotations

import pytest

from bench.stats import OpStats, Recorder, merge, percentile


def test_percentile_is_nearest_rank_of_observed_values():
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 95) == 7.0


def test_percentile_of_nothing_is_none_and_out_of_range_is_refused():
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], 101)


def test_op_stats_counts_successes_and_errors_by_code():
    stats = OpStats("join")
    for latency in (0.010, 0.020, 0.030):
        stats.ok(latency)
    stats.error("RATE_LIMIT_EXCEEDED")
    stats.error("RATE_LIMIT_EXCEEDED")
    stats.error("TIMEOUT")
    summary = stats.summary()
    assert summary["count"] == 6
    assert summary["ok"] == 3
    assert summary["errors"] == {"RATE_LIMIT_EXCEEDED": 2, "TIMEOUT": 1}
    assert summary["p50_ms"] == 20.0
    assert summary["max_ms"] == 30.0


def test_connections_per_second_spans_first_start_to_last_end():
    recorder = Recorder()
    recorder.connection_opened(10.0, 10.5)
    recorder.connection_opened(10.2, 12.0)
    assert recorder.connections_per_second() == 1.0
    assert Recorder().connections_per_second() is None


def test_summary_leaves_out_operations_without_attempts():
    recorder = Recorder()
    recorder.op("create").ok(0.1)
    assert set(recorder.summary()) == {"create"}


def test_merge_keeps_every_sample_and_error():
    first, second = Recorder(), Recorder()
    first.op("join").ok(0.1)
    second.op("join").ok(0.3)
    second.op("join").error("SESSION_FULL")
    merged = merge([first, second]).summary()["join"]
    assert merged["count"] == 3
    assert merged["errors"] == {"SESSION_FULL": 1}
    assert merged["max_ms"] == 300.0
