"""Load the five stories (docs/stories.md) as real records, plus N generated customers with orders and cases.

Every record has a natural key (email, voucher code, order number, tracking number, case subject), so running
the command twice creates nothing twice. Times are relative to now (timezone.now()), so the demo looks like a
shop on a normal day whenever it is loaded: the stories' cases at their story moments near the head of the
queue, most generated open cases within their clocks and a few overdue, older cases resolved, and vouchers
due a reminder (30, 7 and 1 days before they expire). The same --seed gives the same records at the same
distances from now.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from caseapp.roles import AGENT, MANAGER
from cases.models import Case, CaseCategory, CaseChannel, CaseEvent, CaseEventKind, CaseStatus, Promise
from cases.services import case_open, promise_record
from customers.models import Customer
from orders.models import Courier, Order, OrderLine, Shipment, ShipmentEvent
from orders.services import order_create, shipment_create, shipment_event_record
from vouchers.models import ValidityRule, Voucher
from vouchers.services import add_months, voucher_issue, voucher_redeem

DEMO_PASSWORD = "caseapp-demo"
DEMO_USERS = [
    # username, role, first name, superuser
    ("agent", AGENT, "Ana", False),
    ("agent2", AGENT, "Luca", False),
    ("manager", MANAGER, "Mara", False),
    ("admin", MANAGER, "Admin", True),
]


# The generated cases, at the moments of a normal day: (hours ago from, to) and how often.
MOMENT_DONE = "done"  # resolved or closed, in the past weeks
MOMENT_OVERDUE = "overdue"  # being worked, past its resolution time (a few)
MOMENT_WORKED = "worked"  # being worked, within its clocks (most open cases)
MOMENT_FIRST_ANSWER_OVERDUE = "first_answer_overdue"  # nobody has answered yet, past the first-response time
MOMENT_JUST_ARRIVED = "just_arrived"  # nobody has answered yet, within the first-response time
CASE_MOMENT_HOURS_AGO = {
    MOMENT_DONE: (7 * 24, 60 * 24),
    MOMENT_OVERDUE: (76, 110),  # past the 72-hour resolution time, but younger than Elena's story case
    MOMENT_WORKED: (1, 16),  # younger than the stories', so those sit near the head of the queue
    MOMENT_FIRST_ANSWER_OVERDUE: (9, 14),
    MOMENT_JUST_ARRIVED: (0.1, 6),
}
CASE_MOMENTS = list(CASE_MOMENT_HOURS_AGO)
MOMENT_WEIGHTS = [58, 2, 30, 2, 8]
# Every third generated customer holds a gift voucher; most expire within a reminder offset (30, 7, 1 days).
VOUCHER_DAYS_LEFT = [1, 5, 7, 12, 25, 30, 45, 75, 120, 160]


def _at(day, hour=10, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


class Command(BaseCommand):
    help = "Load the five stories of STORIES.md and N generated customers (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, default=200, help="generated customers on top of the stories")
        parser.add_argument("--seed", type=int, default=7, help="random seed for the generated data")

    def handle(self, *args, size, seed, **options):
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.today = timezone.localdate(self.now)
        self.users = self.seed_users()
        self.rules = self.seed_validity_rules()
        self.couriers = self.seed_couriers()
        with transaction.atomic():
            self.story_voucher()
            self.story_birthday_parcel()
            self.story_rug()
            self.story_bakery_queue()
            self.story_be_fair()
        created = self.seed_generated(size=size, seed=seed)
        self.stdout.write(self.style.SUCCESS(
            f"demo data ready: {Customer.objects.count()} customers, {Order.objects.count()} orders, "
            f"{Case.objects.count()} cases ({created} generated customers added this run)"
        ))
        logins = ", ".join(u[0] for u in DEMO_USERS)
        self.stdout.write(f"demo logins (password {DEMO_PASSWORD}): {logins}")

    # --- reference data -----------------------------------------------------------------------------
    def seed_users(self):
        users = {}
        for username, role, first_name, superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first_name, "email": f"{username}@shop.example",
                          "is_staff": superuser, "is_superuser": superuser},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            users[username] = user
        return users

    def seed_validity_rules(self):
        twelve, _ = ValidityRule.objects.get_or_create(
            code="twelve-months",
            defaults={"name": "12 months", "validity_months": 12, "effective_from": self.today.replace(year=self.today.year - 6)},
        )
        six, _ = ValidityRule.objects.get_or_create(
            code="six-months",
            defaults={"name": "6 months (new rules)", "validity_months": 6,
                      "effective_from": self.today - timedelta(days=240)},
        )
        return {"12": twelve, "6": six}

    def seed_couriers(self):
        couriers = {}
        for name, email in [("RapidPost", "claims@rapidpost.example"), ("Cargus Demo", "daune@cargus.example"),
                            ("EastWay Express", "claims@eastway.example"), ("CityFreight", "claims@cityfreight.example")]:
            couriers[name], _ = Courier.objects.get_or_create(name=name, defaults={"claims_email": email})
        return couriers

    # --- helpers --------------------------------------------------------------------------------------
    def ago(self, *, days=0, hours=0, minutes=0):
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def customer(self, email, **fields):
        customer = Customer.objects.filter(email__iexact=email).first()
        if customer is None:
            customer = Customer(email=email, **fields)
            customer.full_clean()
            customer.save()
        return customer

    def order(self, number, **fields):
        return Order.objects.filter(number=number).first() or order_create(number=number, **fields)

    def shipment(self, courier, tracking_number, **fields):
        return (Shipment.objects.filter(courier=courier, tracking_number=tracking_number).first()
                or shipment_create(courier=courier, tracking_number=tracking_number, **fields))

    def case(self, customer, subject, **fields):
        return Case.objects.filter(customer=customer, subject=subject).first() or case_open(
            customer=customer, subject=subject, **fields
        )

    def promise(self, case, description, **fields):
        return Promise.objects.filter(case=case, description=description).first() or promise_record(
            case=case, description=description, **fields
        )

    # --- 1. The voucher that expired (bookshop, Romania) ---------------------------------------------
    def story_voucher(self):
        elena = self.customer("elena.popescu@mail.example", name="Elena Popescu", phone="+40 721 000 111",
                              preferred_language="ro", country="RO", time_zone="Europe/Bucharest",
                              customer_since=self.today - timedelta(days=4 * 365 + 20))
        for i in range(23):  # four years of regular orders, far more than her vouchers are worth
            placed = self.today - timedelta(days=4 * 365 - i * 63)
            self.order(f"BK-ELENA-{i + 1:03d}", customer=elena, placed_at=_at(placed), currency="RON",
                       payment_method="card", status="delivered",
                       lines=[{"sku": f"BOOK-{i:03d}", "name": "Books", "quantity": 2, "unit_price": "95.00"}])
        first_issue = self.today - timedelta(days=540)
        first = Voucher.objects.filter(code="BK-GIFT-2025-ELENA").first() or voucher_issue(
            code="BK-GIFT-2025-ELENA", value="200.00", currency="RON", holder=elena, issued_at=_at(first_issue),
            validity_rule=self.rules["12"],
        )
        if not first.redemptions.exists():
            voucher_redeem(voucher=first, amount="200.00", at=_at(first_issue + timedelta(days=100)),
                           note="Used in full at the Cluj store")
        # The second voucher fell under the new six-month rule; she came in a week after it expired.
        second_issue = add_months(self.today - timedelta(days=7), -6)
        second = Voucher.objects.filter(code="BK-GIFT-2026-ELENA").first() or voucher_issue(
            code="BK-GIFT-2026-ELENA", value="250.00", currency="RON", holder=elena, issued_at=_at(second_issue),
            validity_rule=self.rules["6"],
        )
        case = self.case(
            elena, "Gift voucher refused at the counter: expired a week ago", category=CaseCategory.VOUCHER_EXPIRED,
            channel=CaseChannel.COUNTER, voucher=second, arrived_at=self.ago(days=6, hours=2),
            description="Customer of four years came in with voucher BK-GIFT-2026-ELENA (250 RON). It expired "
                        "7 days earlier; her previous voucher was valid 12 months, this one only 6. The clerk "
                        "refused it and promised a call back on Monday.",
        )
        self.promise(case, "Call Elena back about the expired voucher", made_by_name="Clerk at the Cluj store",
                     owner=self.users["agent"], made_at=case.arrived_at,
                     due_at=_at(self.today - timedelta(days=3), 10))

    # --- 2. The birthday parcel (jewellery web shop, Russia) ------------------------------------------
    def story_birthday_parcel(self):
        dmitri = self.customer("dmitri.sokolov@mail.example", name="Dmitri Sokolov", phone="+7 900 000 22 33",
                               preferred_language="ru", country="RU", time_zone="Europe/Moscow",
                               customer_since=self.today - timedelta(days=60))
        birthday = self.today + timedelta(days=1)
        order = self.order(
            "JW-BELGOROD-0001", customer=dmitri, placed_at=_at(self.today - timedelta(days=5)), currency="RUB",
            payment_method="card", status="shipped", promised_delivery_date=birthday, is_date_critical=True,
            occasion=f"girlfriend's birthday, {birthday:%d %B}, Belgorod",
            lines=[{"sku": "RING-585-SAPH", "name": "Gold ring with sapphire", "quantity": 1,
                    "unit_price": "24000.00"}],
        )
        courier = self.couriers["EastWay Express"]
        shipment = self.shipment(courier, "EW-7741-BELG", order=order, handed_over_at=_at(self.today - timedelta(days=4)),
                                 estimated_delivery=birthday, status="in_transit")
        shipment_event_record(tracking_number=shipment.tracking_number, courier=courier, external_id="ew-1",
                              occurred_at=_at(self.today - timedelta(days=4), 16), code="handed_over",
                              text="Parcel accepted", location="Moscow hub")
        shipment_event_record(tracking_number=shipment.tracking_number, courier=courier, external_id="ew-2",
                              occurred_at=self.ago(hours=20), code="delayed", location="Kursk depot",
                              text="Delivery to Belgorod not possible before " f"{birthday + timedelta(days=3):%d.%m}",
                              estimated_delivery=birthday + timedelta(days=3))
        self.case(dmitri, "Birthday present will miss the birthday: courier refuses delivery on the day",
                  category=CaseCategory.LATE_DELIVERY, channel=CaseChannel.SYSTEM, order=order, shipment=shipment,
                  arrived_at=self.ago(hours=20, minutes=-5),
                  detection={"rule": "courier_delayed_date_critical", "promised": str(birthday)})
        # The same shop: a lost parcel (refund) and a COD parcel never collected (no blacklist).
        olga = self.customer("olga.petrova@mail.example", name="Olga Petrova", preferred_language="ru", country="RU",
                             time_zone="Europe/Moscow", customer_since=self.today - timedelta(days=900))
        lost_order = self.order("JW-LOST-0002", customer=olga, placed_at=_at(self.today - timedelta(days=20)),
                                currency="RUB", payment_method="card", status="shipped",
                                promised_delivery_date=self.today - timedelta(days=12),
                                lines=[{"sku": "EAR-925", "name": "Silver earrings", "quantity": 1,
                                        "unit_price": "6500.00"}])
        lost = self.shipment(courier, "EW-5512-LOST", order=lost_order, status="lost",
                             handed_over_at=_at(self.today - timedelta(days=19)),
                             estimated_delivery=self.today - timedelta(days=12))
        self.case(olga, "Parcel lost by the courier", category=CaseCategory.LOST_PARCEL, channel=CaseChannel.EMAIL,
                  order=lost_order, shipment=lost, arrived_at=self.ago(hours=30))
        pavel = self.customer("pavel.ivanov@mail.example", name="Pavel Ivanov", preferred_language="ru", country="RU",
                              time_zone="Europe/Moscow", customer_since=self.today - timedelta(days=30))
        cod_order = self.order("JW-COD-0003", customer=pavel, placed_at=_at(self.today - timedelta(days=15)),
                               currency="RUB", payment_method="cod", cod_quoted_amount="3900.00", status="shipped",
                               promised_delivery_date=self.today - timedelta(days=8),
                               lines=[{"sku": "CHAIN-925", "name": "Silver chain", "quantity": 1,
                                       "unit_price": "3900.00"}])
        uncollected = self.shipment(courier, "EW-6001-NC", order=cod_order, status="not_collected",
                                    cod_amount="3900.00", handed_over_at=_at(self.today - timedelta(days=14)))
        self.case(pavel, "COD parcel not collected from the pick-up point", category=CaseCategory.NOT_COLLECTED,
                  channel=CaseChannel.SYSTEM, order=cod_order, shipment=uncollected,
                  arrived_at=self.ago(hours=26), detection={"rule": "cod_not_collected"})

    # --- 3. The rug (home store, United States) ---------------------------------------------------------
    def story_rug(self):
        karen = self.customer("karen.miller@mail.example", name="Karen Miller", phone="+1 212 555 0100",
                              preferred_language="en", country="US", time_zone="America/New_York",
                              customer_since=self.today - timedelta(days=24))
        placed = self.today - timedelta(days=24)
        order = self.order(
            "HS-RUG-0470", customer=karen, placed_at=_at(placed, 15), currency="USD", payment_method="card",
            status="paid", promised_delivery_date=placed + timedelta(days=10), is_non_refundable=True,
            is_special_order=True, sold_by="Regional vice-president",
            lines=[{"sku": "RUG-KILIM-160", "name": "Kilim rug 160×230", "quantity": 1, "unit_price": "410.00",
                    "variant": "Kilim, indigo"},
                   {"sku": "LAMP-BR", "name": "Brass lamp", "quantity": 1, "unit_price": "60.00"}],
        )
        case = self.case(
            karen, "Rug promised in 10 days, now '5 to 6 weeks'", category=CaseCategory.BROKEN_PROMISE,
            channel=CaseChannel.PHONE, order=order, arrived_at=self.ago(days=3, hours=2),
            description="Sold by the regional VP with a promise of delivery to New York in ten days. Three weeks "
                        "later a sales associate said it is a special order taking 5-6 weeks, denied any promise, "
                        "and suggested she contact the manufacturer herself. Cancelling refused (non-refundable).",
        )
        self.promise(case, "Rug delivered to New York within 10 days of purchase", made_by_name="Regional vice-president",
                     owner=self.users["manager"], made_at=_at(placed, 15), due_at=_at(placed + timedelta(days=10), 18))
        # It has just arrived (a delivery check can record that it is the wrong style, and reopen the case).
        courier = self.couriers["CityFreight"]
        shipment = self.shipment(courier, "CF-0470-RUG", order=order, handed_over_at=self.ago(days=4),
                                 estimated_delivery=self.today, status="in_transit")
        shipment_event_record(tracking_number=shipment.tracking_number, courier=courier, external_id="cf-1",
                              occurred_at=self.ago(days=4), code="handed_over", text="Parcel accepted",
                              location="Newark depot")
        shipment_event_record(tracking_number=shipment.tracking_number, courier=courier, external_id="cf-2",
                              occurred_at=self.ago(hours=3), code="delivered", text="Delivered",
                              location="New York")

    # --- 4. The bakery: a small customer arrived first ----------------------------------------------------
    def story_bakery_queue(self):
        giulia = self.customer("giulia.bianchi@mail.example", name="Giulia Bianchi", preferred_language="it",
                               country="IT", time_zone="Europe/Rome", customer_since=self.today - timedelta(days=50))
        self.order("BAK-GIULIA-1", customer=giulia, placed_at=_at(self.today - timedelta(days=2), 8), currency="EUR",
                   payment_method="card", status="delivered",
                   lines=[{"sku": "CORN", "name": "Cornetto", "quantity": 3, "unit_price": "1.50"}])
        marco = self.customer("marco.rossi@mail.example", name="Marco Rossi", preferred_language="it", country="IT",
                              time_zone="Europe/Rome", customer_since=self.today - timedelta(days=3000))
        for i in range(12):
            self.order(f"BAK-MARCO-{i + 1:02d}", customer=marco, placed_at=_at(self.today - timedelta(days=30 + i * 60)),
                       currency="EUR", payment_method="card", status="delivered",
                       lines=[{"sku": "CATER", "name": "Catering tray", "quantity": 1, "unit_price": "420.00"}])
        first = self.ago(hours=18)  # at the counter yesterday, and still nobody has answered her
        self.case(giulia, "Cornetti order: one missing", category=CaseCategory.INCOMPLETE_ORDER,
                  channel=CaseChannel.COUNTER, arrived_at=first)
        self.case(marco, "Catering tray delivered late", category=CaseCategory.LATE_DELIVERY,
                  channel=CaseChannel.PHONE, arrived_at=first + timedelta(minutes=5))

    # --- 5. Be fair to customers (e-commerce, Romania) ------------------------------------------------------
    def story_be_fair(self):
        andrei = self.customer("andrei.ionescu@mail.example", name="Andrei Ionescu", preferred_language="ro",
                               country="RO", time_zone="Europe/Bucharest", customer_since=self.today - timedelta(days=700))
        late = self.order("EC-LATE-1001", customer=andrei, placed_at=_at(self.today - timedelta(days=6)),
                          currency="RON", payment_method="card", status="shipped",
                          promised_delivery_date=self.today + timedelta(days=1),
                          lines=[{"sku": "KETTLE-X", "name": "Electric kettle", "quantity": 1, "unit_price": "349.00"}])
        self.shipment(self.couriers["Cargus Demo"], "CG-1001-LATE", order=late, status="in_transit",
                      handed_over_at=_at(self.today - timedelta(days=4)), estimated_delivery=self.today + timedelta(days=4))
        ioana = self.customer("ioana.dumitru@mail.example", name="Ioana Dumitru", preferred_language="ro", country="RO",
                              time_zone="Europe/Bucharest", customer_since=self.today - timedelta(days=200))
        cod = self.order("EC-COD-1002", customer=ioana, placed_at=_at(self.today - timedelta(days=2)), currency="RON",
                         payment_method="cod", cod_quoted_amount="180.00", status="shipped",
                         promised_delivery_date=self.today + timedelta(days=2),
                         lines=[{"sku": "PAN-28", "name": "Frying pan 28 cm", "quantity": 1, "unit_price": "180.00"}])
        # The label says 200 lei: 20 lei of transport the customer was never quoted.
        self.shipment(self.couriers["Cargus Demo"], "CG-1002-COD", order=cod, status="in_transit", cod_amount="200.00",
                      handed_over_at=_at(self.today - timedelta(days=1)), estimated_delivery=self.today + timedelta(days=2))
        cristina = self.customer("cristina.matei@mail.example", name="Cristina Matei", preferred_language="ro",
                                 country="RO", time_zone="Europe/Bucharest", customer_since=self.today - timedelta(days=400))
        wrong = self.order("EC-WRONG-1003", customer=cristina, placed_at=_at(self.today - timedelta(days=8)),
                           currency="RON", payment_method="card", status="delivered",
                           lines=[{"sku": "MUG-BLUE", "name": "Mug, blue", "quantity": 4, "unit_price": "25.00"},
                                  {"sku": "PLATE-BLUE", "name": "Plate, blue", "quantity": 4, "unit_price": "35.00"}])
        self.shipment(self.couriers["Cargus Demo"], "CG-1003-DONE", order=wrong, status="delivered",
                      handed_over_at=_at(self.today - timedelta(days=7)),
                      delivered_at=_at(self.today - timedelta(days=2), 12))
        self.case(cristina, "Order arrived incomplete: plates missing", category=CaseCategory.INCOMPLETE_ORDER,
                  channel=CaseChannel.EMAIL, order=wrong, arrived_at=self.ago(hours=22))

    # --- generated customers ---------------------------------------------------------------------------
    def seed_generated(self, *, size, seed):
        first_names = ["Ana", "Mihai", "Sofia", "Ivan", "Elena", "Paolo", "Maria", "Alex", "Irina", "Luca", "Olga",
                       "Chiara", "Radu", "Nina", "Sergei", "Giorgio", "Diana", "Vlad", "Emma", "John"]
        last_names = ["Popa", "Smirnov", "Russo", "Stan", "Kuznetsov", "Ferrari", "Brown", "Marin", "Volkova",
                      "Esposito", "Dinu", "Smith", "Orlov", "Romano", "Lungu", "Taylor"]
        langs = [("ro", "RO", "RON", "Europe/Bucharest"), ("ru", "RU", "RUB", "Europe/Moscow"),
                 ("it", "IT", "EUR", "Europe/Rome"), ("en", "US", "USD", "America/New_York")]
        categories = [c for c in CaseCategory.values]
        weights = [8, 25, 6, 8, 8, 6, 5, 4, 5, 5]
        couriers = list(self.couriers.values())
        existing = set(Customer.objects.filter(email__endswith="@demo.example").values_list("email", flat=True))
        created = 0
        for i in range(size):
            email = f"customer{i:05d}@demo.example"
            if email in existing:
                continue
            rng = random.Random(f"{seed}:{i}")  # one generator per customer: the same customer whatever the size
            lang, country, currency, tz = langs[rng.randrange(4)]
            n_orders = min(int(rng.expovariate(1 / 4)) + 1, 40)
            tenure = rng.randint(20, 2500)
            n_cases = rng.choices([0, 1, 2], weights=[70, 24, 6])[0]
            plan = [(rng.randint(0, tenure), rng.randint(1, 4), Decimal(rng.randint(500, 40000)) / 100,
                     rng.random()) for _ in range(n_orders)]
            case_plan = [(rng.choices(categories, weights)[0], rng.random(), rng.choices(CASE_MOMENTS, MOMENT_WEIGHTS)[0],
                          rng.random()) for _ in range(n_cases)]
            # every third customer holds a voucher, expiring in turn 1, 5, 7, 12, 25, 30 ... days from today
            voucher_days_left = VOUCHER_DAYS_LEFT[(i // 3) % len(VOUCHER_DAYS_LEFT)] if i % 3 == 0 else None
            with transaction.atomic():
                self._generate_customer(i, email, rng, first_names, last_names, lang, country, currency, tz, tenure,
                                        plan, case_plan, couriers)
                if voucher_days_left is not None:
                    self._generate_voucher(i, customer_email=email, currency=currency, days_left=voucher_days_left)
            created += 1
        return created

    def _generate_customer(self, i, email, rng, first_names, last_names, lang, country, currency, tz, tenure, plan,
                           case_plan, couriers):
        customer = Customer.objects.create(
            name=f"{first_names[i % len(first_names)]} {last_names[(i * 7) % len(last_names)]}", email=email,
            preferred_language=lang, country=country, time_zone=tz,
            customer_since=self.today - timedelta(days=tenure),
        )
        orders, lines = [], []
        for n, (days_ago, quantity, price, draw) in enumerate(plan):
            placed = self.now - timedelta(days=days_ago, minutes=n)
            cod = draw < 0.2
            orders.append(Order(
                number=f"GEN-{i:05d}-{n:02d}", customer=customer, placed_at=placed, currency=currency,
                total=price * quantity, payment_method="cod" if cod else "card",
                cod_quoted_amount=price * quantity if cod else None,
                promised_delivery_date=timezone.localdate(placed) + timedelta(days=5),
                status="delivered" if days_ago > 10 else "shipped",
            ))
        Order.objects.bulk_create(orders)
        for order, (_, quantity, price, _) in zip(orders, plan, strict=True):
            lines.append(OrderLine(order=order, sku=f"SKU-{i % 97:03d}", name="Catalogue item", quantity=quantity,
                                   unit_price=price))
        OrderLine.objects.bulk_create(lines)
        shipments = [
            Shipment(order=order, courier=couriers[(i + n) % len(couriers)], tracking_number=f"GEN{i:05d}{n:02d}",
                     handed_over_at=order.placed_at + timedelta(days=1),
                     estimated_delivery=order.promised_delivery_date + timedelta(days=rng.choice([0, 0, 0, 0, 2, 5])),
                     delivered_at=order.placed_at + timedelta(days=4) if order.status == "delivered" else None,
                     status="delivered" if order.status == "delivered" else "in_transit",
                     cod_amount=order.cod_quoted_amount)
            for n, order in enumerate(orders)
        ]
        Shipment.objects.bulk_create(shipments)
        ShipmentEvent.objects.bulk_create([
            ShipmentEvent(shipment=s, external_id=f"{s.tracking_number}-1", occurred_at=s.handed_over_at,
                          code="handed_over", text="Parcel accepted")
            for s in shipments
        ])
        for category, draw, moment, when in case_plan:
            self._generate_case(customer, orders, category=category, draw=draw, moment=moment, when=when, rng=rng)

    def _generate_case(self, customer, orders, *, category, draw, moment, when, rng):
        """A case at one of the moments of a normal day (CASE_MOMENTS), `when` (0..1) placing it in its window,
        about one of the customer's orders placed before it arrived."""
        low, high = CASE_MOMENT_HOURS_AGO[moment]
        arrived = self.now - timedelta(minutes=int((low + (high - low) * when) * 60))
        placed_before = [order for order in orders if order.placed_at < arrived] or [
            min(orders, key=lambda order: order.placed_at)]
        order = placed_before[int(draw * len(placed_before))]
        agent = self.users[rng.choice(["agent", "agent2"])]
        if moment in (MOMENT_JUST_ARRIVED, MOMENT_FIRST_ANSWER_OVERDUE):  # nobody has answered yet
            status, owner, responded = CaseStatus.NEW, None, None
        elif moment == MOMENT_DONE:
            status, owner = rng.choice([CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.RESOLVED]), agent
            responded = arrived + timedelta(hours=rng.randint(1, 6))
        else:  # being worked, within its clocks or (MOMENT_OVERDUE) past its resolution time
            status, owner = rng.choice([CaseStatus.OPEN, CaseStatus.OPEN, CaseStatus.WAITING_ON_CUSTOMER]), agent
            responded = arrived + timedelta(minutes=rng.randint(20, 5 * 60))
        case = case_open(customer=customer, category=category, channel=rng.choice(CaseChannel.values),
                         subject=f"{CaseCategory(category).label} — order {order.number}", order=order,
                         arrived_at=arrived, owner=owner)
        if status != CaseStatus.NEW:
            resolved = arrived + timedelta(hours=rng.randint(6, 60)) if moment == MOMENT_DONE else None
            Case.objects.filter(pk=case.pk).update(status=status, first_responded_at=responded, resolved_at=resolved)
            CaseEvent.objects.create(case=case, kind=CaseEventKind.STATUS_CHANGED, actor=owner,
                                     occurred_at=resolved or responded, data={"from": "new", "to": status})

    def _generate_voucher(self, i, *, customer_email, currency, days_left):
        """A gift voucher under the current (six-month) rule that expires `days_left` days from today."""
        code = f"GEN-GIFT-{i:05d}"
        if Voucher.objects.filter(code=code).exists():
            return
        rule = self.rules["6"]
        valid_until = self.today + timedelta(days=days_left)
        issued_on = add_months(valid_until, -rule.validity_months)
        voucher_issue(code=code, value=Decimal(50 + (i * 37) % 450), currency=currency,
                      holder=Customer.objects.get(email=customer_email), issued_at=_at(issued_on, 12),
                      validity_rule=rule)
