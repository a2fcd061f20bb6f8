import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")
application = get_wsgi_application()

from caseapp.checks import require_production_secrets  # noqa: E402  (needs the settings loaded above)

require_production_secrets()  # without DEBUG, a missing or default secret stops gunicorn and runserver here
