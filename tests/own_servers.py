"""Servers of a test's own, with no Django in them (the stack harness and the bench import this before Django
is set up): a free local port and a redis-server that a test may start, stop and kill."""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server on a spare port that a test may stop and start; never the machine's shared one. No
    persistence: a test that kills it loses what it held (queued tasks), as it means to."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.exceptions.ConnectionError:
            return False

    def start(self, timeout: float = 20):
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not self.ping():  # a wait, not a timing assertion: it fails only when the server never answers
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server on port {self.port} did not answer within {timeout} s")
            time.sleep(0.1)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def kill(self):
        """SIGKILL: no graceful shutdown; without persistence everything it held (queued tasks) is gone."""
        self.process.kill()
        self.process.wait(timeout=20)
        self.process = None

    def queue_length(self, queue: str = "celery") -> int:
        return redis.Redis(port=self.port).llen(queue)
