"""The safeplace console script answers --help."""

import subprocess
import sys


def test_help_lists_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True
    )
    assert "safety" in out.stdout and "resources" in out.stdout
