"""``python -m bench``: see :mod:`bench.cli`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# moto's request recorder (which counts the handlers' DynamoDB requests) writes its recording
# to ./moto_recording unless told otherwise, and reads the setting once, when moto is imported.
os.environ.setdefault(
    "MOTO_RECORDER_FILEPATH", str(Path(tempfile.gettempdir(), f"bench-moto-recording-{os.getpid()}"))
)

from bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
