"""Production settings (the Docker image): caseapp.settings plus static files collected at build time.

whitenoise serves them from STATIC_ROOT through its compressed manifest storage (hashed names, gzip and brotli
files, far-future cache headers), no finders. The two-command start and the tests keep caseapp.settings, which
serves static files through the finders without a collectstatic step.
"""

from .env import BASE_DIR, env
from .settings import *  # noqa: F403

STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
