"""The other apps' choice labels (plain strings in their models), marked here so the dashboard translates them.

Templates show them with {% translate case.get_status_display %}; makemessages finds them in this file.
"""

from django.utils.translation import gettext_noop

CHOICE_LABELS = [
    # cases.CaseStatus
    gettext_noop("New"), gettext_noop("Open"), gettext_noop("Waiting on shop"), gettext_noop("Waiting on customer"),
    gettext_noop("Resolved"), gettext_noop("Closed"),
    # cases.CaseCategory
    gettext_noop("Voucher expired"), gettext_noop("Late delivery"), gettext_noop("Lost parcel"),
    gettext_noop("Wrong item"), gettext_noop("Incomplete order"), gettext_noop("Defective item"),
    gettext_noop("COD mismatch"), gettext_noop("Not collected"), gettext_noop("Broken promise"),
    gettext_noop("Other"),
    # cases.CaseChannel
    gettext_noop("Email"), gettext_noop("Phone"), gettext_noop("Counter"), gettext_noop("Web"),
    gettext_noop("Detected by the system"),
    # cases.CaseEventKind
    gettext_noop("Case opened"), gettext_noop("Email received"), gettext_noop("Email sent"), gettext_noop("Call"),
    gettext_noop("Status changed"), gettext_noop("Owner changed"), gettext_noop("Promise made"),
    gettext_noop("Promise kept"), gettext_noop("Promise broken"), gettext_noop("Remedy proposed"),
    gettext_noop("Remedy applied"), gettext_noop("Remedy approved"), gettext_noop("Remedy rejected"),
    gettext_noop("Notification failed"),
    # policies.RemedyKind, RemedyStatus, Budget
    gettext_noop("Extend voucher"), gettext_noop("Discount"), gettext_noop("Refund"),
    gettext_noop("Replacement shipment"), gettext_noop("Absorb cost"), gettext_noop("Correct COD amount"),
    gettext_noop("Free item"), gettext_noop("Call-back promise"), gettext_noop("Manager override"),
    gettext_noop("Waiting for approval"), gettext_noop("Approved"), gettext_noop("Applied"),
    gettext_noop("Rejected"), gettext_noop("Marketing"), gettext_noop("Customer care"), gettext_noop("Logistics"),
    gettext_noop("Quality (shop's own mistakes)"),
    # vouchers.VoucherStatus, orders.ShipmentStatus
    gettext_noop("Active"), gettext_noop("Redeemed"), gettext_noop("Expired"), gettext_noop("Extended"),
    gettext_noop("Void"), gettext_noop("Created"), gettext_noop("In transit"), gettext_noop("Delayed"),
    gettext_noop("Delivered"), gettext_noop("Lost"), gettext_noop("Returned"), gettext_noop("Refused"),
    # orders.PaymentMethod
    gettext_noop("Card"), gettext_noop("Cash on delivery"), gettext_noop("Bank transfer"),
]
