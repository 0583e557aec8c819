"""The processes of the local system by role: what ``bench.profile`` samples and ``--soak`` weighs.

Roles are read off command lines: moto's server (``python -m local.moto_server``), a function's
execution environment (``python -m local.worker session_service.handlers.<name>.handler``), a
level's load generator (``python -m bench --endpoint …``); the process that starts them hosts
the gateway (the local environment).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import psutil

_WORKER = re.compile(r"local\.worker session_service\.handlers\.(\w+)\.handler")
GATEWAY = "gateway (local environment)"
LOAD_GENERATOR = "load generator"


def role(cmdline: list[str]) -> str:
    """What a process of the local system is, by its command line."""
    joined = " ".join(cmdline)
    if worker := _WORKER.search(joined):
        return f"{worker.group(1)} function"
    if "local.moto_server" in joined:
        return "moto server"
    if "--endpoint" in joined:
        return LOAD_GENERATOR
    return GATEWAY


def python_tree(root: psutil.Process) -> list[psutil.Process]:
    """``root`` and every Python process under it (py-spy, shells and the CDK CLI are not)."""
    with contextlib.suppress(psutil.Error):
        tree = [root, *root.children(recursive=True)]
        return [p for p in tree if _is_python(p)]
    return []


def _is_python(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error, IndexError):
        return "python" in Path(process.cmdline()[0]).name
    return False


def memory(root: psutil.Process) -> list[dict[str, Any]]:
    """Each Python process under ``root``: pid, role and resident memory (MiB), by role."""
    seen = []
    for process in python_tree(root):
        with contextlib.suppress(psutil.Error):
            rss = process.memory_info().rss
            seen.append(
                {"pid": process.pid, "role": role(process.cmdline()), "rssMiB": rss / 2**20}
            )
    return sorted(seen, key=lambda p: (p["role"], p["pid"]))
