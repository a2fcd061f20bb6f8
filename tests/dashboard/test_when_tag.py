"""{% when %} writes what Django's date format writes, without parsing the format on every call."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from caseapp import formatting
from dashboard.templatetags.dashboard_tags import when


def _reference(value, fmt):
    local = timezone.localtime(value)
    shown = formatting.datetime_brief(value) if fmt == "d M H:i" else date_format(local, fmt)
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(),
                       date_format(local, "Y-m-d H:i T"), shown)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("language", ["en", "nl", "de"])
def test_when_is_the_date_formats_html_in_every_zone_and_around_the_clock_changes(zone, language):
    # 2026-10-25 00:00-02:00 UTC covers Amsterdam's repeated hour (Django's "T" is empty there), 03-29 its skipped one
    moments = [datetime(2026, 10, 25, tzinfo=UTC) + timedelta(minutes=m) for m in range(0, 180, 7)]
    moments += [datetime(2026, 3, 29, tzinfo=UTC) + timedelta(minutes=m) for m in range(0, 180, 7)]
    moments += [datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2027, 1, 1, 8, 5, 31, tzinfo=UTC)]
    with timezone.override(ZoneInfo(zone)), translation.override(language):
        for moment in moments:
            for fmt in ("Y-m-d H:i", "d M H:i", "Y-m-d", "H:i"):
                assert when(moment, fmt) == _reference(moment, fmt)
    assert when(None) == ""
