"""/health/live (the process answers) and /health/ready (database, migrations, broker). No login: for load
balancers and orchestrators; they say what failed, never a secret."""

import logging

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import checks

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    failed = {}
    database = checks.database_problem()
    if database:
        failed["database"] = database
    else:
        migrations = checks.migrations_problem()
        if migrations:
            failed["migrations"] = migrations
    broker = checks.broker_problem()
    if broker:
        failed["broker"] = broker
    if failed:
        logger.warning("not ready: %s", failed)
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    return JsonResponse({"status": "ok", "checks": ["database", "migrations", "broker"]})
