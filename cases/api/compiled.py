"""The case list's page query, compiled once per process and shape (issue 15, round 2).

Building the list's queryset (``.values()`` with two joined columns, the cursor's ordering, its position filter and
the page slice) and compiling it to SQL cost more CPU than PostgreSQL spends running it. A plain page (no filter:
the first page and every page reached by the cursor) has few shapes: the ordering, whether the cursor holds a
position (and which comparison), the offset and the page size. ``CompiledCaseList`` stands in for the queryset
while DRF's OrderingFilter and CursorPagination call ``order_by``, ``filter(<field>__gt/__lt=position)`` and slice
it; it records the shape, and the first time a shape is seen the ORM builds and compiles the very same queryset. Later
requests reuse that SQL with the new position as the only parameter. Anything else falls back to the ORM queryset.
"""

from django.db import connections

from cases.models import Case

_SHAPES: dict = {}  # shape -> (sql, column names); bounded by _MAX_SHAPES
_MAX_SHAPES = 512


class CompiledCaseList:
    model = Case

    def __init__(self, build, ordering=(), position=None, using="default"):
        self._build = build  # () -> the ORM queryset (values rows) the list would run
        self._ordering = tuple(ordering)
        self._position = position  # (lookup, raw value, db value) or None
        self._using = using

    def _clone(self, **changes):
        state = {"ordering": self._ordering, "position": self._position, "using": self._using, **changes}
        return CompiledCaseList(self._build, **state)

    def _queryset(self):
        queryset = self._build()
        if self._ordering:
            queryset = queryset.order_by(*self._ordering)
        if self._position is not None:
            queryset = queryset.filter(**{self._position[0]: self._position[1]})
        return queryset

    def none(self):
        return self._build().none()

    def order_by(self, *fields):
        return self._clone(ordering=fields)

    def filter(self, **kwargs):
        (lookup, value), = kwargs.items()  # CursorPagination's position: one field, __gt or __lt
        name, _, comparison = lookup.rpartition("__")
        if self._position is not None or comparison not in ("gt", "lt"):
            raise TypeError(f"CompiledCaseList does not filter by {lookup}")
        field = Case._meta.get_field(name)
        db_value = field.get_db_prep_value(value, connections[self._using], prepared=False)
        return self._clone(position=(lookup, value, db_value))

    def __getitem__(self, item):
        if not isinstance(item, slice) or item.step is not None:
            raise TypeError("CompiledCaseList only slices")
        start, stop = item.start or 0, item.stop
        shape = (self._ordering, self._position[0] if self._position else None, start, stop)
        compiled = _SHAPES.get(shape)
        if compiled is None:
            queryset = self._queryset()[start:stop]
            compiled = _compile(queryset)
            if compiled is None:
                return list(queryset)
            if len(_SHAPES) < _MAX_SHAPES:
                _SHAPES[shape] = compiled
        sql, names = compiled
        params = (self._position[2],) if self._position else ()
        with connections[self._using].cursor() as cursor:
            cursor.execute(sql, params)
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _compile(queryset):
    """The queryset's SQL and row keys, or None when its rows need a converter or it has other parameters than the
    cursor's position (then it is not reused)."""
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    expected = 1 if query.where else 0
    if len(params) != expected or compiler.get_converters([col for col, _, _ in compiler.select]):
        return None
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    if len(names) != len(compiler.select):
        return None
    return sql, names
