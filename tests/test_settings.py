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
