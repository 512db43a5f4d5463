import base64
import os
import subprocess
import sys

import pytest

# Strong values, made the way `akun secrets generate` makes them.
GOOD_SECRET = "q8R-2vYk_Lw7ZpT0sNcXe4HbJm9UdFa1Gi6Ko3Vr5Ct-Py_Ex8Wn2Qj7Mh0Bz4Su"
GOOD_KEY = "lB7xQm2Zr9T0vN4kWc1Yh8Jp3Ds6Ga5Ef-Ui_Ko7Rt0="
ZERO_KEY = base64.urlsafe_b64encode(bytes(32)).decode()


def _settings_import(env):
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='akun.settings'; django.setup()"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def _production(**env):
    return {
        "AKUN_ENV": "production",
        "AKUN_DEBUG": "0",
        "AKUN_SECRET_KEY": GOOD_SECRET,
        "AKUN_ENCRYPTION_KEYS": GOOD_KEY,
        "AKUN_ALLOWED_HOSTS": "akun.example",
        **env,
    }


def test_production_refuses_default_secret():
    result = _settings_import({"AKUN_ENV": "production", "AKUN_DEBUG": "0", "AKUN_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "AKUN_SECRET_KEY" in result.stderr


def test_production_starts_with_own_secrets():
    from cryptography.fernet import Fernet

    env = _production(AKUN_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    result = _settings_import(env)
    assert result.returncode == 0, result.stderr


def test_production_refuses_development_encryption_key():
    env = _production()
    del env["AKUN_ENCRYPTION_KEYS"]
    result = _settings_import(env)
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


@pytest.mark.parametrize(
    "secret",
    [
        "akun-development-secret-do-not-use-in-production ",  # the dev secret, padded
        " akun-development-secret-do-not-use-in-production",
        "AKUN-DEVELOPMENT-SECRET-DO-NOT-USE-IN-PRODUCTION",
        "a" * 32,
        "x" * 50,
        "ab" * 40,  # long, but one short pattern repeated
        "0123456789abcdef" * 4,
        GOOD_SECRET + " ",  # surrounding space: a copy-paste slip
    ],
)
def test_production_refuses_weak_secret_keys(secret):
    result = _settings_import(_production(AKUN_SECRET_KEY=secret))
    assert result.returncode != 0, secret
    assert "AKUN_SECRET_KEY" in result.stderr
    assert "akun secrets generate" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        ZERO_KEY,
        base64.urlsafe_b64encode(b"\xff" * 32).decode(),
        base64.urlsafe_b64encode(b"0123456789abcdef" * 2).decode(),  # text, not random bytes
        base64.urlsafe_b64encode(b"correct horse battery staple!!!!").decode(),
        base64.urlsafe_b64encode(b"sixteen bytes!!!").decode(),  # too short (16 bytes)
        "not base64 at all!",
        f"{GOOD_KEY},{ZERO_KEY}",  # every listed key counts, old ones too
    ],
)
def test_production_refuses_weak_encryption_keys(key):
    result = _settings_import(_production(AKUN_ENCRYPTION_KEYS=key))
    assert result.returncode != 0, key
    assert "AKUN_ENCRYPTION_KEYS" in result.stderr
    assert "akun secrets generate" in result.stderr


def test_secrets_generate_prints_keys_that_production_accepts():
    def generate():
        # Works with a production environment whose keys are refused: that is when it is needed.
        env = {**os.environ, **_production(AKUN_SECRET_KEY="a" * 32)}
        out = subprocess.run(
            [sys.executable, "-m", "akun", "secrets", "generate"],
            capture_output=True,
            text=True,
            env=env,
        )
        assert out.returncode == 0, out.stderr
        lines = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        return lines["AKUN_SECRET_KEY"], lines["AKUN_ENCRYPTION_KEYS"]

    secret, key = generate()
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert generate() != (secret, key)  # fresh each time
    result = _settings_import(_production(AKUN_SECRET_KEY=secret, AKUN_ENCRYPTION_KEYS=key))
    assert result.returncode == 0, result.stderr


def test_secrets_generate_is_listed_by_the_management_command():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("secrets", "generate", stdout=out)
    assert "AKUN_SECRET_KEY=" in out.getvalue() and "AKUN_ENCRYPTION_KEYS=" in out.getvalue()


def test_production_accepts_a_key_in_standard_base64_too():
    # akun.core.crypto decodes "+" and "/" as well as "-" and "_".
    key = base64.b64encode(bytes(range(250, 256)) + bytes(range(0xC0, 0xDA))).decode()
    assert "+" in key and "/" in key
    result = _settings_import(_production(AKUN_ENCRYPTION_KEYS=key))
    assert result.returncode == 0, result.stderr


def test_production_logs_json_lines_and_the_format_is_checked():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='akun.settings'; django.setup();"
        "from django.conf import settings; print(settings.LOGGING['handlers']['console']"
        "['formatter'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **_production()}, capture_output=True
    )
    assert out.stdout.decode().strip() == "json", out.stderr
    result = _settings_import({"AKUN_LOG_FORMAT": "xml"})
    assert result.returncode != 0 and "AKUN_LOG_FORMAT" in result.stderr
