"""How ``make local`` runs the handlers: as deployed, or relaxed for testing by hand.

The local environment deploys ``infra/config/local.json`` like any environment, limits included:
20 connection attempts a minute from one address, 10 listener joins a minute from one address,
50 session creations an hour per user. Every client of a person testing on one machine comes
from 127.0.0.1, so a few minutes of trying things exhausts the per-address budgets. The
``relaxed`` profile raises those limits for the handlers the local runtime starts (the deployed
configuration, and so ``make verify ENV=local``'s view of it, stays the template's): a profile
is a set of handler environment overrides, not another environment in ``infra/config/``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType

from local.worker import TEST_LIMIT_BOUNDS
from session_service import constants as c

DEFAULT_PROFILE = "deployed"
# A limit no manual session reaches, well inside the handlers' accepted range (1..100 000).
_RELAXED = "10000"

PROFILES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        # The limits of infra/config/local.json, as in every deployed environment.
        DEFAULT_PROFILE: MappingProxyType({}),
        # Per-address and per-user limits out of the way of one person on one machine.
        "relaxed": MappingProxyType(
            {
                c.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE: _RELAXED,
                c.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE: _RELAXED,
                c.ENV_SESSION_CREATE_LIMIT_PER_HOUR: _RELAXED,
            }
        ),
    }
)


def overrides(profile: str) -> dict[str, str]:
    """The handler environment overrides of ``profile``; :class:`KeyError` for an unknown one."""
    return dict(PROFILES[profile])


def speaker_staleness(seconds: int) -> dict[str, str]:
    """Test-only overrides: every handler ($connect and the janitor alike) takes a speaker
    unheard for ``seconds`` as lost, below the deployable floor (31 s, more than one heartbeat
    interval) if need be: the local worker widens that bound for these handlers only."""
    return {
        c.ENV_SPEAKER_STALENESS_SECONDS: str(seconds),
        TEST_LIMIT_BOUNDS: json.dumps({"speaker_staleness_seconds": [1, 3600]}),
    }
