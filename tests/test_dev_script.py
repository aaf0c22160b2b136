"""`./dev help` prints the tasks, nothing of the script itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dev_help_lists_every_task_and_no_code() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "dev"), "help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    for task in ("demo", "test", "setup", "messages", "bench", "screenshots", "lock"):
        assert f"./dev {task}" in result.stdout
    assert "set -" not in result.stdout and "#" not in result.stdout
    unknown = subprocess.run(
        ["bash", str(ROOT / "dev"), "nonsense"], capture_output=True, text=True, timeout=30
    )
    assert unknown.returncode == 1 and "unknown task: nonsense" in unknown.stdout
