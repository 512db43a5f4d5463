"""Settings, all from the environment.

AKUN_ENV=production refuses to start with development or weak secrets, or DEBUG on.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("AKUN_VAR_DIR", Path.cwd() / "var"))

DEV_SECRET_KEY = "akun-development-secret-do-not-use-in-production"
DEV_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQta2V5LWRvLW5vdC11c2UtMTIzNDU="

AKUN_ENV = os.environ.get("AKUN_ENV", "development")
PRODUCTION = AKUN_ENV == "production"

SECRET_KEY = os.environ.get("AKUN_SECRET_KEY", DEV_SECRET_KEY)
DEBUG = os.environ.get("AKUN_DEBUG", "0" if PRODUCTION else "1") == "1"

# The account domain: user IDs are <local>@<role.level>.<AKUN_DOMAIN>.
AKUN_DOMAIN = os.environ.get("AKUN_DOMAIN", "belajar.test")

# AES-GCM keys (base64 of 32 bytes) for secrets at rest -- initial passwords until
# activation, TOTP secrets, SSO signing keys -- comma-separated, newest first; older keys
# still decrypt, so keys can be rotated (akun.core.crypto).
AKUN_ENCRYPTION_KEYS = [
    k.strip()
    for k in os.environ.get("AKUN_ENCRYPTION_KEYS", DEV_ENCRYPTION_KEY).split(",")
    if k.strip()
]

if PRODUCTION:
    from akun.core import keys as _keys

    if _problem := _keys.secret_key_problem(SECRET_KEY, development=DEV_SECRET_KEY):
        raise ImproperlyConfigured(
            f"AKUN_ENV=production refuses AKUN_SECRET_KEY: it {_problem}. {_keys.GENERATE_HINT}"
        )
    if not AKUN_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(f"AKUN_ENCRYPTION_KEYS is empty. {_keys.GENERATE_HINT}")
    for _n, _key in enumerate(AKUN_ENCRYPTION_KEYS, 1):
        if _problem := _keys.encryption_key_problem(_key, development=DEV_ENCRYPTION_KEY):
            raise ImproperlyConfigured(
                f"AKUN_ENV=production refuses AKUN_ENCRYPTION_KEYS: key {_n} {_problem}. "
                + _keys.GENERATE_HINT
            )
    if DEBUG:
        raise ImproperlyConfigured("AKUN_DEBUG=1 is not allowed with AKUN_ENV=production.")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("AKUN_ALLOWED_HOSTS", "" if PRODUCTION else "*").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "akun.core",
    "akun.audit",
    "akun.roster",
    "akun.accounts",
    "akun.identity",
    "akun.lifecycle",
    "akun.portal",
    "oauth2_provider",
    "akun.sso",
    "akun.platform",  # demo, secrets: tasks over every app
]

AUTH_USER_MODEL = "accounts.Account"

MIDDLEWARE = [
    "akun.core.log.RequestIdMiddleware",  # first: every log line of the request has the id
    "akun.core.health.HealthCheckMiddleware",  # /healthz, /readyz: before host check, redirect
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "akun.core.middleware.ContentSecurityPolicyMiddleware",
    "akun.core.middleware.ParameterCheckMiddleware",  # 400 for NUL, non-UTF-8, over-long
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "akun.identity.middleware.SessionGenerationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "akun.portal.middleware.SecondFactorMiddleware",  # admins: TOTP, session limits
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "akun.urls"
WSGI_APPLICATION = "akun.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'akun.sqlite3'}"),
        conn_max_age=int(os.environ.get("AKUN_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "akun.core.hashers.TunedArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Client secrets of SSO services only (long random strings; see akun.sso.hashers).
    "akun.sso.hashers.ClientSecretHasher",
]

LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("AKUN_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Roster import: the share of records one snapshot may mark departed, platform-wide or in
# one province, before the import stops and asks for --allow-mass-departure.
AKUN_MAX_DEPARTURE_SHARE = float(os.environ.get("AKUN_MAX_DEPARTURE_SHARE", "0.05"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Sign-in and self-service (akun.identity).
AUTHENTICATION_BACKENDS = ["akun.identity.signin.AkunBackend"]
# Account.user_id is unique through local_part (unique) and a check constraint, not an index
# of its own (akun/accounts/models.py); Django's check only sees unique fields/constraints.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
LOGIN_URL = "identity:signin"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "akun.identity.validators.LengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "akun.identity.validators.NotInitialPasswordValidator"},
    {"NAME": "akun.identity.validators.PersonalInfoValidator"},
    {"NAME": "akun.identity.validators.CommonPasswordValidator"},
]
SESSION_COOKIE_AGE = int(os.environ.get("AKUN_SESSION_SECONDS", str(12 * 3600)))
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_ENGINE = "akun.identity.sessions"
# Throttling state: the database unless Redis is configured (redis://127.0.0.1:6379/0).
AKUN_REDIS_URL = os.environ.get("AKUN_REDIS_URL", "")
# The header a trusted reverse proxy sets to the client address (e.g. HTTP_X_REAL_IP).
AKUN_TRUSTED_PROXY_HEADER = os.environ.get("AKUN_TRUSTED_PROXY_HEADER", "")


def _env_count(name: str, default: int) -> int:
    value = os.environ.get(name, str(default)).strip()
    if not value.isdigit() or int(value) < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number of 1 or more, not {value!r}.")
    return int(value)


# How many trusted proxies append to X-Forwarded-For: the client is that many hops from the
# right (what the client itself sends is further left and never used).
AKUN_TRUSTED_PROXY_COUNT = _env_count("AKUN_TRUSTED_PROXY_COUNT", 1)
# Budgets of the lookups that answer whether personal data match (akun.identity.throttle):
# Cek Akun lookups and reset starts, over the whole platform and per school (NPSN).
AKUN_CEK_AKUN_PER_HOUR = _env_count("AKUN_CEK_AKUN_PER_HOUR", 10000)
AKUN_CEK_AKUN_PER_SCHOOL_PER_DAY = _env_count("AKUN_CEK_AKUN_PER_SCHOOL_PER_DAY", 100)
AKUN_RESET_PER_HOUR = _env_count("AKUN_RESET_PER_HOUR", 10000)
AKUN_RESET_PER_SCHOOL_PER_DAY = _env_count("AKUN_RESET_PER_SCHOOL_PER_DAY", 100)
AKUN_SMS_SENDER = os.environ.get("AKUN_SMS_SENDER", "akun.core.sms.FileSmsSender")
EMAIL_BACKEND = os.environ.get(
    "AKUN_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "outbox" / "mail"
EMAIL_HOST = os.environ.get("AKUN_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("AKUN_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("AKUN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("AKUN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("AKUN_EMAIL_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("AKUN_EMAIL_FROM", f"akun@{AKUN_DOMAIN}")
# Static files are served by the app itself (whitenoise), straight from the app folders.
WHITENOISE_USE_FINDERS = True
if PRODUCTION:
    SECURE_HSTS_SECONDS = int(os.environ.get("AKUN_HSTS_SECONDS", "31536000"))
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("AKUN_SSL_REDIRECT", "1") == "1"
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Logs go to stderr; AKUN_LOG_FORMAT=json (the production default) writes one JSON object per
# line with the request id, and for unhandled errors the path and exception type, never
# parameter values or exception messages (akun.core.log).
AKUN_LOG_FORMAT = os.environ.get("AKUN_LOG_FORMAT", "json" if PRODUCTION else "plain")
if AKUN_LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("AKUN_LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "akun.core.log.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "akun.core.log.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": AKUN_LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "loggers": {
        "akun": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Unhandled errors (500s) and security events; Django's own handlers for these
        # print only with DEBUG on.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Single sign-on (akun.sso): django-oauth-toolkit's settings live with the app.
from akun.sso.conf import OAUTH2_PROVIDER, OAUTH2_PROVIDER_APPLICATION_MODEL  # noqa: E402, F401

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default needs its folders; a fresh clone has none yet.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A file, not memory, so that tests can run `akun` in a subprocess against it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-akun.sqlite3")}
