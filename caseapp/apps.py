from django.apps import AppConfig


class CaseappConfig(AppConfig):
    """The project itself as an app: registers its system checks (caseapp.checks)."""

    name = "caseapp"
    verbose_name = "caseapp"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks of the production secrets)
