import functools

from django.db import connections, router
from django.db.models import QuerySet

from caseapp.permissions import role_annotations, roles_remember

from .models import ApiToken

# Stands for the hash in the lookup compiled once (a valid hash, so the model's check would accept it; no secret
# hashes to it).
_HASH_PLACEHOLDER = "0" * 64


def api_tokens() -> QuerySet[ApiToken]:
    """Every token, newest first, with who holds, created and revoked it (the managers' page and admin)."""
    return ApiToken.objects.select_related("user", "created_by", "revoked_by").order_by("-created_at", "-id")


@functools.cache
def _active_token_query(alias: str):
    """The SQL of the token lookup (the token, its user and the user's roles in one row), compiled by the ORM once
    per process: building and compiling it was about 2 ms of CPU per API request, more than the query itself."""
    user_model = ApiToken._meta.get_field("user").related_model
    token_fields = [field.attname for field in ApiToken._meta.concrete_fields]
    user_fields = [field.attname for field in user_model._meta.concrete_fields]
    roles = role_annotations("user_id")
    queryset = (ApiToken.objects.using(alias).annotate(**roles).filter(key_hash=_HASH_PLACEHOLDER, revoked_at=None)
                .values_list(*token_fields, *(f"user__{name}" for name in user_fields), *roles))
    compiler = queryset.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    expressions = [expression for expression, _sql, _alias in compiler.select]
    assert len(expressions) == len(token_fields) + len(user_fields) + len(roles)
    return sql, tuple(params), expressions, token_fields, user_model, user_fields, tuple(roles)


def api_token_active(*, key_hash: str) -> ApiToken | None:
    """The unrevoked token with this hash, with its user and the user's roles (roles_of asks no more), in one
    query; None when there is none. The same query as
    ``ApiToken.objects.select_related("user").annotate(**role_annotations("user_id")).filter(...)``, without
    compiling it again for every request."""
    alias = router.db_for_read(ApiToken)
    sql, params, expressions, token_fields, user_model, user_fields, roles = _active_token_query(alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_hash if param == _HASH_PLACEHOLDER else param for param in params])
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    for position, expression in enumerate(expressions):  # what the ORM does to each value (SQLite's datetimes)
        for converter in (*connection.ops.get_db_converters(expression), *expression.get_db_converters(connection)):
            row[position] = converter(row[position], expression, connection)
    token = ApiToken.from_db(alias, token_fields, row[:len(token_fields)])
    token.user = user_model.from_db(alias, user_fields, row[len(token_fields):len(token_fields) + len(user_fields)])
    roles_remember(token.user, dict(zip(roles, row[-len(roles):], strict=True)))
    return token
