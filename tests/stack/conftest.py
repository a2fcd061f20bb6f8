"""Servers of the stack tests' own: a second PostgreSQL cluster and redis-servers they start and stop."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.notifications.conftest import OwnRedis, free_port, wait_until

PG_BIN = Path(os.environ.get("CASEAPP_PG_BIN", "/usr/lib/postgresql/15/bin"))


class OwnPostgres:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free port, in a temporary directory."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.datadir = workdir / "pgdata"
        self.logfile = workdir / "pg.log"
        self.workdir = workdir
        # initdb refuses to run as root: run the cluster as the postgres system user then.
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args):
        command = [str(PG_BIN / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(command)}: {done.stdout[-2000:]}"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self):
        if self.user:
            shutil.chown(self.workdir, self.user)
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "--no-sync")
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        return self

    def stop(self):
        if (self.datadir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")


def postgres_available() -> bool:
    if not (PG_BIN / "initdb").exists():
        return False
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False
    return True


@pytest.fixture
def own_postgres():
    if not postgres_available():
        pytest.skip(f"needs PostgreSQL's initdb/pg_ctl in {PG_BIN} (set CASEAPP_PG_BIN)")
    # Not under pytest's tmp_path: its parents are private to the user running pytest, and as root the cluster
    # runs as the postgres user, which must reach its directory.
    workdir = Path(tempfile.mkdtemp(prefix="caseapp-pg-"))
    server = OwnPostgres(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


__all__ = ["OwnPostgres", "OwnRedis", "free_port", "time", "wait_until"]
