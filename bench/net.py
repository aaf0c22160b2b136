"""Loopback helpers shared by the benchmarks and the ops tests. Standard library only: the test
suite imports bench.shape, and the test environment does not install the bench extras."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port
