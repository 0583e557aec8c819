"""``python -m bench``: see :mod:`bench.cli`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# moto's request recorder (which counts the handlers' DynamoDB requests) writes its recording
# to ./moto_recording unless told otherwise, and reads the setting once, when moto is imported.
_RECORDING = Path(tempfile.gettempdir(), f"bench-moto-recording-{os.getpid()}")
os.environ.setdefault("MOTO_RECORDER_FILEPATH", str(_RECORDING))

from bench.cli import main  # noqa: E402 (after the setting above)

if __name__ == "__main__":
    sys.exit(main())
