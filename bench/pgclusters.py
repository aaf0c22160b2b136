"""Throwaway PostgreSQL clusters for the production shape (replica tests, PgBouncer, the spike
benchmark's primary + replica).

Built with the Debian server binaries (`initdb`, `pg_ctl`, `pg_basebackup`) as the `postgres` user,
on free ports, in a temporary folder: the machine's own PostgreSQL is never touched. Every command
has a timeout; `stop()` is immediate, so a failing test leaves nothing running.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from bench.net import free_port

_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
PG_BIN = Path(_BINS[-1]).parent if _BINS else None


def available() -> bool:
    return PG_BIN is not None and shutil.which("runuser") is not None


def _run(*cmd: str, timeout: float = 60) -> None:
    if os.geteuid() == 0:  # initdb and the server refuse to run as root
        cmd = ("runuser", "-u", "postgres", "--", *cmd)
    subprocess.run(cmd, check=True, timeout=timeout, capture_output=True, cwd="/")


class Cluster:
    def __init__(self, datadir: Path, port: int) -> None:
        self.datadir = datadir
        self.port = port

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        )

    def start(self) -> None:
        assert PG_BIN is not None
        log = self.datadir.parent / f"{self.datadir.name}.log"
        _run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        assert PG_BIN is not None
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            _run(str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop")


class PrimaryAndReplica:
    """A primary and a streaming hot-standby replica of it."""

    def __init__(self) -> None:
        assert PG_BIN is not None
        self.root = Path(tempfile.mkdtemp(prefix="aid-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        self.primary = Cluster(self.root / "primary", free_port())
        self.replica = Cluster(self.root / "replica", free_port())

    def start(self) -> PrimaryAndReplica:
        assert PG_BIN is not None
        p = self.primary
        _run(
            str(PG_BIN / "initdb"), "-D", str(p.datadir), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        conf = (
            f"port = {p.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\n"
            "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n"
            "fsync = off\nfull_page_writes = off\n"
            # every commit waits until the replica has applied it: reads after a write are
            # deterministic without polling (a test switches this off to make the replica lag)
            "synchronous_standby_names = '*'\nsynchronous_commit = remote_apply\n"
        )
        with open(p.datadir / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write(conf)
        p.start()
        r = self.replica
        _run(
            str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(p.port), "-U", "postgres",
            "-D", str(r.datadir), "-R", "-X", "stream", "--no-sync",
        )  # fmt: skip
        with open(r.datadir / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write(f"port = {r.port}\n")
        r.start()
        return self

    def stop(self) -> None:
        self.replica.stop()
        self.primary.stop()
        shutil.rmtree(self.root, ignore_errors=True)
