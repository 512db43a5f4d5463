"""Test hook of the import (see RosterImport)."""

import os
import signal
import sys


def _fault_point(name: str) -> None:
    """Test hook: AKUN_IMPORT_FAULT=<point> kills the process there, to prove atomicity."""
    if os.environ.get("AKUN_IMPORT_FAULT") == name:
        sys.stderr.write(f"fault injected at {name}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
