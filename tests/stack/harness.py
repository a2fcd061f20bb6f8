"""The process set of the Procfile, started for real without Docker: shared by the stack test and the bench.

`Stack` creates its own PostgreSQL database (``caseapp_stack_<random>``, dropped at the end) on the server of
DATABASE_URL, starts its own redis-server, runs the Procfile's `release` line once, then its `web` (×2, two
ports), `worker` (×2) and `beat` (×1) lines, each in its own process group, stopped by its PID at the end. Email
goes to a local aiosmtpd listener (`Listener`) through Django's SMTP backend, selected by EMAIL_BACKEND.

`late_shipments_run` is the story: orders through /api/v1/orders/ (alternating the two web processes), their
shipments through /api/v1/shipments/, a "delayed" courier event each through /api/v1/shipment-events/, and the apologies the beat's late
scan sends; optionally one worker killed with SIGKILL once some emails have arrived.
"""

import asyncio
import email
import email.policy
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from aiosmtpd.controller import Controller

from tests.own_servers import OwnRedis, free_port
from tests.stack.stack_seed import COURIER, tracking_number

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the virtualenv's bin: python, gunicorn, celery (not resolved: a symlink)

# Short intervals and limits so a killed worker's work is found again within seconds (the defaults are for a shop).
STACK_SETTINGS = {
    # A scan hands every shipment not handled yet to the workers in batches: one while the last one's batches
    # are still queued hands them over again (the handler finds them done, but it is work), so not too often.
    "NOTIFICATIONS_SCAN_SHIPMENTS_SECONDS": "3",
    "NOTIFICATIONS_SCAN_BATCH_SIZE": "10",
    # The sweep re-publishes rows left queued this long: a queue still working through its backlog must not be
    # given every message again (it sends nothing twice, but the copies take the workers' time).
    "NOTIFICATIONS_SWEEP_SECONDS": "3",
    "NOTIFICATIONS_SWEEP_AFTER_SECONDS": "30",
    "NOTIFICATIONS_RETRY_BACKOFF_SECONDS": "1",
    "NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS": "4",
    "EMAIL_TIMEOUT": "5",
    "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS": "8",
    # The email being sent when a worker dies was refused by the listener (see Listener.pause), so a resend is
    # its only copy; "hold" would leave it for a person.
    "NOTIFICATIONS_IN_DOUBT": "resend",
    "CELERY_VISIBILITY_TIMEOUT": "20",
}


def procfile() -> dict[str, str]:
    lines = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            lines[name.strip()] = command.strip()
    return lines


class StackFailed(AssertionError):
    pass


# --- SMTP -----------------------------------------------------------------------------------------------------
@dataclass
class Arrival:
    at: float
    key: str
    message_id: str
    to: str
    subject: str


class Listener:
    """An SMTP listener that records what it accepts, with the time; `pause()` holds every DATA unanswered (and
    unrecorded) until `resume()`, which answers them 421 (try again later)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self.paused = False
        self.refused_while_paused = 0
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        while self.paused:
            await asyncio.sleep(0.05)
            if not self.paused:
                with self.lock:
                    self.refused_while_paused += 1
                return "421 4.3.0 held while a worker was killed; try again later"
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.arrivals.append(Arrival(at=time.time(), key=str(parsed["X-Caseapp-Message"]),
                                         message_id=str(parsed["Message-ID"]), to=str(parsed["To"]),
                                         subject=" ".join(str(parsed["Subject"]).split())))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def snapshot(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)


# --- The process set ----------------------------------------------------------------------------------------------
@dataclass
class Proc:
    name: str
    process: subprocess.Popen
    log_path: Path
    port: int | None = None
    log_file: object = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(signal.SIGKILL)  # whatever is left of the group (pool children, gunicorn workers)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.log_file:
            self.log_file.close()
            self.log_file = None


def server_url() -> str:
    """The PostgreSQL server of DATABASE_URL (the stack gets its own database on it)."""
    url = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres")
    if not url.scheme.startswith("postgres"):
        raise StackFailed(f"the stack needs PostgreSQL; DATABASE_URL is {url.scheme}")
    return f"{url.scheme}://{url.netloc}"


class Stack:
    def __init__(self, workdir: Path, *, webs: int = 2, workers: int = 2, worker_concurrency: int = 2,
                 web_concurrency: int = 2, env: dict | None = None):
        self.workdir = Path(workdir)
        self.webs, self.workers, self.worker_concurrency = webs, workers, worker_concurrency
        self.web_concurrency = web_concurrency
        self.database = f"caseapp_stack_{secrets.token_hex(4)}"
        self.server = server_url()
        self.listener = Listener()
        self.redis = OwnRedis(self.workdir)
        self.procs: list[Proc] = []
        self.extra_env = env or {}
        self.database_created = False
        self.token = ""
        self.phases: dict[str, float] = {}  # seconds each step of start() took

    # -- database
    def _admin(self):
        url = urlsplit(self.server)
        conn = psycopg2.connect(host=url.hostname or "127.0.0.1", port=url.port or 5432,
                                user=url.username or "postgres", password=url.password or None, dbname="postgres")
        conn.autocommit = True
        return conn

    def _database_create(self):
        conn = self._admin()
        try:
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            conn.close()
        self.database_created = True

    def _database_drop(self):
        if not self.database_created:
            return
        conn = self._admin()
        try:
            with conn.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            conn.close()
        self.database_created = False

    @property
    def database_url(self) -> str:
        return f"{self.server}/{self.database}"

    # -- processes
    def env(self, **more) -> dict:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("PYTEST", "DJANGO_SETTINGS")) and key != "CASEAPP_TEST_WORKERS"}
        env.update({
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "0",
            "CASEAPP_VAR_DIR": str(self.workdir / "var"),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.listener.port),
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "plain",
            "WEB_CONCURRENCY": str(self.web_concurrency),
            "WORKER_CONCURRENCY": str(self.worker_concurrency),
            "PYTHONUNBUFFERED": "1",
            **STACK_SETTINGS,
            **self.extra_env,
        })
        env.update(more)
        return env

    def _spawn(self, name: str, command: str, **env) -> Proc:
        log_path = self.workdir / f"{name}.log"
        log_file = open(log_path, "ab")  # noqa: SIM115 (closed by Proc.stop)
        process = subprocess.Popen(["/bin/sh", "-c", f"exec {command}"], cwd=ROOT, env=self.env(**env),
                                   stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        proc = Proc(name=name, process=process, log_path=log_path, log_file=log_file,
                    port=int(env["PORT"]) if "PORT" in env else None)
        self.procs.append(proc)
        return proc

    def _python(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run([str(BIN / "python"), *args], cwd=ROOT, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise StackFailed(f"python {' '.join(args[:3])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def seed(self, step: str, *args: str):
        return json.loads(self._python("-m", "tests.stack.stack_seed", step, *args).strip().splitlines()[-1])

    def start(self):
        (self.workdir / "var").mkdir(parents=True, exist_ok=True)
        lines = procfile()
        began = time.monotonic()
        self.listener.start()
        self.redis.start()
        self._database_create()
        self._phase("database_seconds", began)
        began = time.monotonic()
        release = self._spawn("release", lines["release"])
        try:
            code = release.process.wait(timeout=300)
        except subprocess.TimeoutExpired as exc:
            raise StackFailed(f"release did not finish:\n{self.logs_tail()}") from exc
        if code != 0:
            raise StackFailed(f"release exited {code}:\n{self.logs_tail()}")
        self.procs.remove(release)
        release.stop()
        self._phase("release_seconds", began)
        began = time.monotonic()
        self.token = self.seed("staff")["token"]
        self._phase("staff_seconds", began)
        began = time.monotonic()
        for n in range(self.webs):
            self._spawn(f"web{n + 1}", lines["web"], PORT=str(free_port()))
        for n in range(self.workers):
            self._spawn(f"worker{n + 1}", lines["worker"])
        self._spawn("beat", lines["beat"])
        self.wait(self._all_ready, timeout=120, what="every process to be ready")
        self._phase("ready_seconds", began)
        return self

    def _phase(self, name: str, began: float) -> None:
        self.phases[name] = round(time.monotonic() - began, 2)

    def by_kind(self, kind: str) -> list[Proc]:
        return [p for p in self.procs if re.fullmatch(rf"{kind}\d*", p.name)]

    def _web_ready(self, proc: Proc) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/health/ready", timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def _all_ready(self) -> bool:
        dead = [p.name for p in self.procs if not p.alive()]
        if dead:
            raise StackFailed(f"{', '.join(dead)} exited early:\n{self.logs_tail()}")
        return (all(self._web_ready(p) for p in self.by_kind("web"))
                and all(" ready." in p.log() for p in self.by_kind("worker"))
                and "beat: Starting" in self.by_kind("beat")[0].log())

    def wait(self, predicate, *, timeout: float, what: str, interval: float = 0.2):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise StackFailed(f"timed out after {timeout:.0f}s waiting for {what} "
                          f"({self.listener.count()} emails arrived)\n{self.logs_tail()}")

    def logs_tail(self, lines: int = 25) -> str:
        parts = []
        for proc in self.procs + [p for p in getattr(self, "_stopped", [])]:
            tail = "\n".join(proc.log().splitlines()[-lines:])
            parts.append(f"--- {proc.name} (pid {proc.process.pid}, "
                         f"{'running' if proc.alive() else f'exit {proc.process.returncode}'}) ---\n{tail}")
        return "\n".join(parts)

    def kill(self, proc: Proc) -> None:
        """SIGKILL to the process group: the main process and its pool, no warm shutdown, nothing acknowledged."""
        proc.signal_group(signal.SIGKILL)
        proc.process.wait(timeout=20)

    def stop(self):
        errors = []
        for proc in self.procs:  # all at once: SIGTERM to every group, then wait for each (SIGKILL after 20 s)
            if proc.alive():
                proc.signal_group(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(f"{proc.name}: {exc!r}")
        for step in (self.redis.stop, self.listener.stop, self._database_drop):
            try:
                step()
            except Exception as exc:
                errors.append(f"{step.__qualname__}: {exc!r}")
        if errors:
            raise StackFailed("stopping the stack: " + "; ".join(errors))

    # -- the API
    def api(self, port: int, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, {"error": exc.read().decode(errors="replace")[:2000]}

    def web_ports(self) -> list[int]:
        return [p.port for p in self.by_kind("web")]


# --- The story: late shipments, apologies --------------------------------------------------------------------------
LANGUAGES = ("en", "ro", "ru", "it")


@dataclass
class Run:
    count: int
    orders: dict[str, int] = field(default_factory=dict)  # order number -> web port that took it
    shipments: dict[str, int] = field(default_factory=dict)  # tracking number -> shipment id
    event_at: dict[int, float] = field(default_factory=dict)  # shipment id -> when the API recorded its event
    events_started: float = 0.0
    killed: str = ""
    killed_after: int = 0
    done_at: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds each step took


def order_payload(number: str, n: int) -> dict:
    placed = datetime.now(UTC) - timedelta(days=2)
    return {
        "number": number, "placed_at": placed.isoformat(), "currency": "EUR", "status": "shipped",
        "customer": {"email": f"stack{n}@mail.example", "name": f"Customer {n}", "language": LANGUAGES[n % 4]},
        "lines": [{"sku": "CUP", "name": "Cup", "quantity": 1, "unit_price": "19.90"}],
        "payment_method": "card", "promised_delivery_date": (placed + timedelta(days=5)).date().isoformat(),
    }


def _post_all(stack: Stack, calls: list[tuple[str, dict]], what: str) -> list[tuple[int, dict, int, float]]:
    ports = stack.web_ports()

    def one(indexed):
        n, (path, body) = indexed
        port = ports[n % len(ports)]
        status, answer = stack.api(port, path, body)
        return status, answer, port, time.time()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, enumerate(calls)))
    bad = [(status, answer) for status, answer, _port, _at in results if status not in (200, 201)]
    if bad:
        raise StackFailed(f"{len(bad)} of {len(calls)} {what} failed, e.g. {bad[0]}\n{stack.logs_tail()}")
    return results


def late_shipments_run(stack: Stack, *, count: int = 200, kill_after: int | None = None,
                       timeout: float = 240) -> Run:
    """Create `count` late shipments through the API and wait until `count` apologies have arrived (and, with
    `kill_after`, SIGKILL one worker once that many have). Raises StackFailed with the logs on a timeout."""
    run = Run(count=count)
    deadline = time.monotonic() + timeout
    numbers = [f"ST-{n:04d}" for n in range(count)]
    results = _post_all(stack, [("/api/v1/orders/", order_payload(number, n)) for n, number in enumerate(numbers)],
                        "orders")
    run.phases["orders_seconds"] = round(time.monotonic() - (deadline - timeout), 2)
    run.orders = {number: port for number, (_s, _a, port, _t) in zip(numbers, results, strict=True)}
    began = time.monotonic()
    handed_over = (datetime.now(UTC) - timedelta(hours=20)).isoformat()
    shipments = [("/api/v1/shipments/", {"order_number": number, "courier": COURIER,
                                         "tracking_number": tracking_number(number), "handed_over_at": handed_over,
                                         "estimated_delivery": order_payload(number, n)["promised_delivery_date"]})
                 for n, number in enumerate(numbers)]
    run.shipments = {answer["tracking_number"]: answer["id"]
                     for _status, answer, _port, _at in _post_all(stack, shipments, "shipments")}
    run.phases["shipments_seconds"] = round(time.monotonic() - began, 2)
    if len(run.shipments) != count:
        raise StackFailed(f"{len(run.shipments)} shipments made for {count} orders")
    now = datetime.now(UTC).isoformat()
    events = [("/api/v1/shipment-events/", {"tracking_number": tracking, "external_id": f"delay-{tracking}",
                                             "occurred_at": now, "code": "delayed", "courier": COURIER,
                                             "text": "Delayed at the hub"})
              for tracking in run.shipments]
    run.events_started = time.time()
    for _status, answer, _port, at in _post_all(stack, events, "tracking events"):
        run.event_at[answer["shipment"]] = at
    run.phases["events_seconds"] = round(time.time() - run.events_started, 2)
    if kill_after is not None:
        stack.wait(lambda: stack.listener.count() >= kill_after, timeout=max(1, deadline - time.monotonic()),
                   what=f"{kill_after} emails before the kill")
        worker = stack.by_kind("worker")[0]
        # Hold every email being handed over, unanswered, so nothing is accepted while the worker dies: an email
        # accepted a moment before the kill has had 2 s to be marked sent. Then the held ones are answered 421.
        stack.listener.paused = True
        time.sleep(2)
        run.killed_after = stack.listener.count()
        stack.kill(worker)
        run.killed = f"{worker.name} (pid {worker.process.pid})"
        stack.listener.paused = False
    stack.wait(lambda: stack.listener.count() >= count, timeout=max(1, deadline - time.monotonic()),
               what=f"{count} apology emails")
    run.done_at = time.time()
    run.phases["emails_after_events_seconds"] = round(run.done_at - run.events_started, 2)
    return run


def shipment_of(arrival: Arrival) -> int | None:
    found = re.fullmatch(r"late-apology:(\d+)", arrival.key)
    return int(found.group(1)) if found else None


def figures(stack: Stack, run: Run) -> dict:
    """Emails per second (first event recorded to the last email) and event-to-email latency, p50 and p95."""
    first_at: dict[int, float] = {}
    for arrival in stack.listener.snapshot():
        shipment = shipment_of(arrival)
        if shipment is not None and shipment not in first_at:
            first_at[shipment] = arrival.at
    latencies = sorted(first_at[s] - run.event_at[s] for s in first_at if s in run.event_at)
    if not latencies:
        return {}

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))]

    span = max(first_at.values()) - run.events_started
    return {"emails": len(first_at), "seconds": round(span, 2), "emails_per_second": round(len(first_at) / span, 1),
            "p50_seconds": round(pct(50), 2), "p95_seconds": round(pct(95), 2), "max_seconds": round(latencies[-1], 2)}


def redis_server_available() -> bool:
    return shutil.which("redis-server") is not None
