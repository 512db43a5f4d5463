"""SQL that names another app's tables goes through that app's api (issue 14): no module of
an app under akun/ names a table of another app, literally or by a model's _meta.db_table.
The owner's api gives SQL fragments instead (akun.roster.sql, akun.accounts.sql,
akun.audit.api.recorded_since)."""

import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
AKUN = ROOT / "akun"
DB_TABLE = re.compile(r"\b(\w+)\._meta\.db_table")


def _owners() -> tuple[dict[str, str], dict[str, str]]:
    """({table: app}, {model class name: app}) for Akun's own apps (akun/<app>)."""
    tables, models = {}, {}
    for model in apps.get_models(include_auto_created=True):
        module = model._meta.app_config.name  # akun.roster
        if module.startswith("akun."):
            app = module.split(".")[1]
            tables[model._meta.db_table] = app
            models[model.__name__] = app
    return tables, models


def foreign_names(app: str, text: str, tables: dict, models: dict) -> list[str]:
    """The other apps' tables that `text` (a module of `app`) names."""
    found = [
        f"{t} ({owner})"
        for t, owner in tables.items()
        if owner != app and re.search(rf"\b{re.escape(t)}\b", text)
    ]
    found += [
        f"{m}._meta.db_table ({models[m]})"
        for m in DB_TABLE.findall(text)
        if m in models and models[m] != app
    ]
    return found


def test_no_app_names_another_apps_tables():
    tables, models = _owners()
    assert {"roster_sekolah", "accounts_account", "audit_auditevent"} <= set(tables)
    offenders = {}
    for path in sorted(AKUN.rglob("*.py")):
        rel = path.relative_to(AKUN)
        if len(rel.parts) < 2 or "migrations" in rel.parts:
            continue  # akun/settings.py, urls.py wire the apps; migrations are history
        found = foreign_names(rel.parts[0], path.read_text(), tables, models)
        if found:
            offenders[str(rel)] = found
    assert offenders == {}, "use the owner's api (its SQL fragments) instead"


def test_the_check_sees_a_table_name_and_a_db_table():
    tables, models = _owners()
    sql = 'f"SELECT s.npsn FROM roster_sekolah s JOIN {Account._meta.db_table} a ON 1=1"'
    assert foreign_names("lifecycle", sql, tables, models) == [
        "roster_sekolah (roster)",
        "Account._meta.db_table (accounts)",
    ]
    # The owner itself may, and a longer name is another name.
    assert foreign_names("roster", "FROM roster_sekolah s", tables, models) == []
    assert foreign_names("lifecycle", "FROM roster_sekolah_x", tables, models) == []


def test_no_api_hands_out_a_bare_table_name():
    """A table name in an api (ROSTER_TABLE = ...) would let other apps write their own SQL
    on it again: the apis give fragments and functions instead."""
    import importlib

    tables, _ = _owners()
    exported = {}
    for app in sorted(set(tables.values())):
        try:
            api = importlib.import_module(f"akun.{app}.api")
        except ModuleNotFoundError:
            continue
        for name in dir(api):
            value = getattr(api, name)
            if isinstance(value, str) and value in tables:
                exported[f"akun.{app}.api.{name}"] = value
    assert exported == {}
