"""The running local environment's state file, as :mod:`local.state` reads it.

The file belongs to the local environment, which writes it; its one reader is there, so a key
renamed on one side cannot be missed on the other. This module keeps ``ci``'s import path.
"""

from __future__ import annotations

from local.state import NOT_RUNNING, STATE_FILE, LocalEnvironmentMissing, LocalState, read_state

__all__ = ["NOT_RUNNING", "STATE_FILE", "LocalEnvironmentMissing", "LocalState", "read_state"]
