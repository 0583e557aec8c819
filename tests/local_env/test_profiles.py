"""``make local``'s profiles and its banner's word on the limits (no environment started)."""

from __future__ import annotations

import pytest

from infra.config import load_config
from local import profiles
from local.__main__ import limits_note, parser
from session_service import constants as c
from session_service import specs


@pytest.mark.filterwarnings("ignore::infra.config.ConfigWarning")
def test_relaxed_profile_raises_every_per_address_limit_above_the_deployed_one() -> None:
    limits = load_config("local").limits
    relaxed = profiles.overrides("relaxed")
    assert int(relaxed[c.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE]) > (
        limits.connection_attempt_limit_per_minute
    )
    assert int(relaxed[c.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE]) > (
        limits.listener_join_limit_per_minute
    )


def test_profiles_override_only_variables_the_handlers_read() -> None:
    read = {name for spec in specs.FUNCTIONS.values() for name in spec.environment}
    for profile in profiles.PROFILES:
        assert set(profiles.overrides(profile)) <= read


def test_default_profile_is_the_deployed_configuration() -> None:
    assert parser().parse_args([]).profile == profiles.DEFAULT_PROFILE
    assert profiles.overrides(profiles.DEFAULT_PROFILE) == {}
    assert parser().parse_args(["--profile", "relaxed"]).profile == "relaxed"


def test_banner_names_the_limits_and_how_to_relax_them() -> None:
    note = limits_note(profiles.DEFAULT_PROFILE)
    for words in ("20 connection attempts", "10 joins", "Retry-After", "PROFILE=relaxed"):
        assert words in note
