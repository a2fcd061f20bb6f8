from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Health"

    def ready(self):
        from . import signals  # noqa: F401  (the beat heartbeat and the request id in tasks)
