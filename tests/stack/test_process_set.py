"""The Procfile's process set run for real (no Docker): release once, web ×2 on two ports, worker ×2, beat ×1,
on its own PostgreSQL database and its own redis-server, email to a local SMTP listener.

200 late shipments through the API give exactly 200 apologies, one per shipment, even with one worker SIGKILLed
in the middle. The harness (tests/stack/harness.py) is shared with bench/stack_throughput.py.
"""

import re
import time
from collections import Counter

import pytest

from .harness import Stack, figures, late_shipments_run, redis_server_available, shipment_of

pytestmark = [pytest.mark.stack, pytest.mark.postgres]

SHIPMENTS = 200


@pytest.fixture
def stack(tmp_path):
    if not redis_server_available():
        pytest.skip("needs redis-server")
    started = Stack(tmp_path)
    try:
        started.start()
        yield started
    finally:
        started.stop()


def test_200_late_shipments_give_200_apologies_with_a_worker_killed_in_the_middle(stack):
    # given web ×2, worker ×2 and one beat, from the Procfile
    assert len(stack.by_kind("web")) == 2 and len(set(stack.web_ports())) == 2
    assert len(stack.by_kind("worker")) == 2 and len(stack.by_kind("beat")) == 1
    # when 200 late shipments come in through both web processes, and one worker is SIGKILLed after 60 emails
    run = late_shipments_run(stack, count=SHIPMENTS, kill_after=60, timeout=240)
    assert set(run.orders.values()) == set(stack.web_ports())  # both web processes took orders
    assert run.killed and 60 <= run.killed_after < SHIPMENTS, run
    assert not stack.by_kind("worker")[0].alive() and stack.by_kind("worker")[1].alive()
    # and the rest of the stack keeps going for a few more scans and sweeps (what a duplicate would need)
    time.sleep(10)
    # then exactly one apology arrived per shipment: none missing, none twice (by key and by Message-ID)
    arrivals = stack.listener.snapshot()
    per_shipment = Counter(shipment_of(a) for a in arrivals)
    assert None not in per_shipment, [a.key for a in arrivals if shipment_of(a) is None][:5]
    assert set(per_shipment) == set(run.shipments.values())
    assert max(per_shipment.values()) == 1, [s for s, n in per_shipment.items() if n > 1]
    assert len({a.message_id for a in arrivals}) == len(arrivals) == SHIPMENTS
    # each to its own customer
    assert len({a.to for a in arrivals}) == SHIPMENTS
    # and both workers sent apologies (the killed one before it died)
    sent = re.compile(r"notifications\.tasks\.send_message_task\[[-0-9a-f]+\] succeeded")
    assert all(sent.search(worker.log()) for worker in stack.by_kind("worker"))
    print("stack figures:", figures(stack, run), "start:", stack.phases, "run:", run.phases)
