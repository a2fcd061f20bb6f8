"""Logging filters.

Django logs every PermissionDenied as a warning *with its traceback* (django.utils.log.log_response passes the
exception as exc_info). An agent opening a manager's page is ordinary, not a fault: keep the one-line warning
("Forbidden (Permission denied): /approvals/"), drop the traceback.
"""

import logging

from django.core.exceptions import PermissionDenied


class PermissionDeniedWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
