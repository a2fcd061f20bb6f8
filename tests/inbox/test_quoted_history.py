"""The quoted history is cut in Romanian, Russian and Italian too (mail-parser-reply has no ro/ru patterns, and
misses wrapped Gmail attributions): caseapp's own patterns in inbox/parsing.py (issue 12 polish)."""

import pytest

from cases.models import CaseEventKind
from inbox.parsing import reply_text
from inbox.services import inbound_email_receive

from .conftest import fixture_bytes

REPLIES = [
    # (fixture, the reply text exactly, a words of the quote that must be gone from it but kept in the full text)
    ("reply_ro_gmail.eml",
     "Bună ziua,\n\nColetul tot nu a ajuns, curierul nu m-a sunat.\n\nMulțumesc,\nElena", "a fost expediată azi"),
    ("reply_ro_outlook.eml", "Vă mulțumesc, trec sâmbătă pe la magazin.\n\nAndrei", "voucherul a fost prelungit"),
    ("reply_ru_gmail.eml", "Здравствуйте!\n\nПосылка так и не пришла, трек-номер не отслеживается.",
     "Ваш заказ отправлен"),
    ("reply_ru_thunderbird_outlook.eml", "Спасибо, деньги пришли.", "Мы вернули деньги"),
    ("reply_ru_outlook.eml", "Добрый день, жду звонка курьера.", "Ваш заказ передан курьеру"),
    ("reply_it_gmail.eml", "Buongiorno,\n\nil tappeto è arrivato ma è del colore sbagliato.\n\nGrazie,\nMaria",
     "il suo ordine è stato spedito"),
    ("reply_it_outlook.eml", "Perfetto, passerò in negozio sabato.", "Il suo buono è stato prolungato"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "expected", "quoted"), REPLIES)
def test_the_reply_text_is_cut_before_the_quoted_history(name, expected, quoted):
    message, created = inbound_email_receive(fixture_bytes(name), source="file")
    assert created
    assert message.text_reply == expected
    assert quoted in message.text and quoted not in message.text_reply
    event = message.case.events.get(kind=CaseEventKind.EMAIL_IN)
    assert event.text == expected
    assert event.data["has_quoted_history"] is True


@pytest.mark.parametrize(("text", "expected"), [
    # Apple Mail in Russian
    ("Спасибо.\n\n2 дек. 2026 г., в 10:15, Поддержка <care@shop.example> написал(а):\n\n> Добрый день\n", "Спасибо."),
    # Outlook on the web in Romanian, "În data de ..." (Yahoo too)
    ("Mulțumesc.\n\nÎn data de miercuri, 2 decembrie 2026, 10:15:00 EET, Suport <care@shop.example> a scris:\n"
     "> Bună ziua\n", "Mulțumesc."),
    # Thunderbird in Romanian and Italian
    ("Da, mulțumesc.\n\nPe 02.12.2026 10:15, Suport a scris:\n> text\n", "Da, mulțumesc."),
    ("Va bene.\n\nIl 02/12/2026 10:15, Assistenza ha scritto:\n> testo\n", "Va bene."),
    # a bare "... a scris:" followed by a quote
    ("Am primit.\n\nSuport Magazin a scris:\n> text vechi\n", "Am primit."),
    # a line of the customer's right above an unwrapped attribution stays theirs
    ("Comanda 1004 tot nu a venit\nÎn mie., 2 dec. 2026 la 10:15, Suport <care@shop.example> a scris:\n> text\n",
     "Comanda 1004 tot nu a venit"),
    # Mail.ru
    ("Жду.\n\nСреда, 2 декабря 2026, 10:15 +03:00 от Поддержка <care@shop.example>:\n> Добрый день\n", "Жду."),
])
def test_attribution_lines_of_the_four_languages(text, expected):
    assert reply_text(text) == expected


@pytest.mark.parametrize("text", [
    # "wrote:" words in a sentence, with no quote after them, are the customer's own words
    "Bună ziua,\nSoțul meu a scris:\nvrem banii înapoi.",
    "Мой муж написал:\nверните деньги.",
    "Da: vorrei un rimborso.\nGrazie",
])
def test_words_like_an_attribution_inside_the_reply_are_kept(text):
    assert reply_text(text) == text
