"""factory_boy factories shared by every test module."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone

from cases.models import Case, CaseCategory, CaseChannel
from customers.models import Customer
from orders.models import Courier, Order, OrderLine, PaymentMethod, Shipment
from vouchers.models import ValidityRule, Voucher


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@shop.example")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])  # a transactional test flushes migration data
        if create:
            self.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@mail.example")
    preferred_language = "en"
    country = "RO"
    customer_since = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=400))


class ValidityRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ValidityRule
        django_get_or_create = ("code",)

    code = "twelve-months"
    name = "12 months"
    validity_months = 12
    effective_from = date(2000, 1, 1)


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    code = factory.Sequence(lambda n: f"GIFT-{n:06d}")
    holder = factory.SubFactory(CustomerFactory)
    value = Decimal("100.00")
    balance = factory.LazyAttribute(lambda v: v.value)
    currency = "EUR"
    issued_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    valid_until = factory.LazyAttribute(lambda v: timezone.localdate(v.issued_at) + timedelta(days=365))
    validity_rule = factory.SubFactory(ValidityRuleFactory)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"ORD-{n:07d}")
    customer = factory.SubFactory(CustomerFactory)
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=5))
    currency = "EUR"
    total = Decimal("50.00")
    payment_method = PaymentMethod.CARD
    promised_delivery_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=2))

    @factory.post_generation
    def with_line(self, create, extracted, **kwargs):
        if create and extracted is not False:
            OrderLine.objects.create(order=self, sku="SKU-1", name="Item", quantity=1, unit_price=self.total)


class CourierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Courier
        django_get_or_create = ("name",)

    name = "FastCourier"
    claims_email = "claims@courier.example"


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    courier = factory.SubFactory(CourierFactory)
    tracking_number = factory.Sequence(lambda n: f"TRK{n:09d}")
    handed_over_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    estimated_delivery = factory.LazyAttribute(lambda s: s.order.promised_delivery_date)
    status = "in_transit"


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    customer = factory.SubFactory(CustomerFactory)
    category = CaseCategory.OTHER
    channel = CaseChannel.EMAIL
    subject = factory.Sequence(lambda n: f"Case subject {n}")
    arrived_at = factory.LazyFunction(timezone.now)
    first_response_due_at = factory.LazyAttribute(lambda c: c.arrived_at + settings.CASE_FIRST_RESPONSE_SLA)
    resolution_due_at = factory.LazyAttribute(lambda c: c.arrived_at + settings.CASE_RESOLUTION_SLA)


class PromiseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cases.Promise"

    case = factory.SubFactory(CaseFactory)
    description = "Call the customer back on Monday"
    made_by_name = "Clerk at the counter"
    made_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    due_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
