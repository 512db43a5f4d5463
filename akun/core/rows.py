"""Model rows on a bare cursor, for the few statements that run on every request.

The ORM spends ~1-3 ms of CPU compiling a query or an INSERT; a sign-in or a token refresh
runs several. These helpers keep the ORM's meaning -- the same columns, the same value
conversions on the way in (pre_save, get_db_prep_save) and out (the backend's and the
field's converters), Model.from_db for instances -- and skip the compile step. Use them
only where a profile says so; everywhere else the ORM is the way.
"""

from functools import cache

from django.db import connection
from django.db.models import signals


def _fields(model, names: tuple[str, ...] | None):
    fields = model._meta.concrete_fields
    if names is None:
        return list(fields)
    missing = set(names) - {f.attname for f in fields}
    if missing:
        raise ValueError(f"{model.__name__} has no columns {sorted(missing)}")
    return [f for f in fields if f.attname in names]  # from_db wants model order


@cache
def _select(model, alias: str, names: tuple[str, ...] | None):
    fields = _fields(model, names)
    qn = connection.ops.quote_name
    sql = ", ".join(f"{alias}.{qn(f.column)}" for f in fields)
    converters = []
    for i, f in enumerate(fields):
        col = f.get_col(alias)
        convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if convs:
            converters.append((i, col, convs))
    return sql, [f.attname for f in fields], converters


def columns(model, alias: str, names: tuple[str, ...] | None = None) -> str:
    """The select list of `model`'s columns (all, or the attnames in `names`) under `alias`."""
    return _select(model, alias, names)[0]


def width(model, names: tuple[str, ...] | None = None) -> int:
    return len(_select(model, "x", names)[1])


def instance(model, values, alias: str = "x", names: tuple[str, ...] | None = None):
    """A model instance from the values of `columns(model, alias, names)`, as the ORM would
    build it (columns not in `names` are deferred and load on first use)."""
    _sql, attnames, converters = _select(model, alias, names)
    values = list(values)
    for i, col, convs in converters:
        for convert in convs:
            values[i] = convert(values[i], col, connection)
    return model.from_db(connection.alias, attnames, values)


@cache
def _insert(model):
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {qn(model._meta.pk.column)}"
    )
    return sql, fields


def plain_save(model) -> bool:
    """Whether saving `model` is just its row: no pre_save or post_save receiver."""
    return not (signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model))


def insert_values(obj) -> list[tuple[str, object]]:
    """(quoted column, parameter) for each column of a new row of obj, as save() would
    write it (pre_save runs: auto_now, token checksums), primary key left to the database."""
    _sql, fields = _insert(type(obj))
    qn = connection.ops.quote_name
    return [(qn(f.column), f.get_db_prep_save(f.pre_save(obj, True), connection)) for f in fields]


def insert(obj) -> None:
    """obj.save() for a new row with an automatic primary key, in one statement on a cursor:
    the same column values (pre_save runs: auto_now, token checksums). With a pre_save or
    post_save receiver connected for the model, the ORM's save() runs instead."""
    model = type(obj)
    if not plain_save(model):
        obj.save(force_insert=True)
        return
    sql, _fields = _insert(model)
    with connection.cursor() as cur:
        cur.execute(sql, [value for _col, value in insert_values(obj)])
        obj.pk = cur.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias
