"""The SQLite path: without triggers, the audit events are written from Django's save and delete signals.

Weaker than the PostgreSQL triggers, and the README says so: a QuerySet.update(), a bulk_create, a raw SQL
statement or a role change through groups.add() leaves no event here. On PostgreSQL nothing in this module
runs (the triggers write every event, whatever the code path).
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from pghistory.models import Context

from .context import current, current_id


@transaction.atomic
def audit_record(*, obj, label: str):
    """Write one event (insert, update or delete) for obj with the current context, as the trigger would."""
    from .models import TRACKED

    event_model = TRACKED[type(obj)]
    context_id = None
    if current() is not None:
        context, created = Context.objects.get_or_create(id=current_id(), defaults={"metadata": current()})
        if not created and context.metadata != current():
            context.metadata = current()
            context.save(update_fields=["metadata", "updated_at"])
        context_id = context.id
    tracked = {field.attname for field in obj._meta.concrete_fields}
    values = {
        field.attname: getattr(obj, field.attname)
        for field in event_model._meta.concrete_fields
        if not field.name.startswith("pgh_") and field.attname in tracked
    }
    return event_model.objects.create(
        pgh_label=label, pgh_created_at=timezone.now(), pgh_obj_id=obj.pk, pgh_context_id=context_id, **values
    )


def _saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    from .models import TRACKED

    if raw:
        return
    if update_fields is not None:  # like the trigger: a save of untracked columns only (last_login) is no event
        tracked = {field.name for field in TRACKED[sender]._meta.fields}
        if not set(update_fields) & tracked:
            return
    audit_record(obj=instance, label="insert" if created else "update")


def _deleted(sender, instance, **kwargs):
    audit_record(obj=instance, label="delete")


def connect_sqlite_recording():
    from .models import TRACKED

    for model in TRACKED:
        if model._meta.auto_created:  # the groups through table: groups.add() sends no post_save
            continue
        post_save.connect(_saved, sender=model, dispatch_uid=f"audit_saved_{model._meta.label}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"audit_deleted_{model._meta.label}")
