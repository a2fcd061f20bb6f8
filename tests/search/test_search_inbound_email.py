"""Words of an inbound email are found by the header search: the email's reply text is the case's description
(a new case) or a timeline event (a threaded reply), and the search document's triggers take both (issue 12)."""

import pytest

from inbox.services import inbound_email_receive
from search.selectors import search_everything
from tests.inbox.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def found_cases(user, query):
    return [hit.pk for hit in search_everything(user=user, query=query).cases]


@pytest.fixture(autouse=True)
def support_address(settings, tmp_path):
    settings.CASEAPP_SUPPORT_ADDRESS = "care@shop.example"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def test_words_of_an_inbound_email_and_of_its_threaded_reply_find_the_case(agent):
    # given an email that opened a case
    first, _ = inbound_email_receive(fixture_bytes("reply_ru_gmail.eml"), source="file")
    case = first.case
    # when the customer writes again on the same case
    reply = (f"From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan.petrov@gmail.example>\n"
             f"To: care@shop.example\nSubject: Re: [#{case.pk}] Заказ\nMessage-ID: <second-ru@gmail.example>\n"
             "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"
             "Курьер оставил извещение в почтовом ящике.\n\n"
             "ср, 2 дек. 2026 г. в 12:00, Поддержка <care@shop.example>:\n> Квитанцию приложите\n").encode()
    second, created = inbound_email_receive(reply, source="file")
    assert created and second.case_id == case.pk
    # then words of both emails' texts find the case (Russian words stemmed: "посылку" for "Посылка")
    assert found_cases(agent, "трек-номер") == [case.pk]
    assert found_cases(agent, "посылку") == [case.pk]
    assert found_cases(agent, "извещение") == [case.pk]
    # and the quoted history, which is not the customer's words, does not
    assert found_cases(agent, "Квитанцию") == []
