"""The reply address of a case: ``support+c<case>-<signature>@domain`` (plus-addressing), signed so that a
stranger cannot write into another customer's case by guessing a number. Lower-case hex, because some mail
servers lower-case the local part."""

import re
from email.utils import parseaddr

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "inbox.case-reply-address"
SIGNATURE_LENGTH = 16
TOKEN = re.compile(r"\+c(\d{1,18})-([0-9a-f]{" + str(SIGNATURE_LENGTH) + r"})@", re.IGNORECASE)


def _signature(case_id: int) -> str:
    return salted_hmac(SALT, f"case:{case_id}").hexdigest()[:SIGNATURE_LENGTH]


def support_address() -> str:
    """CASEAPP_SUPPORT_ADDRESS, or the From address caseapp sends with."""
    return settings.CASEAPP_SUPPORT_ADDRESS or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def case_reply_address(case_id: int) -> str:
    """The address a customer's reply about this case goes to (the Reply-To of our case emails)."""
    local, _, domain = support_address().partition("@")
    local = local.split("+", 1)[0]
    return f"{local}+c{case_id}-{_signature(case_id)}@{domain}"


def case_id_from_addresses(addresses: list[str]) -> int | None:
    """The case whose signed reply address is among these, or None (a tampered signature is no address)."""
    for address in addresses:
        match = TOKEN.search(address or "")
        if match and constant_time_compare(match.group(2).lower(), _signature(int(match.group(1)))):
            return int(match.group(1))
    return None
