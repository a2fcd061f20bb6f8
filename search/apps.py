from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _register_sqlite_functions(sender, connection, **kwargs):
    """The folds the PostgreSQL migration creates as SQL functions, for the embedded SQLite."""
    if connection.vendor != "sqlite":
        return
    from . import normalize

    raw = connection.connection
    raw.create_function("caseapp_ident", 1, normalize.ident, deterministic=True)
    raw.create_function("caseapp_fold", 1, normalize.fold, deterministic=True)
    raw.create_function("caseapp_phone_key", 1, normalize.phone_key, deterministic=True)


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        connection_created.connect(_register_sqlite_functions, dispatch_uid="search_sqlite_functions")
