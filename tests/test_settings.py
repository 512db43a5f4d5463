import os
import subprocess
import sys


def _settings_import(env):
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='akun.settings'; django.setup()"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def test_production_refuses_default_secret():
    result = _settings_import({"AKUN_ENV": "production", "AKUN_DEBUG": "0", "AKUN_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "AKUN_SECRET_KEY" in result.stderr


def test_production_starts_with_own_secrets():
    from cryptography.fernet import Fernet

    env = {
        "AKUN_ENV": "production",
        "AKUN_SECRET_KEY": "x" * 50,
        "AKUN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AKUN_ALLOWED_HOSTS": "akun.example",
    }
    result = _settings_import(env)
    assert result.returncode == 0, result.stderr


def test_production_refuses_development_encryption_key():
    result = _settings_import({"AKUN_ENV": "production", "AKUN_SECRET_KEY": "y" * 50})
    assert result.returncode != 0
    assert "AKUN_ENCRYPTION_KEYS" in result.stderr


def test_throttle_budgets_and_proxy_count_refuse_nonsense_naming_the_variable():
    for name in ("AKUN_TRUSTED_PROXY_COUNT", "AKUN_CEK_AKUN_PER_HOUR",
                 "AKUN_CEK_AKUN_PER_SCHOOL_PER_DAY", "AKUN_RESET_PER_HOUR",
                 "AKUN_RESET_PER_SCHOOL_PER_DAY"):  # fmt: skip
        result = _settings_import({name: "0"})
        assert result.returncode != 0 and name in result.stderr, name
    for bad in ("-1", "ten", "1e3", ""):
        result = _settings_import({"AKUN_TRUSTED_PROXY_COUNT": bad})
        assert result.returncode != 0 and "AKUN_TRUSTED_PROXY_COUNT" in result.stderr, bad


def test_throttle_budgets_and_proxy_count_defaults():
    from django.conf import settings

    assert settings.AKUN_TRUSTED_PROXY_COUNT == 1
    assert settings.AKUN_CEK_AKUN_PER_HOUR == 10000
    assert settings.AKUN_CEK_AKUN_PER_SCHOOL_PER_DAY == 100
    assert settings.AKUN_RESET_PER_HOUR == 10000
    assert settings.AKUN_RESET_PER_SCHOOL_PER_DAY == 100
