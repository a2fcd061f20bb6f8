import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")
application = get_asgi_application()

from caseapp.checks import require_production_secrets  # noqa: E402  (needs the settings loaded above)

require_production_secrets()  # without DEBUG, a missing or default secret stops the server here
