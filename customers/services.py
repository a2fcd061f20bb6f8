"""Business actions on customers: each one transaction, keyword-only arguments."""

from datetime import date

from django.db import IntegrityError, transaction

from caseapp.upsert import Outcome

from .models import Customer, Language

# The language a customer is written to when the shop does not say, from the country they ship to.
COUNTRY_LANGUAGE = {"RO": Language.ROMANIAN, "MD": Language.ROMANIAN, "RU": Language.RUSSIAN,
                    "BY": Language.RUSSIAN, "KZ": Language.RUSSIAN, "IT": Language.ITALIAN,
                    "SM": Language.ITALIAN}


@transaction.atomic
def customer_upsert(
    *, email: str, name: str = "", phone: str = "", country: str = "", preferred_language: str = "",
    customer_since: date | None = None, overwrite: bool = False,
) -> tuple[Customer, Outcome]:
    """Find the customer by email (case-insensitively, as the unique constraint does) or create them.

    An existing customer keeps what the shop does not send; a blank name, phone or country is filled in, and
    with ``overwrite=True`` (a deliberate update of the customer, e.g. through the API) a given value replaces
    the stored one. ``customer_since`` only ever moves earlier: an imported old order lengthens the tenure.
    Returns (customer, outcome); sending the same data twice answers ``Outcome.UNCHANGED`` and writes nothing.
    """
    email = (email or "").strip()
    country = (country or "").strip().upper()
    given = {"name": (name or "").strip(), "phone": (phone or "").strip(), "country": country}
    customer = Customer.objects.select_for_update().filter(email__iexact=email).first()
    if customer is None:
        customer = Customer(
            email=email, name=given["name"] or email.split("@")[0], phone=given["phone"], country=country,
            preferred_language=preferred_language or COUNTRY_LANGUAGE.get(country, Language.ENGLISH),
        )
        if customer_since:
            customer.customer_since = customer_since
        customer.full_clean(validate_unique=False, validate_constraints=False)  # clean() checks the email; the DB too
        try:
            with transaction.atomic():
                customer.save()
            return customer, Outcome.CREATED
        except IntegrityError:  # created by another delivery at the same moment: update that one instead
            customer = Customer.objects.select_for_update().get(email__iexact=email)
    changed = []
    for field, value in given.items():
        if value and getattr(customer, field) != value and (overwrite or not getattr(customer, field)):
            setattr(customer, field, value)
            changed.append(field)
    if overwrite and preferred_language and customer.preferred_language != preferred_language:
        customer.preferred_language = preferred_language
        changed.append("preferred_language")
    if customer_since and customer_since < customer.customer_since:
        customer.customer_since = customer_since
        changed.append("customer_since")
    if not changed:
        return customer, Outcome.UNCHANGED
    customer.full_clean(validate_unique=False, validate_constraints=False)
    customer.save(update_fields=changed)
    return customer, Outcome.CHANGED
