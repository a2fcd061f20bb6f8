from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"

    def ready(self):
        from . import checks  # noqa: F401 (registers the settings check)
