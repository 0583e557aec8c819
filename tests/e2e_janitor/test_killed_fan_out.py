"""(c) The `$disconnect` worker killed mid fan-out: the janitor tells the rest (a minute on)."""

from __future__ import annotations

import pytest

from local.environment import LocalEnvironment
from session_service.protocol import EndReason

from .janitor_support import counts, ended_cleanly, ends
from .killed_fan_out import LISTENERS, KilledFanOut

pytestmark = pytest.mark.e2e


def test_every_listener_is_told_once_the_janitor_finishes_a_fan_out_that_died(
    local_env: LocalEnvironment, killed_fan_out: KilledFanOut
) -> None:
    outcome = killed_fan_out.join()
    told = outcome.told_by_disconnect
    assert told is not None
    for index, received in enumerate(outcome.received):
        notices = ends(received)
        assert notices, f"listener {LISTENERS[index]} was never told"
        assert {n["sessionId"] for n in notices} == {outcome.session_id}
        # The end is the speaker's own disconnect, whoever finished telling it.
        assert {n["reason"] for n in notices} == {EndReason.SPEAKER_DISCONNECTED}
        if index != told:
            assert len(notices) == 1, f"listener {LISTENERS[index]}: {notices}"
    # The one the dying $disconnect told still had its item, so the sweep told it again: the
    # service's stated contract ("telling a listener twice is harmless"), not exactly once.
    assert len(ends(outcome.received[told])) <= 2
    assert ended_cleanly(local_env, outcome.session_id), counts(local_env, outcome.session_id)
