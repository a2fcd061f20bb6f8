"""The beat's heartbeat: one row per scheduled scan, written each time the scan runs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScanHeartbeat(models.Model):
    """When a scheduled task last ran (any worker); the dashboard warns managers when it is overdue."""

    task = models.CharField(_("task"), max_length=200, unique=True)
    last_run_at = models.DateTimeField(_("last run at"))
    runs = models.PositiveBigIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("scan heartbeat")
        verbose_name_plural = _("scan heartbeats")

    def __str__(self):
        return f"{self.task} @ {self.last_run_at:%Y-%m-%d %H:%M:%S}"
