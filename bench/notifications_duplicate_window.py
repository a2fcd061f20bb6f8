"""The residual duplicate window of the outbox, measured: from the moment the SMTP listener has the whole message
to the COMMIT that marks the row sent. Only inside it can a killed worker leave a delivered message "sending";
with NOTIFICATIONS_IN_DOUBT=hold (the default) that row is held, with =resend it is sent again (same Message-ID).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caseapp_h3 \\
        .venv/bin/python bench/notifications_duplicate_window.py --messages 300 --answer-ms 0

`--answer-ms` makes the listener take that long to answer after it has the message (a real MTA's fsync, spam and
virus checks). Per send, in this process (one clock): t_have (listener has the message), t_answer (its 250 is
sent), t_commit (message_send returned, the row's COMMIT done). Prints percentiles of t_commit - t_have (the
window) and of t_commit - t_answer (our own part of it: read the answer, one UPDATE, one COMMIT).
"""

import argparse
import asyncio
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402

from notifications import catalogue  # noqa: E402
from notifications.models import Message, MessageStatus  # noqa: E402
from notifications.services import message_queue, message_send  # noqa: E402


class TimingHandler:
    def __init__(self, answer_seconds: float):
        self.answer_seconds = answer_seconds
        self.have: list[float] = []
        self.answer: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        have = time.perf_counter()
        if self.answer_seconds:
            await asyncio.sleep(self.answer_seconds)
        with self.lock:
            self.have.append(have)
            self.answer.append(time.perf_counter())
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentiles(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    q = statistics.quantiles(ms, n=100)
    return f"median {statistics.median(ms):.2f} ms, p90 {q[89]:.2f} ms, p99 {q[98]:.2f} ms, max {ms[-1]:.2f} ms"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--answer-ms", type=float, default=0.0)
    args = parser.parse_args()
    handler = TimingHandler(args.answer_ms / 1000)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    Message.objects.filter(idempotency_key__startswith="bench-window:").delete()
    try:
        commits = []
        for n in range(args.messages):
            message, _ = message_queue(
                recipient=f"w{n}@mail.example", template=catalogue.NOT_COLLECTED, idempotency_key=f"bench-window:{n}",
                context={"customer_name": "Ana", "order_number": "O-1", "courier": "C", "tracking_number": "T"},
            )
            assert message_send(message_id=message.pk).result == "sent"
            commits.append(time.perf_counter())
        assert Message.objects.filter(idempotency_key__startswith="bench-window:",
                                      status=MessageStatus.SENT).count() == args.messages
        window = [c - h for c, h in zip(commits, handler.have, strict=True)]
        ours = [c - a for c, a in zip(commits, handler.answer, strict=True)]
        print(f"{args.messages} sends, listener answering {args.answer_ms:g} ms after it has the message")
        print(f"  window (listener has it -> row committed sent): {percentiles(window)}")
        print(f"  our part (listener answered -> row committed):  {percentiles(ours)}")
    finally:
        Message.objects.filter(idempotency_key__startswith="bench-window:").delete()
        controller.stop()


if __name__ == "__main__":
    main()
