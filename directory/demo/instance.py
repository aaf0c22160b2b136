"""One database per running demo: a second `aid-directory demo` never rebuilds the database of
one that is still serving.

Each run holds an exclusive lock (flock) on `<database>.lock` for as long as it lives; the
operating system releases it when the process ends, however it ends. The lock file says which
process holds it and where it serves. A second run with the default database takes the next free
one (`demo-2.db`, ...) and a port of its own; with an explicit `--db` that is in use it refuses.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

MAX_INSTANCES = 20


class DemoInUse(Exception):
    """The database belongs to a demo that is running; `holder` says which (pid and address)."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is in use by a running demo ({holder or 'process unknown'})")
        self.path = path
        self.holder = holder


@dataclass
class Claim:
    """A demo database held by this process until it exits (or `release()`)."""

    path: Path
    fd: int
    others: list[str]  # the running demos that were skipped, to say so

    def announce(self, url: str) -> None:
        """Write who holds the database and where it serves, for a second run to show."""
        data = f"process {os.getpid()}, {url}".encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def release(self) -> None:
        os.close(self.fd)


def _lock(path: Path) -> int | str:
    """The locked descriptor of `path`'s lock file, or the holder's note when another has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = Path(str(path) + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 500, 0).decode("utf-8", "replace").strip() or "starting up"
        os.close(fd)
        return holder
    return fd


def claim(path: Path, *, explicit: bool) -> Claim:
    """Hold `path` for this run. When a running demo holds it: raise DemoInUse if the person
    chose the file (`explicit`), else take the first free `<stem>-N<suffix>` beside it."""
    others: list[str] = []
    candidates = (
        [path]
        if explicit
        else [path]
        + [path.with_name(f"{path.stem}-{n}{path.suffix}") for n in range(2, MAX_INSTANCES + 1)]
    )
    for candidate in candidates:
        got = _lock(candidate)
        if isinstance(got, int):
            return Claim(candidate, got, others)
        if explicit:
            raise DemoInUse(candidate, got)
        others.append(f"{candidate}: {got}")
    raise DemoInUse(path, f"{MAX_INSTANCES} demos are running")
