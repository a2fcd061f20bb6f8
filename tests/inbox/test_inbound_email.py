"""inbox.services.inbound_email_receive: raw emails in, cases out (issue 12, Inbound)."""

import threading
from email.message import EmailMessage

import pytest
from django.db import connection

from cases.models import Attachment, Case, CaseEventKind, CaseStatus
from customers.models import Customer
from inbox.models import InboundMessage, InboundStatus
from inbox.services import inbound_email_receive, language_guess, order_candidates
from inbox.tokens import case_id_from_addresses, case_reply_address
from notifications.models import Message, MessageStatus
from notifications.services import _message_id_header
from tests.factories import CaseFactory, CustomerFactory, OrderFactory

from .conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def receive(name: str, **fill) -> InboundMessage:
    message, created = inbound_email_receive(fixture_bytes(name, **fill), source="file")
    assert created
    return message


def email_in_events(case):
    return list(case.events.filter(kind=CaseEventKind.EMAIL_IN))


@pytest.mark.parametrize(("name", "sender", "language", "words"), [
    ("latin2_romanian.eml", "ioana.popescu@mail.example", "ro", "Comanda #1004 nu a ajuns încă"),
    ("koi8r_russian.eml", "dmitry@mail.example", "ru", "Мой заказ так и не пришёл"),
    ("cp1251_russian.eml", "anna.smirnova@mail.example", "ru", "Посылка пришла повреждённая"),
    ("cp1252_italian.eml", "giulia.bianchi@mail.example", "it", "49,90 € per un tappeto “blu” ma è arrivato"),
    ("utf8_alternative_attachments.eml", "stefan@mail.example", "ro", "coletul a sosit deteriorat"),
])
def test_a_new_email_in_any_charset_opens_an_email_case_for_a_new_customer_in_their_language(
        name, sender, language, words):
    # given nobody with this address
    # when their first email arrives
    message = receive(name)
    # then it is processed into a new email case, with the text decoded from its charset
    assert message.status == InboundStatus.PROCESSED, message.reason
    case = message.case
    assert case.channel == "email" and case.status == CaseStatus.NEW  # in the queue, like any new case
    assert words in message.text and words in email_in_events(case)[0].text
    # and the customer is created, matched case-insensitively, with the language of the text
    customer = Customer.objects.get(email__iexact=sender)
    assert case.customer == customer and customer.preferred_language == language
    assert bytes(message.raw) == fixture_bytes(name)


def test_rfc2047_names_and_subjects_are_decoded():
    message = receive("koi8r_russian.eml")
    assert message.subject == "Где мой заказ?" and message.from_name == "Дмитрий Орлов"
    assert message.case.customer.name == "Дмитрий Орлов" and message.case.subject == "Где мой заказ?"
    stefan = receive("utf8_alternative_attachments.eml")
    assert stefan.subject == "Coletul a sosit deteriorat — poză" and stefan.from_name == "Ștefan Rădulescu"


def test_an_existing_customer_is_matched_case_insensitively_and_keeps_their_language():
    customer = CustomerFactory(email="ioana.popescu@mail.example", preferred_language="en")
    message = receive("latin2_romanian.eml")  # From: Ioana.Popescu@Mail.Example
    assert message.case.customer == customer
    customer.refresh_from_db()
    assert customer.preferred_language == "en" and Customer.objects.count() == 1


def test_multipart_alternative_keeps_text_and_sanitized_html_and_stores_the_attachments():
    message = receive("utf8_alternative_attachments.eml")
    assert message.text.startswith("Bună ziua, coletul a sosit deteriorat.")
    assert "<b>deteriorat</b>" in message.html and "<img" not in message.html
    files = {a.filename: a for a in Attachment.objects.filter(case=message.case)}
    assert set(files) == {"poza.png", "factură.pdf"}
    assert files["poza.png"].safe_content_type == "image/png" and files["factură.pdf"].size == 48
    assert sorted(message.data["attachment_ids"]) == sorted(a.pk for a in files.values())


def test_html_only_mail_is_sanitized_and_its_words_are_the_text():
    message = receive("html_only_script.eml")
    assert message.status == InboundStatus.PROCESSED
    for bad in ("<script", "alert", "onload", "onerror", "javascript:", "evil.example", "<style"):
        assert bad not in message.html
    assert 'href="https://tracking.example/T1"' in message.html
    assert "my parcel has not arrived" in message.text and "alert" not in message.text
    assert "document.cookie" not in email_in_events(message.case)[0].text


def test_a_forwarded_mail_keeps_the_forwarded_message_as_a_file():
    message = receive("forwarded.eml")
    assert "nobody was home" in message.text_reply
    attachment = Attachment.objects.get(case=message.case)
    assert attachment.filename == "Delivery attempt failed.eml"
    assert b"TRK000000001" in attachment.file.read()


def test_the_timeline_shows_the_reply_without_the_quoted_history_and_keeps_the_full_text():
    # given our email on a case, and the customer's Outlook reply that quotes it
    case = CaseFactory(customer=CustomerFactory(email="ioana.popescu@mail.example"))
    ours = Message.objects.create(recipient="ioana.popescu@mail.example", template="not_collected",
                                  idempotency_key="voucher-1", context={}, case=case, status=MessageStatus.SENT)
    message = receive("outlook_reply_references.eml", references=_message_id_header(ours))
    event = email_in_events(case)[0]
    assert event.text == "Thank you, I will come to the shop on Saturday."
    assert "-----Original Message-----" in message.text and "Your voucher has been extended" in message.text
    assert event.data["inbound_message_id"] == message.pk and event.data["has_quoted_history"]


def test_an_outlook_reply_with_only_references_threads_to_our_message_and_reopens_a_resolved_case():
    # given a resolved case whose email we sent, answered first by nobody
    case = CaseFactory(customer=CustomerFactory(email="ioana.popescu@mail.example"), status=CaseStatus.RESOLVED)
    ours = Message.objects.create(recipient="ioana.popescu@mail.example", template="not_collected",
                                  idempotency_key="voucher-2", context={}, case=case, status=MessageStatus.SENT)
    references = f"<older@mail.example> {_message_id_header(ours)}"
    # when the reply arrives with References only (no In-Reply-To)
    message = receive("outlook_reply_references.eml", references=references)
    # then it lands on that case, which is open again; the customer writing is not our first response
    case.refresh_from_db()
    assert message.case == case and message.threaded_by == "message_id"
    assert case.status == CaseStatus.OPEN and case.first_responded_at is None
    assert case.events.filter(kind=CaseEventKind.STATUS_CHANGED, data__reopened=True).exists()
    assert Case.objects.count() == 1


def test_a_reply_to_an_earlier_inbound_message_threads_to_its_case():
    first = receive("latin2_romanian.eml")
    reply = inbound_email_receive(_email(
        sender="ioana.popescu@mail.example", subject="Re: Comanda 1004", body="Any news?",
        message_id="<second@mail.example>", in_reply_to="<20261201091200.4F2A1@mail.example>"), source="pipe")[0]
    assert reply.case == first.case and reply.threaded_by == "message_id"


def _email(*, sender, subject, body, message_id, to="care@shop.example", in_reply_to=None) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"], message["Message-ID"] = sender, to, subject, message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(body)
    return message.as_bytes()


def test_the_signed_reply_address_threads_and_a_tampered_one_does_not():
    case = CaseFactory(customer=CustomerFactory(email="mark@mail.example"))
    address = case_reply_address(case.pk)
    assert address.startswith(f"care+c{case.pk}-") and address.endswith("@shop.example")
    assert case_id_from_addresses([address.upper()]) == case.pk  # a server that upper-cases the local part
    tampered = address.replace(f"+c{case.pk}-", f"+c{case.pk + 1}-")
    assert case_id_from_addresses([tampered]) is None
    # when the customer answers to the reply address, from another address, with a new subject
    message = inbound_email_receive(_email(sender="mark.evans@work.example", subject="About my parcel",
                                           body="Any news?", message_id="<tok-1@work.example>", to=address),
                                    source="pipe")[0]
    assert message.case == case and message.threaded_by == "reply_address"


def test_the_case_number_in_the_subject_threads_only_for_the_case_customer():
    case = CaseFactory(customer=CustomerFactory(email="mark@mail.example"))
    mine = inbound_email_receive(_email(sender="Mark@mail.example", subject=f"Re: [#{case.pk}] parcel",
                                        body="Hello", message_id="<subj-1@mail.example>"), source="pipe")[0]
    assert mine.case == case and mine.threaded_by == "subject"
    stranger = inbound_email_receive(_email(sender="eve@evil.example", subject=f"Re: [#{case.pk}] parcel",
                                            body="Hello", message_id="<subj-2@evil.example>"), source="pipe")[0]
    assert stranger.case != case and stranger.case.customer.email == "eve@evil.example"


def test_an_order_number_links_the_order_and_lands_on_its_open_case(settings):
    # given Ioana's order 1004, stored with the shop's prefix
    settings.CASEAPP_ORDER_NUMBER_PREFIX = "SHOP-"
    ioana = CustomerFactory(email="ioana.popescu@mail.example")
    order = OrderFactory(number="SHOP-1004", customer=ioana)
    # when she writes about "Comanda 1004" / "#1004"
    message = receive("latin2_romanian.eml")
    # then the new case links the order
    assert message.case.order == order
    # and a second email about it lands on that open case
    again = inbound_email_receive(_email(sender="ioana.popescu@mail.example", subject="Tot comanda #1004",
                                         body="Vă rog!", message_id="<again@mail.example>"), source="pipe")[0]
    assert again.case == message.case and again.threaded_by == "order"


def test_an_unknown_order_number_opens_a_case_without_an_order():
    OrderFactory(number="999999")  # another customer's order: never linked to a stranger's case
    message = receive("unknown_order.eml")
    assert message.status == InboundStatus.PROCESSED and message.case.order is None


def test_an_auto_reply_opens_no_case_and_sends_nothing(mailoutbox):
    message = receive("autoreply.eml")
    assert message.status == InboundStatus.IGNORED_AUTO and "Auto-Submitted" in message.reason
    assert message.case is None and Case.objects.count() == 0 and Message.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.parametrize("header", ["X-Autoreply: yes", "Precedence: bulk", "Precedence: list",
                                    "Precedence: junk", "X-Auto-Response-Suppress: OOF", "Return-Path: <>"])
def test_each_automatic_header_is_recognised(header):
    raw = f"{header}\r\n".encode() + _email(sender="x@mail.example", subject="Hi", body="Hello",
                                            message_id=f"<auto-{abs(hash(header))}@mail.example>")
    message, _ = inbound_email_receive(raw, source="pipe")
    assert message.status == InboundStatus.IGNORED_AUTO and message.case is None


def test_a_bounce_marks_our_outbox_message_bounced_and_opens_no_case():
    case = CaseFactory()
    ours = Message.objects.create(recipient="nobody@mail.example", template="not_collected",
                                  idempotency_key="bounce-1", context={}, case=case, status=MessageStatus.SENT)
    ours.esp_message_id = _message_id_header(ours)
    ours.save()
    message = receive("dsn_bounce.eml", original=_message_id_header(ours))
    ours.refresh_from_db()
    assert message.status == InboundStatus.IGNORED_AUTO and message.case is None
    assert ours.status == MessageStatus.BOUNCED and message.data["bounced_outbox_messages"] == 1
    assert Case.objects.count() == 1


def test_a_bounce_finds_our_message_even_when_the_provider_gave_it_another_id():
    case = CaseFactory()
    ours = Message.objects.create(recipient="nobody@mail.example", template="not_collected",
                                  idempotency_key="bounce-2", context={}, case=case, status=MessageStatus.SENT,
                                  esp_message_id="provider-0001")
    receive("dsn_bounce.eml", original=_message_id_header(ours))
    ours.refresh_from_db()
    assert ours.status == MessageStatus.BOUNCED


def test_the_same_message_id_twice_is_stored_once():
    first, created = inbound_email_receive(fixture_bytes("cp1252_italian.eml"), source="imap")
    second, created_again = inbound_email_receive(fixture_bytes("cp1252_italian.eml"), source="webhook")
    assert created and not created_again and second.pk == first.pk
    assert InboundMessage.objects.count() == 1 and Case.objects.count() == 1
    assert len(email_in_events(first.case)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_message_arriving_twice_at_once_is_stored_once():
    raw = fixture_bytes("cp1252_italian.eml")
    barrier = threading.Barrier(2)
    results = []

    def deliver(source):
        try:
            barrier.wait(timeout=10)
            results.append(inbound_email_receive(raw, source=source))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(source,)) for source in ("imap", "webhook")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(created for _, created in results) == [False, True]
    assert InboundMessage.objects.count() == 1 and Case.objects.count() == 1


@pytest.mark.parametrize(("name", "reason"), [("no_from.eml", "no sender"), ("malformed_mime.eml", "malformed")])
def test_a_message_that_cannot_be_read_is_kept_raw_as_unprocessed(name, reason):
    message = receive(name)
    assert message.status == InboundStatus.UNPROCESSED and reason in message.reason
    assert message.case is None and bytes(message.raw) == fixture_bytes(name)
    assert Case.objects.count() == 0


def test_garbage_is_kept_raw_too():
    raw = b"\x00\xff\xfe not an email at all \r\n\r\n\x80\x81"
    message, created = inbound_email_receive(raw, source="pipe")
    assert created and message.status == InboundStatus.UNPROCESSED and bytes(message.raw) == raw
    assert inbound_email_receive(raw, source="pipe")[1] is False  # no Message-ID: the bytes are the key


def test_a_30_mb_attachment_is_dropped_with_a_note_and_the_message_kept(settings):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "mark@mail.example", "care@shop.example", "Video"
    message["Message-ID"] = "<big@mail.example>"
    message.set_content("The video of the broken parcel, and a photo.")
    message.add_attachment(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (30 * 1024 * 1024), maintype="video",
                           subtype="mp4", filename="unboxing.mp4")
    message.add_attachment(fixture_bytes("utf8_alternative_attachments.eml")[:0] + b"%PDF-1.4\n%%EOF\n",
                           maintype="application", subtype="pdf", filename="receipt.pdf")
    stored, _ = inbound_email_receive(message.as_bytes(), source="pipe")
    assert stored.status == InboundStatus.PROCESSED
    assert [a.filename for a in Attachment.objects.filter(case=stored.case)] == ["receipt.pdf"]
    dropped = stored.case.events.get(data__attachment_dropped__filename="unboxing.mp4")
    assert dropped.data["attachment_dropped"]["reason"] == "too_large"


def test_language_guess_and_order_candidates(settings):
    assert language_guess("Buongiorno, il mio ordine non è arrivato") == "it"
    assert language_guess("") == "en"
    settings.CASEAPP_ORDER_NUMBER_PREFIX = "SHOP-"
    assert order_candidates("Order #1004 and SHOP-1005, not 12") == ["1004", "SHOP-1004", "SHOP-1005"]


def test_our_case_email_carries_the_reply_address_and_the_customer_answer_threads_back(mailoutbox):
    from notifications import catalogue
    from notifications.services import message_queue, message_send

    # given an email sent from a case (any template; the outbox gives every case email the case's reply address)
    case = CaseFactory(customer=CustomerFactory(email="ioana@mail.example"), status=CaseStatus.WAITING_ON_CUSTOMER)
    context = {"customer_name": "Ioana", "voucher_code": "GIFT-42", "balance": "150.00", "currency": "RON",
               "expiry_date": "2027-03-14", "where_to_use": ""}
    ours, _ = message_queue(recipient="ioana@mail.example", template=catalogue.VOUCHER_REMINDER,
                            idempotency_key="reply-address-1", context=context, case=case)
    assert message_send(message_id=ours.pk).result == "sent"
    sent = mailoutbox[-1]
    assert sent.reply_to == [case_reply_address(case.pk)]
    # when the customer's client answers to it, quoting nothing but the Reply-To (no In-Reply-To kept)
    raw = _email(sender="Ioana <ioana@mail.example>", subject="Re: " + sent.subject, body="Mulțumesc!",
                 message_id="<answer-1@mail.example>", to=sent.reply_to[0])
    message, _ = inbound_email_receive(raw, source="pipe")
    # then it lands on the case, which is open again (the customer wrote), and no first response is recorded
    case.refresh_from_db()
    assert message.case == case and message.threaded_by == "reply_address"
    assert case.status == CaseStatus.OPEN and case.first_responded_at is None
    # and with the Message-ID of ours in In-Reply-To, that is what threads it
    raw = _email(sender="ioana@mail.example", subject="Re: again", body="Și încă ceva.",
                 message_id="<answer-2@mail.example>", in_reply_to=sent.extra_headers["Message-ID"])
    assert inbound_email_receive(raw, source="pipe")[0].threaded_by == "message_id"
