"""Replying to the customer by email from the case page: through the outbox, framed in the customer's language."""

import pytest
from django.urls import reverse

from cases.models import CaseEventKind
from notifications.models import Message
from notifications.rendering import message_render
from tests.factories import CaseFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _form(client, case):
    return client.get(reverse("dashboard:case", args=[case.pk])).context["reply_form"]


def test_reply_is_queued_in_the_customers_language_and_put_on_the_timeline(agent_client, agent):
    # given a Romanian customer's case
    customer = CustomerFactory(name="Elena Popescu", preferred_language="ro", time_zone="Europe/Bucharest")
    case = CaseFactory(customer=customer, owner=agent, subject="Voucher expirat")
    nonce = _form(agent_client, case).initial["nonce"]
    # when
    response = agent_client.post(reverse("dashboard:case_reply", args=[case.pk]), {
        "text": "Am prelungit voucherul până pe 23 decembrie.", "nonce": nonce,
    }, follow=True)
    # then
    message = Message.objects.get(case=case)
    assert (message.template, message.language, message.recipient) == ("agent_reply", "ro", customer.email)
    assert case.events.filter(kind=CaseEventKind.EMAIL_OUT, actor=agent).exists()
    case.refresh_from_db()
    assert case.first_responded_at is not None
    assert "Reply queued for sending." in response.content.decode()
    rendered = message_render(template=message.template, context=message.context, language="ro",
                              time_zone="Europe/Bucharest")
    assert "Am prelungit voucherul" in rendered.text
    assert rendered.subject == f"Solicitarea dumneavoastră #{case.pk}"  # never the internal title


def test_double_submit_sends_one_reply(agent_client, agent):
    case = CaseFactory(owner=agent)
    data = {"text": "On its way.", "nonce": _form(agent_client, case).initial["nonce"]}
    agent_client.post(reverse("dashboard:case_reply", args=[case.pk]), data)
    response = agent_client.post(reverse("dashboard:case_reply", args=[case.pk]), data, follow=True)
    assert Message.objects.filter(case=case).count() == 1
    assert case.events.filter(kind=CaseEventKind.EMAIL_OUT).count() == 1
    assert "already sent" in response.content.decode()


def test_empty_reply_is_refused(agent_client, agent):
    case = CaseFactory(owner=agent)
    response = agent_client.post(reverse("dashboard:case_reply", args=[case.pk]), {"text": " ", "nonce": "abc"})
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_agent_cannot_reply_on_another_agents_case(agent_client, other_agent):
    case = CaseFactory(owner=other_agent)
    response = agent_client.post(reverse("dashboard:case_reply", args=[case.pk]), {"text": "Hi", "nonce": "abc"})
    assert response.status_code == 403
    assert not Message.objects.exists()
