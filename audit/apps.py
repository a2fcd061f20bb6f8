from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from django.db import connection

        from . import signals  # noqa: F401  (Celery task context)

        if connection.vendor != "postgresql":
            from .services import connect_sqlite_recording

            connect_sqlite_recording()
