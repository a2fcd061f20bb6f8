"""CASEAPP_SURVEY names case categories: a misspelt one would silently fall back to the default."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def survey_settings_check(app_configs, **kwargs):
    from cases.models import CaseCategory

    unknown = sorted(set(settings.CASEAPP_SURVEY) - {"default", *CaseCategory.values})
    if unknown:
        return [Error(f"CASEAPP_SURVEY names unknown case categories: {', '.join(unknown)}",
                      hint=f"Use 'default' or one of: {', '.join(CaseCategory.values)}.", id="surveys.E001")]
    return []
