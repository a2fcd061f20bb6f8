import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseapp.settings")
application = get_wsgi_application()

from caseapp.checks import require_production_secrets  # noqa: E402  (needs the settings loaded above)

require_production_secrets()  # without DEBUG, a missing or default secret stops gunicorn and runserver here

from django.conf import settings  # noqa: E402

if settings.WEB_DB_CONN_MAX_AGE:
    for _database in settings.DATABASES.values():  # the dicts the connections are made from
        _database.setdefault("CONN_MAX_AGE", 0)
        _database["CONN_MAX_AGE"] = max(_database["CONN_MAX_AGE"], settings.WEB_DB_CONN_MAX_AGE)
