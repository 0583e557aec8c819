"""``make profile``: processes by role, py-spy's collapsed stacks by own time, CPU per role."""

from __future__ import annotations

import sys

import psutil

from bench import processes, profile


def test_each_process_of_the_local_system_has_its_role() -> None:
    python = "/repo/.venv/bin/python"
    assert processes.role([python, "-m", "local.moto_server", "--port", "1"]) == "moto server"
    worker = [python, "-m", "local.worker", "session_service.handlers.heartbeat.handler"]
    assert processes.role(worker) == "heartbeat function"
    generator = [python, "-m", "bench", "--endpoint", "ws://127.0.0.1:1/prod"]
    assert processes.role(generator) == "load generator"
    assert processes.role([python, "-m", "bench"]) == processes.GATEWAY


def test_own_time_is_the_last_frame_of_each_stack_summed_per_role(tmp_path) -> None:
    moto = tmp_path / "1.txt"
    moto.write_text(
        "run (threading.py:982);handle (/x/lib/python3.11/site-packages/werkzeug/serving.py:1) 6\n"
        "run (threading.py:982);lookup (/x/lib/python3.11/site-packages/moto/backends.py:9) 3\n"
        "run (threading.py:982);handle (/x/lib/python3.11/site-packages/werkzeug/serving.py:1) 1\n"
    )
    worker = tmp_path / "2.txt"
    worker.write_text("serve (local/worker.py:96) 4\n")
    sampled = [
        profile.Sampled(1, "moto server", cpu_s=5.0, stacks=moto),
        profile.Sampled(2, "heartbeat function", cpu_s=1.0, stacks=worker),
        profile.Sampled(3, "heartbeat function", cpu_s=0.5, stacks=tmp_path / "gone.txt"),
    ]
    roles = profile.aggregate(sampled)
    assert [(r.role, r.processes, r.cpu_s, r.samples) for r in roles] == [
        ("moto server", 1, 5.0, 10),
        ("heartbeat function", 2, 1.5, 4),
    ]
    assert roles[0].own.most_common() == [
        ("handle (werkzeug/serving.py:1)", 7),
        ("lookup (moto/backends.py:9)", 3),
    ]
    report = profile.markdown(roles, "50x40", 60, top=5)
    assert "| moto server | 1 | 5.0 | 77% |" in report
    assert "| 70.0% | `handle (werkzeug/serving.py:1)` |" in report


def test_the_tree_and_its_memory_are_read_from_the_running_processes() -> None:
    me = psutil.Process()
    weighed = {p["pid"]: p for p in processes.memory(me)}
    assert "python" in sys.executable
    assert me.pid in weighed
    assert weighed[me.pid]["rssMiB"] > 10
