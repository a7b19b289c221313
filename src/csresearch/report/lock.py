"""One run at a time per reports folder.

``reports/.run.lock`` is held with ``flock`` for the whole run: the kernel releases it when the
process ends in any way (even ``kill -9``), so a lock can never be left stale. The file names its
holder (pid, start time, command) so a second run can say who it is waiting for. Once the lock is
held, any staging or swap folder left in the reports folder belongs to a dead run and is removed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from ..errors import CsresearchError

LOCK_FILE = ".run.lock"
DEBRIS = (".staging-", ".old-")


class RunLocked(CsresearchError):
    """Another run holds this reports folder."""


class ReportsLock:
    """``with ReportsLock(reports): ...``: wait up to ``wait_seconds`` for the folder, else
    :class:`RunLocked` naming the holder."""

    def __init__(self, reports: Path, wait_seconds: float = 0.0):
        self.reports = reports
        self.wait_seconds = wait_seconds
        self._fd: int | None = None

    def __enter__(self) -> ReportsLock:
        self.reports.mkdir(parents=True, exist_ok=True)
        path = self.reports / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(path)
                    os.close(fd)
                    raise RunLocked(
                        f"another csresearch run holds {self.reports} ({holder}); wait for it to finish, "
                        "or give this run its own --reports folder") from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({
            "pid": os.getpid(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv[:1] + sys.argv[1:8]),
        }).encode())
        self._fd = fd
        remove_debris(self.reports)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    return f"pid {info.get('pid', '?')}, started {info.get('started', '?')}"


def remove_debris(reports: Path) -> list[str]:
    """Staging and swap folders of runs that died (only called with the lock held)."""
    removed = []
    for child in reports.iterdir() if reports.exists() else []:
        if child.is_dir() and child.name.startswith(DEBRIS):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child.name)
    return removed
