"""The audit trail: one event table per tracked model, all in this app.

django-pghistory generates each event model from the tracked model (a snapshot of its columns plus pgh_id,
pgh_created_at, pgh_label, pgh_obj and pgh_context) and registers row-level PostgreSQL triggers on the tracked
model (django-pgtrigger). PGTRIGGER_MIGRATIONS = False keeps those triggers out of the tracked apps' migrations:
`migrate` installs them (PGTRIGGER_INSTALL_ON_MIGRATE), so a QuerySet.update() or a raw SQL fix is recorded
too. Who and why live in pghistory.Context (user, url, task, reason), see audit.context.

On SQLite (the embedded default) there are no triggers: the services write the same rows (audit.services).
"""

import pghistory
from django.contrib.auth import get_user_model

from cases.models import Case, Promise
from customers.models import Customer
from orders.models import Order, Shipment
from policies.models import Budget, PolicyVersion, Remedy
from vouchers.models import Voucher

User = get_user_model()



def _trackers():
    # New instances per model: a tracker keeps the fields of the model it was set up on.
    return pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent()


def _obj_field():
    # No database constraint: the event outlives a deleted row, and the tracked tables stay untouched.
    return pghistory.ObjForeignKey(related_name="audit_events", related_query_name="audit_event", db_constraint=False)


def _event_model(tracked_model, model_name, **kwargs):
    return pghistory.create_event_model(
        tracked_model, *_trackers(), app_label="audit", model_name=model_name, obj_field=_obj_field(),
        append_only=True,  # a trigger refuses UPDATE and DELETE on the events themselves
        **kwargs,
    )


class CustomerAudit(_event_model(Customer, "CustomerAudit")):
    pass


class OrderAudit(_event_model(Order, "OrderAudit")):
    pass


class ShipmentAudit(_event_model(Shipment, "ShipmentAudit")):
    pass


class VoucherAudit(_event_model(Voucher, "VoucherAudit")):
    pass


class CaseAudit(_event_model(Case, "CaseAudit")):
    """Case's primary key is arrival_number: pgh_obj points at it, and the snapshot keeps it as a plain column."""


class PromiseAudit(_event_model(Promise, "PromiseAudit")):
    pass


class RemedyAudit(_event_model(Remedy, "RemedyAudit")):
    pass


class BudgetAudit(_event_model(Budget, "BudgetAudit")):
    pass


class PolicyVersionAudit(_event_model(PolicyVersion, "PolicyVersionAudit")):
    """Versions are immutable except for their activation (is_active, activated_at)."""


class UserAudit(_event_model(User, "UserAudit", exclude=["password", "last_login"])):
    """Staff accounts: is_staff, is_superuser, is_active. Never the password hash; not each login."""


class UserGroupAudit(_event_model(User.groups.through, "UserGroupAudit")):
    """Role changes: a user added to (insert) or removed from (delete) the agent or manager group."""


TRACKED = {
    Customer: CustomerAudit, Order: OrderAudit, Shipment: ShipmentAudit, Voucher: VoucherAudit, Case: CaseAudit,
    Promise: PromiseAudit, Remedy: RemedyAudit, Budget: BudgetAudit, PolicyVersion: PolicyVersionAudit,
    User: UserAudit, User.groups.through: UserGroupAudit,
}
