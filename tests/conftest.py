"""Fixtures shared by more than one test suite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.synthesis import Synthesized, synthesize


@pytest.fixture(scope="session")
def synthesized_envs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Synthesized]:
    """env -> its synthesized stack; each environment is synthesized at most once a session."""
    cache: dict[str, Synthesized] = {}

    def get(env: str) -> Synthesized:
        if env not in cache:
            cache[env] = synthesize(env, tmp_path_factory.mktemp(f"cdk-{env}"))
        return cache[env]

    return get
