"""Shipments: late or at risk (with the date-critical escalation), COD mismatches, uncollected COD parcels."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from caseapp import formatting
from cases.models import OPEN_STATUSES, Case, CaseCategory, CaseChannel, CaseEventKind
from cases.services import case_event_append, case_open, cod_correction_promise_key, promise_record
from cases.timeline import say, say_text
from orders.models import PaymentMethod, Shipment, ShipmentEvent, ShipmentStatus
from policies.models import RemedyStatus
from staff.selectors import staff_language

from .. import catalogue
from ..models import Detection, DetectionKind, LateReason
from ..remedies import late_delivery_discount_apply
from ..selectors import end_of_day, local_today, manager_pick, staff_recipients
from ..services import message_queue

logger = logging.getLogger(__name__)

ON_THE_WAY = (ShipmentStatus.CREATED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELAYED, ShipmentStatus.REFUSED)
TRACKED = (ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELAYED)
COURIER_TROUBLE = (ShipmentStatus.DELAYED, ShipmentStatus.REFUSED)
NOT_HANDED_OVER = "date_critical_not_handed_over"


def _silence_cutoff(now: datetime) -> datetime:
    return now - timedelta(hours=settings.NOTIFICATIONS_SHIPMENT_SILENT_HOURS)


def _recent(now: datetime) -> Q:
    """Only orders placed within the look-back window: a first deployment does not apologise for last year."""
    return Q(order__placed_at__gte=now - timedelta(days=settings.NOTIFICATIONS_LOOKBACK_DAYS))


def _not_detected(kind: str):
    return ~Exists(Detection.objects.filter(shipment=OuterRef("pk"), kind=kind))


def late_shipments_queryset(*, now: datetime):
    cutoff = _silence_cutoff(now)
    heard_of = Exists(ShipmentEvent.objects.filter(shipment=OuterRef("pk"), occurred_at__gte=cutoff))
    late = (
        Q(estimated_delivery__gt=F("order__promised_delivery_date"))
        | Q(order__promised_delivery_date__lt=timezone.localdate(now))
        | Q(status__in=COURIER_TROUBLE)
        | (Q(status__in=TRACKED, handed_over_at__lt=cutoff) & ~heard_of)
    )
    # A date-critical parcel not yet with the courier the day before: not late yet, but at risk.
    at_risk = Q(order__is_date_critical=True, status=ShipmentStatus.CREATED, handed_over_at__isnull=True,
                order__promised_delivery_date__lte=timezone.localdate(now) + timedelta(days=1))
    # An escalated date-critical parcel is the staff's while they still have time to act: not handled again until then.
    staff_acting = Exists(Detection.objects.filter(
        shipment=OuterRef("pk"), kind=DetectionKind.DATE_CRITICAL,
        detected_at__gt=now - timedelta(hours=settings.NOTIFICATIONS_DATE_CRITICAL_ACT_HOURS)))
    return Shipment.objects.filter(_recent(now), status__in=ON_THE_WAY).filter(
        (late & _not_detected(DetectionKind.LATE_SHIPMENT)) | (at_risk & _not_detected(DetectionKind.DATE_CRITICAL))
    ).exclude(_superseded()).exclude(staff_acting)


def _superseded() -> Q:
    """An original shipment whose order has a replacement (e.g. the special delivery of a date-critical order):
    the replacement carries the order now, and is tracked on its own."""
    return Q(is_replacement=False) & Exists(Shipment.objects.filter(order=OuterRef("order"), is_replacement=True))


def shipment_late_reasons(shipment: Shipment, *, now: datetime) -> list[str]:
    """Why this shipment is late or at risk (empty: it is not). The same tests as late_shipments_queryset."""
    if (shipment.status not in ON_THE_WAY
            or shipment.order.placed_at < now - timedelta(days=settings.NOTIFICATIONS_LOOKBACK_DAYS)):
        return []
    promised = shipment.order.promised_delivery_date
    reasons = []
    if promised and shipment.estimated_delivery and shipment.estimated_delivery > promised:
        reasons.append("estimated_after_promised")
    if promised and promised < timezone.localdate(now):
        reasons.append("promised_date_passed")
    if shipment.status in COURIER_TROUBLE:
        reasons.append(f"courier_{shipment.status}")
    cutoff = _silence_cutoff(now)
    if (shipment.status in TRACKED and shipment.handed_over_at and shipment.handed_over_at < cutoff
            and not shipment.events.filter(occurred_at__gte=cutoff).exists()):
        reasons.append("no_tracking_event")
    if (shipment.order.is_date_critical and shipment.status == ShipmentStatus.CREATED and not shipment.handed_over_at
            and promised and promised <= timezone.localdate(now) + timedelta(days=1)):
        reasons.append(NOT_HANDED_OVER)
    return reasons


def late_new_date(shipment: Shipment, *, today):
    """The date to promise in the apology: the courier's estimate if it is still ahead and after the broken
    promise, otherwise a few days from now (never the day already broken)."""
    promised = shipment.order.promised_delivery_date
    estimated = shipment.estimated_delivery
    if estimated and estimated > today and (promised is None or estimated > promised):
        return estimated
    fallback = today + timedelta(days=settings.NOTIFICATIONS_LATE_NEW_DATE_DAYS)
    return max(fallback, promised + timedelta(days=1)) if promised else fallback


def _title(msgid: str, **params) -> tuple[str, dict]:
    """A case title in the site's language, built from translated labels (never codes), and the same as data for
    the timeline, which shows it in each reader's language."""
    message = say(msgid, **params)
    return say_text(message), message


def _reasons_in(language: str, reasons: list[str]) -> str:
    with translation.override(language):
        return ", ".join(formatting.label(LateReason, reason) for reason in reasons)


def _case_for(*, shipment: Shipment, category: str, subject, detection: dict) -> Case:
    """Attach to the order's open case of this category, or open a system-detected one. ``subject`` is a title
    from _title (text, message)."""
    subject, message = subject
    detection = {**detection, "say": message}
    order = shipment.order
    case = (
        Case.objects.select_for_update().filter(order=order, category=category, status__in=OPEN_STATUSES)
        .order_by("arrived_at", "arrival_number").first()
    )
    if case is not None:
        case_event_append(case=case, kind=CaseEventKind.DETECTED, text=subject, data=detection)
        return case
    return case_open(
        customer=order.customer, category=category, channel=CaseChannel.SYSTEM, subject=subject,
        order=order, shipment=shipment, detection=detection,
    )


def _lock_shipment(shipment_id: int) -> Shipment | None:
    return (
        Shipment.objects.select_for_update(of=("self",)).select_related("order__customer", "courier")
        .filter(pk=shipment_id).first()
    )


def _staff_context(case: Case) -> dict:
    return {"case_number": case.pk, "customer_name": case.customer.name, "customer_email": case.customer.email}


@transaction.atomic
def late_shipment_handle(*, shipment_id: int, now: datetime | None = None) -> Detection | None:
    """A late or at-risk shipment: a system case, the customer's apology with a new date and the policy's discount,
    and for a date-critical order an escalation to the case owner and a manager. Once per shipment."""
    now = now or timezone.now()
    shipment = _lock_shipment(shipment_id)  # concurrent handlers of one shipment wait here, then find it done
    if shipment is None:
        return None
    reasons = shipment_late_reasons(shipment, now=now)
    if not reasons or Shipment.objects.filter(pk=shipment.pk).filter(_superseded()).exists():
        return None
    order, customer = shipment.order, shipment.order.customer
    if reasons == [NOT_HANDED_OVER]:  # at risk, not late: the staff can still act; the customer need not hear yet
        if Detection.objects.filter(shipment=shipment, kind=DetectionKind.DATE_CRITICAL).exists():
            return None
        case = _case_for(shipment=shipment, category=CaseCategory.LATE_DELIVERY,
                         subject=_title(gettext_noop("Date-critical order %(order)s is not with the courier yet"),
                                        order=order.number),
                         detection={"detector": "late_shipment", "shipment_id": shipment.pk, "reasons": reasons})
        return date_critical_escalate(case=case, shipment=shipment, reasons=reasons, now=now)
    if Detection.objects.filter(shipment=shipment, kind=DetectionKind.LATE_SHIPMENT).exists():
        return None
    today = local_today(now, customer.time_zone)
    if order.is_date_critical and order.promised_delivery_date and order.promised_delivery_date >= today:
        # It can still be saved: the first move is the shop's (escalate; absorb a special delivery). No apology
        # with a date after the occasion, no discount for a delivery that may yet arrive on the day.
        return date_critical_first_move(shipment=shipment, reasons=reasons, now=now)
    new_date = late_new_date(shipment, today=today)
    detection_data = {
        "detector": "late_shipment", "shipment_id": shipment.pk, "order": order.number, "reasons": reasons,
        "promised_delivery_date": order.promised_delivery_date.isoformat() if order.promised_delivery_date else None,
        "estimated_delivery": shipment.estimated_delivery.isoformat() if shipment.estimated_delivery else None,
        "new_date": new_date.isoformat(), "courier_status": shipment.status,
    }
    case = _case_for(shipment=shipment, category=CaseCategory.LATE_DELIVERY,
                     subject=_title(gettext_noop("Order %(order)s is late or at risk: %(reasons)s"),
                                    order=order.number, reasons={"labels": ["late_reason", reasons]}),
                     detection=detection_data)
    detection = Detection.objects.create(
        key=f"late_shipment:{shipment.pk}", kind=DetectionKind.LATE_SHIPMENT, case=case, shipment=shipment,
        data=detection_data, detected_at=now,
    )
    discount = {}
    try:
        with transaction.atomic():  # a discount that cannot be applied must not hold back the apology
            remedy = late_delivery_discount_apply(case)
    except (ValidationError, PermissionDenied) as exc:
        remedy = None
        reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        logger.warning("Late-delivery discount on case %s not applied: %s", case.pk, reason)
        case_event_append(case=case, kind=CaseEventKind.NOTE, occurred_at=now,
                          text=f"The late-delivery discount could not be applied automatically: {reason}",
                          data={"discount_failed": reason})
    if remedy is not None and remedy.status == RemedyStatus.APPLIED:
        discount = {"discount_amount": str(remedy.amount), "discount_currency": remedy.currency}
        voucher_code = remedy.parameters.get("voucher_code")
        if voucher_code:
            discount["discount_voucher_code"] = voucher_code
    owner = case.owner or manager_pick()
    if owner is not None:
        promise_record(
            case=case, description=f"Deliver order {order.number} by {new_date:%Y-%m-%d} (new date given in the "
                                   f"apology)",
            due_at=end_of_day(new_date, customer.time_zone), owner=owner, made_by_name="caseapp", made_at=now,
        )
    message, _ = message_queue(
        recipient=customer.email, template=catalogue.LATE_DELIVERY_APOLOGY,
        idempotency_key=f"late-apology:{shipment.pk}", case=case,
        language=customer.preferred_language, time_zone=customer.time_zone,
        context={
            "customer_name": customer.name, "order_number": order.number, "new_date": new_date.isoformat(),
            "promised_date": order.promised_delivery_date.isoformat() if order.promised_delivery_date else None,
            "courier": shipment.courier.name, "tracking_number": shipment.tracking_number, **discount,
        },
    )
    said = say(gettext_noop("Apology with the new date %(date)s queued to %(email)s"),
               date={"date": new_date.isoformat()}, email=customer.email)
    case_event_append(case=case, kind=CaseEventKind.EMAIL_OUT, occurred_at=now, text=say_text(said),
                      data={"message_id": message.pk, **discount, "say": said})
    if order.is_date_critical:
        date_critical_escalate(case=case, shipment=shipment, reasons=reasons, now=now)
    return detection


PERSON_ACTS = (CaseEventKind.EMAIL_OUT, CaseEventKind.CALL, CaseEventKind.REMEDY_APPLIED,
               CaseEventKind.REMEDY_PROPOSED)


def date_critical_first_move(*, shipment: Shipment, reasons: list[str], now: datetime) -> Detection | None:
    """A late date-critical parcel that can still arrive on the day: escalate to the staff at once; if nobody has
    acted on the case NOTIFICATIONS_DATE_CRITICAL_ACT_HOURS later, tell the customer it is at risk, without
    promising a date after the occasion (the scan comes back every few minutes until then)."""
    order, customer = shipment.order, shipment.order.customer
    escalation = Detection.objects.filter(shipment=shipment, kind=DetectionKind.DATE_CRITICAL).first()
    if escalation is None:
        case = _case_for(shipment=shipment, category=CaseCategory.LATE_DELIVERY,
                         subject=_title(gettext_noop("Date-critical order %(order)s is late or at risk: %(reasons)s"),
                                        order=order.number, reasons={"labels": ["late_reason", reasons]}),
                         detection={"detector": "late_shipment", "shipment_id": shipment.pk, "reasons": reasons})
        return date_critical_escalate(case=case, shipment=shipment, reasons=reasons, now=now)
    case = escalation.case
    if now < escalation.detected_at + timedelta(hours=settings.NOTIFICATIONS_DATE_CRITICAL_ACT_HOURS):
        return None
    if case.events.filter(kind__in=PERSON_ACTS, actor__isnull=False, occurred_at__gte=escalation.detected_at).exists():
        return None  # a person is on it: the customer hears from them
    message, created = message_queue(
        recipient=customer.email, template=catalogue.LATE_DELIVERY_APOLOGY,
        idempotency_key=f"date-critical-notice:{shipment.pk}", case=case,
        language=customer.preferred_language, time_zone=customer.time_zone,
        context={"customer_name": customer.name, "order_number": order.number, "new_date": None,
                 "promised_date": order.promised_delivery_date.isoformat(), "courier": shipment.courier.name,
                 "tracking_number": shipment.tracking_number, "at_risk": True},
    )
    if created:
        case_event_append(case=case, kind=CaseEventKind.EMAIL_OUT, occurred_at=now,
                          text=f"Nobody acted in time: a note that the parcel may miss "
                               f"{order.promised_delivery_date:%Y-%m-%d} (no new date) queued to {customer.email}",
                          data={"message_id": message.pk, "at_risk": True})
    return None


def date_critical_escalate(*, case: Case, shipment: Shipment, reasons: list[str], now: datetime) -> Detection | None:
    """Tell the case owner and a manager at once, with the time left before the date that matters."""
    order, customer = shipment.order, shipment.order.customer
    if Detection.objects.filter(shipment=shipment, kind=DetectionKind.DATE_CRITICAL).exists():
        return None
    deadline = end_of_day(order.promised_delivery_date, customer.time_zone)
    hours_left = max(int((deadline - now).total_seconds() // 3600), 0)
    recipients = staff_recipients(case.owner, manager_pick(exclude=[case.owner]))
    detection = Detection.objects.create(
        key=f"date_critical:{shipment.pk}", kind=DetectionKind.DATE_CRITICAL, case=case, shipment=shipment,
        data={"hours_left": hours_left, "deadline": deadline.isoformat(), "reasons": reasons,
              "alerted": [user.get_username() for user in recipients]},
        detected_at=now,
    )
    for user in recipients:
        message_queue(
            recipient=user.email, template=catalogue.DATE_CRITICAL_ESCALATION,
            idempotency_key=f"date-critical:{shipment.pk}:{user.pk}", case=case,
            language=staff_language(user), time_zone=settings.TIME_ZONE,
            context={
                **_staff_context(case), "staff_name": user.get_full_name() or user.get_username(),
                "order_number": order.number, "occasion": order.occasion,
                "promised_date": order.promised_delivery_date.isoformat(), "deadline_at": deadline.isoformat(),
                "hours_left": hours_left, "reasons": _reasons_in(staff_language(user), reasons),
                "courier": shipment.courier.name,
                "courier_phone": shipment.courier.claims_phone, "tracking_number": shipment.tracking_number,
            },
        )
    message = say(gettext_noop("Date-critical order %(order)s: %(hours)s h left; escalated to %(names)s"),
                  order=order.number, hours=hours_left, names={"names": [user.get_username() for user in recipients]})
    case_event_append(
        case=case, kind=CaseEventKind.DETECTED, occurred_at=now, text=say_text(message),
        data={"escalation": "date_critical", "hours_left": hours_left, "say": message},
    )
    return detection


def cod_mismatches_queryset(*, now: datetime):
    return Shipment.objects.filter(
        _recent(now),
        status__in=ON_THE_WAY, cod_amount__isnull=False, order__payment_method=PaymentMethod.CASH_ON_DELIVERY,
    ).exclude(cod_amount=F("order__cod_quoted_amount")).filter(_not_detected(DetectionKind.COD_MISMATCH))


@transaction.atomic
def cod_mismatch_handle(*, shipment_id: int, now: datetime | None = None) -> Detection | None:
    """A label amount different from the quote: a case and a promise (task) to have the courier correct it."""
    now = now or timezone.now()
    shipment = _lock_shipment(shipment_id)
    if shipment is None or Detection.objects.filter(shipment=shipment, kind=DetectionKind.COD_MISMATCH).exists():
        return None
    order = shipment.order
    if (shipment.status not in ON_THE_WAY or order.payment_method != PaymentMethod.CASH_ON_DELIVERY
            or shipment.cod_amount is None or shipment.cod_amount == order.cod_quoted_amount):
        return None
    label, quoted = shipment.cod_amount, order.cod_quoted_amount
    data = {"detector": "cod_mismatch", "shipment_id": shipment.pk, "order": order.number,
            "label_amount": str(label), "quoted_amount": str(quoted), "currency": order.currency}
    case = _case_for(shipment=shipment, category=CaseCategory.COD_MISMATCH,
                     subject=_title(gettext_noop("COD on the label %(label)s differs from the quoted %(quoted)s "
                                                 "(%(order)s)"), label={"money": [str(label), order.currency]},
                                    quoted={"money": [str(quoted), order.currency]}, order=order.number),
                     detection=data)
    detection = Detection.objects.create(key=f"cod_mismatch:{shipment.pk}", kind=DetectionKind.COD_MISMATCH,
                                         case=case, shipment=shipment, data=data, detected_at=now)
    owner = case.owner or manager_pick()
    if owner is None:
        logger.warning("COD mismatch on case %s: no owner nor manager to give the correction task to", case.pk)
        return detection
    due_at = now + timedelta(hours=settings.NOTIFICATIONS_COD_FIX_HOURS)
    if shipment.estimated_delivery:  # before the courier knocks on the door
        delivery_day_starts = end_of_day(shipment.estimated_delivery - timedelta(days=1), order.customer.time_zone)
        due_at = max(min(due_at, delivery_day_starts), now)
    promise = promise_record(
        case=case, owner=owner, made_by_name="caseapp", made_at=now, due_at=due_at,
        key=cod_correction_promise_key(shipment),
        description=f"Have {shipment.courier.name} change the COD amount of {shipment.tracking_number} from "
                    f"{label} to {quoted} {order.currency} before delivery",
    )
    if not owner.email:
        return detection
    message_queue(
        recipient=owner.email, template=catalogue.COD_CORRECTION_TASK, case=case,
        idempotency_key=f"cod-task:{shipment.pk}", language=staff_language(owner), time_zone=settings.TIME_ZONE,
        context={
            **_staff_context(case), "staff_name": owner.get_full_name() or owner.get_username(),
            "order_number": order.number, "label_amount": str(label), "quoted_amount": str(quoted),
            "currency": order.currency, "courier": shipment.courier.name,
            "courier_phone": shipment.courier.claims_phone, "courier_email": shipment.courier.claims_email,
            "tracking_number": shipment.tracking_number, "due_at": promise.due_at.isoformat(),
        },
    )
    return detection


def uncollected_parcels_queryset(*, now: datetime):
    return Shipment.objects.filter(_recent(now), status=ShipmentStatus.NOT_COLLECTED).filter(
        _not_detected(DetectionKind.NOT_COLLECTED)
    )


@transaction.atomic
def uncollected_parcel_handle(*, shipment_id: int, now: datetime | None = None) -> Detection | None:
    """A COD parcel nobody collected: a case and a friendly message. No blacklist: people fall ill or travel."""
    now = now or timezone.now()
    shipment = _lock_shipment(shipment_id)
    if (shipment is None or shipment.status != ShipmentStatus.NOT_COLLECTED
            or Detection.objects.filter(shipment=shipment, kind=DetectionKind.NOT_COLLECTED).exists()):
        return None
    order, customer = shipment.order, shipment.order.customer
    data = {"detector": "not_collected", "shipment_id": shipment.pk, "order": order.number}
    case = _case_for(shipment=shipment, category=CaseCategory.NOT_COLLECTED,
                     subject=_title(gettext_noop("Parcel for order %(order)s was not collected"), order=order.number),
                     detection=data)
    detection = Detection.objects.create(key=f"not_collected:{shipment.pk}", kind=DetectionKind.NOT_COLLECTED,
                                         case=case, shipment=shipment, data=data, detected_at=now)
    message, _ = message_queue(
        recipient=customer.email, template=catalogue.NOT_COLLECTED, idempotency_key=f"not-collected:{shipment.pk}",
        case=case, language=customer.preferred_language, time_zone=customer.time_zone,
        context={"customer_name": customer.name, "order_number": order.number, "courier": shipment.courier.name,
                 "tracking_number": shipment.tracking_number},
    )
    said = say(gettext_noop("Friendly note about the uncollected parcel queued to %(email)s"), email=customer.email)
    case_event_append(case=case, kind=CaseEventKind.EMAIL_OUT, occurred_at=now, text=say_text(said),
                      data={"message_id": message.pk, "say": said})
    return detection
