from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from . import webhooks  # noqa: F401  (connects the anymail tracking receiver)
