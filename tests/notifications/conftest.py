"""Real services for the notification tests: an SMTP listener (aiosmtpd), Celery worker processes, own Redis.

Worker tests commit their data (transactional database) so the worker process, connected to the same test
database, sees it. Nothing is mocked: faults are a real SMTP server answering 451/550, a real worker killed with
SIGKILL, a real redis-server stopped.
"""

import asyncio
import email
import email.policy
import json
import logging
import os
import signal
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection

from caseapp.celery import app as celery_app
from tests.own_servers import OwnRedis, free_port  # noqa: F401 (the test files import them from here too)

BASE_DIR = Path(settings.BASE_DIR)
logging.getLogger("mail.log").setLevel(logging.WARNING)
CELERY_BIN = str(Path(os.sys.executable).with_name("celery"))


def wait_until(predicate, *, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    """Poll until predicate() is truthy (a wait, not a timing assertion: the test fails only on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


# --- SMTP ------------------------------------------------------------------------------------------------
class RecordingHandler:
    """Accepts mail and records it; `replies` (a list) gives the answer to the next DATA commands first."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received: list[email.message.EmailMessage] = []
        self.replies: list[str] = []
        self.rcpt_reply: str | None = None
        self.rcpt_replies: dict[str, str] = {}  # recipient -> answer to RCPT (e.g. 550)
        self.data_replies: dict[str, list[str]] = {}  # recipient -> answers to its next DATA commands
        self.delay_seconds = 0.0
        self.on_data = None  # called with the parsed message before answering; may return a reply to send
        # accept-then-stall: record the message as received (a real MTA has queued it), then wait before answering
        self.stall_after_accept = False
        self.accepted = threading.Event()
        self.release = threading.Event()
        self.answered_at: list[float] = []  # time.time() of each 250 answer

    def reset(self):
        with self.lock:
            self.received.clear()
            self.replies.clear()
            self.rcpt_reply = None
            self.rcpt_replies = {}
            self.data_replies = {}
            self.delay_seconds = 0.0
            self.on_data = None
            self.stall_after_accept = False
            self.accepted = threading.Event()
            self.release.set()  # let a stalled session go
            self.release = threading.Event()
            self.answered_at = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd API)
        reply = self.rcpt_replies.get(address) or self.rcpt_reply
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.stall_after_accept:
            with self.lock:
                self.received.append(parsed)
            self.accepted.set()
            release = self.release
            while not release.is_set():
                await asyncio.sleep(0.05)
            return "250 Message accepted for delivery"
        if self.on_data is not None:
            reply = self.on_data(parsed)
            if reply:
                return reply
        with self.lock:
            planned = [r for address in envelope.rcpt_tos for r in self.data_replies.get(address, [])[:1]]
            for address in envelope.rcpt_tos:
                if self.data_replies.get(address):
                    self.data_replies[address].pop(0)
            if planned and not planned[0].startswith("250"):
                return planned[0]
            if self.replies:
                reply = self.replies.pop(0)
                if not reply.startswith("250"):
                    return reply
            self.received.append(parsed)
            self.answered_at.append(time.time())
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list:
        with self.lock:
            return [m for m in self.received if address in str(m["To"])]

    def keys(self) -> list[str]:
        with self.lock:
            return [str(m["X-Caseapp-Message"]) for m in self.received]


@pytest.fixture(scope="session")
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp(smtp_server):
    smtp_server.handler.reset()
    yield smtp_server.handler
    smtp_server.handler.reset()


# --- Redis of the test's own: tests/own_servers.py ---------------------------------------------------------
@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def broker_use(url: str) -> None:
    """Point this process's Celery app at another broker (drops the cached connection pools)."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    try:
        celery_app.amqp._producer_pool = None
    except AttributeError:
        pass


@pytest.fixture
def broker_url():
    """The broker this process publishes to; restored after the test."""
    original = celery_app.conf.broker_url
    yield original
    broker_use(original)


# --- Celery worker processes -------------------------------------------------------------------------------
def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# Short enough that a row left "sending" by a killed worker is resolved within seconds, long enough for a loaded CI.
WORKER_EMAIL_TIMEOUT = 5
WORKER_SENDING_TIMEOUT = 8


@pytest.fixture
def worker_timeouts(settings):
    """This process (which runs the sweep in the tests) uses the workers' send time limit."""
    settings.EMAIL_TIMEOUT = WORKER_EMAIL_TIMEOUT
    settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = WORKER_SENDING_TIMEOUT
    return settings


class WorkerProcess:
    """`celery -A caseapp worker` in its own process group, on the test database and the given broker."""

    def __init__(self, *, name: str, broker: str, smtp_port: int, workdir: Path, beat: bool = False,
                 concurrency: int = 1, env: dict | None = None):
        self.name, self.beat, self.concurrency = name, beat, concurrency
        self.workdir = workdir
        self.log_path = workdir / f"worker-{name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_TIMEOUT": str(WORKER_EMAIL_TIMEOUT),
            "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS": str(WORKER_SENDING_TIMEOUT),
            "NOTIFICATIONS_RETRY_BACKOFF_SECONDS": "1",
            "NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS": "4",
            "NOTIFICATIONS_SWEEP_AFTER_SECONDS": "0",
            "LOG_LEVEL": "INFO",
            **(env or {}),
        }
        self.process = None

    def start(self):
        args = [CELERY_BIN, "-A", "caseapp", "worker", "-l", "INFO", "-c", str(self.concurrency),
                "-n", f"{self.name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if self.beat:
            args += ["-B", "-s", str(self.workdir / f"beat-{self.name}")]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(args, cwd=BASE_DIR, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: b" ready." in self.log_path.read_bytes() or self.process.poll() is not None,
                   timeout=90, message=f"worker {self.name} to be ready")
        assert self.process.poll() is None, self.log()[-5000:]
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pool_pids(self) -> list[int]:
        """The prefork pool's child processes (from /proc), not the main worker process."""
        pids = []
        for children in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            pids += [int(pid) for pid in children.read_text().split()]
        return pids

    def kill(self):
        """SIGKILL to the whole worker (main process and pool children): no warm shutdown, nothing acked."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)
        self._log.close()

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        self._log.close()


@pytest.fixture
def start_worker(smtp_server, tmp_path):
    """Start workers for this test; every one is stopped at the end (only the ones started here)."""
    started = []

    def start(*, broker: str | None = None, **kwargs) -> WorkerProcess:
        worker = WorkerProcess(broker=broker or settings.CELERY_BROKER_URL, smtp_port=smtp_server.port,
                               workdir=tmp_path, name=kwargs.pop("name", f"w{len(started)}"), **kwargs)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def broker_flush(url: str) -> None:
    """Empty this test's broker database (our own Redis db number, or our own redis-server)."""
    if url.startswith("redis://"):
        redis.Redis.from_url(url).flushdb()


# --- Committed data -------------------------------------------------------------------------------------------
@pytest.fixture
def roles_kept(django_db_blocker):
    """The flush after a transactional test empties auth_group too; put the role groups back for later tests."""
    yield
    with django_db_blocker.unblock():
        for name in ("agent", "manager"):
            Group.objects.get_or_create(name=name)


@pytest.fixture
def committed_db(roles_kept, transactional_db):
    """Data committed for real, visible to worker processes; the role groups exist before and after."""
    for name in ("agent", "manager"):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def clean_broker():
    """Start from an empty broker (our own Redis db number): no task left over from another test."""
    broker_flush(settings.CELERY_BROKER_URL)


# --- An email provider's HTTP API on 127.0.0.1 -------------------------------------------------------------
class FakeEspApi:
    """A local HTTP server standing in for an ESP's send API, for anymail's real HTTP backends.

    `script` is a list of (status, json body, seconds to stall before answering), one per request; when it runs out
    every request is answered `ok_reply(request)`. Every request is recorded (headers and JSON body) before the
    answer, as a provider records what it received before it answers.
    """

    def __init__(self, ok_reply):
        self.ok_reply = ok_reply
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict, float]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = {"path": self.path, "headers": dict(self.headers.items()), "json": json.loads(body or b"{}")}
                with api.lock:
                    api.requests.append(request)
                    status, reply, stall = api.script.pop(0) if api.script else (200, None, 0)
                if stall:
                    time.sleep(stall)
                payload = json.dumps(reply if reply is not None else api.ok_reply(request)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def to(self, address: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if address in json.dumps(r["json"])]


def postmark_ok(request: dict) -> dict:
    return {"To": request["json"].get("To", ""), "SubmittedAt": "2026-12-02T05:00:00Z",
            "MessageID": str(uuid.uuid4()), "ErrorCode": 0, "Message": "OK"}


def resend_ok(request: dict) -> dict:
    return {"id": str(uuid.uuid4())}


@pytest.fixture
def esp_api():
    """Start a fake ESP API: esp_api(ok_reply) -> FakeEspApi; stopped at the end of the test."""
    started = []

    def start(ok_reply=postmark_ok) -> FakeEspApi:
        api = FakeEspApi(ok_reply)
        api.thread.start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.server.shutdown()
        api.server.server_close()


@pytest.fixture
def smtp_settings(settings, smtp_server, smtp):
    """Django's SMTP backend to the test's listener, three attempts a message."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    return smtp
