"""Settings, all from the environment: every variable is read here (or in a settings module
loaded here, akun/sso/conf.py) through akun.core.env, typed and checked at start-up, and
documented in docs/configuration.md. Other modules read django.conf.settings.

AKUN_ENV=production refuses to start with development or weak secrets, or DEBUG on.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from akun.core import env

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env.text("AKUN_VAR_DIR", Path.cwd() / "var"))

DEV_SECRET_KEY = "akun-development-secret-do-not-use-in-production"
DEV_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQta2V5LWRvLW5vdC11c2UtMTIzNDU="

AKUN_ENV = env.choice("AKUN_ENV", "development", ("development", "production"))
PRODUCTION = AKUN_ENV == "production"

SECRET_KEY = env.text("AKUN_SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env.flag("AKUN_DEBUG", not PRODUCTION)

# The account domain: user IDs are <local>@<role.level>.<AKUN_DOMAIN>.
AKUN_DOMAIN = env.text("AKUN_DOMAIN", "belajar.test")

# AES-GCM keys (base64 of 32 bytes) for secrets at rest -- initial passwords until
# activation, TOTP secrets, SSO signing keys -- comma-separated, newest first; older keys
# still decrypt, so keys can be rotated (akun.core.crypto).
AKUN_ENCRYPTION_KEYS = env.items("AKUN_ENCRYPTION_KEYS", DEV_ENCRYPTION_KEY)

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

ALLOWED_HOSTS = env.items("AKUN_ALLOWED_HOSTS", "" if PRODUCTION else "*")

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
    "akun.provisioning",
    "akun.helpdesk",
    "akun.oneroster",
    "akun.statistik",
    "akun.instance",  # demo, secrets: tasks over every app
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
        env.text("DATABASE_URL", f"sqlite:///{VAR_DIR / 'akun.sqlite3'}"),
        conn_max_age=env.whole("AKUN_DB_CONN_MAX_AGE", 60),
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

# A streaming replica for reads that tolerate lag (docs/deployment.md): the `replica` alias,
# used only inside akun.core.replica.reading_from_replica(); unset: every read on default.
AKUN_READ_REPLICA_URL = env.text("AKUN_READ_REPLICA_URL", "")
AKUN_READ_REPLICA_RETRY_SECONDS = env.number("AKUN_READ_REPLICA_RETRY_SECONDS", 30)
if AKUN_READ_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        AKUN_READ_REPLICA_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"]
    )
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        # A replica that does not answer is given up quickly (reads then use the primary).
        DATABASES["replica"]["OPTIONS"] = {"connect_timeout": 2}
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True  # a dead replica is noticed per request
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["akun.core.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "akun.core.hashers.TunedArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Client secrets of SSO services only (long random strings; see akun.sso.hashers).
    "akun.sso.hashers.ClientSecretHasher",
]

LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
# Each app's catalog (docs/translation.md), listed here so that it comes before Django's own:
# "Password" is "Kata sandi" in Akun, "Sandi" in django.contrib.auth.
LOCALE_PATHS = sorted(BASE_DIR.glob("*/locale"))
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

TASKS = {
    "default": {
        "BACKEND": env.text("AKUN_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Roster import: the share of records one snapshot may mark departed, platform-wide or in
# one province, before the import stops and asks for --allow-mass-departure.
AKUN_MAX_DEPARTURE_SHARE = env.number("AKUN_MAX_DEPARTURE_SHARE", 0.05, maximum=1)
# Staging of big files in worker processes (PostgreSQL): how many (0: in the importing
# process), the size of the chunks they get, and the new rows that make a load a bulk load.
AKUN_IMPORT_WORKERS = env.whole("AKUN_IMPORT_WORKERS", 2 if (os.cpu_count() or 1) >= 2 else 0)
AKUN_IMPORT_CHUNK_BYTES = env.whole("AKUN_IMPORT_CHUNK_BYTES", 1 << 20, minimum=1)
AKUN_IMPORT_BULK_MIN_ROWS = env.whole("AKUN_IMPORT_BULK_MIN_ROWS", 100_000)

# Change stream (akun.accounts.stream): events every consumer has passed are kept this long.
AKUN_EVENTS_RETENTION_DAYS = env.number("AKUN_EVENTS_RETENTION_DAYS", 7)

# OneRoster (akun.oneroster): the school year its academic sessions name (the year it starts;
# 0: from today's date, the year starting in July), the largest page a client may ask for,
# how long a query's total count (X-Total-Count) is reused across its pages.
AKUN_ONEROSTER_SCHOOL_YEAR = env.whole("AKUN_ONEROSTER_SCHOOL_YEAR", 0)
AKUN_ONEROSTER_MAX_LIMIT = env.whole("AKUN_ONEROSTER_MAX_LIMIT", 5000, minimum=1)
AKUN_ONEROSTER_COUNT_SECONDS = env.number("AKUN_ONEROSTER_COUNT_SECONDS", 60)

# Lifecycle (akun.lifecycle.conf): the share of a province's accounts one run may deactivate
# or delete before it holds the province, inactivity before the deletion path, the notice
# and its reminders (days before the deletion), rows per batch of a sweep.
AKUN_LIFECYCLE_MAX_SHARE = env.number("AKUN_LIFECYCLE_MAX_SHARE", 0.05, maximum=1)
AKUN_INACTIVITY_MONTHS = env.whole("AKUN_INACTIVITY_MONTHS", 12, minimum=1)
AKUN_DELETION_NOTICE_DAYS = env.whole("AKUN_DELETION_NOTICE_DAYS", 30, minimum=1)
AKUN_DELETION_REMINDER_DAYS = env.whole_items("AKUN_DELETION_REMINDER_DAYS", "30,3")
AKUN_LIFECYCLE_BATCH_ROWS = env.whole("AKUN_LIFECYCLE_BATCH_ROWS", 100_000, minimum=1)

# Provisioning of outside directories (akun.provisioning.conf, docs/provisioning.md): the
# API calls per minute that all workers on all nodes share, the share of a target's managed
# users one run may suspend or delete (and the count below which it never holds), calls per
# batch request, and the personal fields that may leave Akun (none by default: nisn,
# tanggal_lahir; NIK is never stored, so never sent).
AKUN_PROVISION_QUOTA_PER_MINUTE = env.whole("AKUN_PROVISION_QUOTA_PER_MINUTE", 2400, minimum=1)
AKUN_PROVISION_MAX_SHARE = env.number("AKUN_PROVISION_MAX_SHARE", 0.05, maximum=1)
AKUN_PROVISION_SAFETY_MIN = env.whole("AKUN_PROVISION_SAFETY_MIN", 100)
AKUN_PROVISION_BATCH_CALLS = env.whole("AKUN_PROVISION_BATCH_CALLS", 1000, minimum=1)
AKUN_PROVISION_PERSONAL_FIELDS = env.items("AKUN_PROVISION_PERSONAL_FIELDS", "")
if set(AKUN_PROVISION_PERSONAL_FIELDS) - {"nisn", "tanggal_lahir"}:
    raise ImproperlyConfigured("AKUN_PROVISION_PERSONAL_FIELDS may name nisn, tanggal_lahir.")

# Operator portal (akun.portal): admin sessions end after this long idle or after the
# second factor; the activation deadline shown when akun.lifecycle has none.
AKUN_PORTAL_IDLE_SECONDS = env.whole("AKUN_PORTAL_IDLE_SECONDS", 30 * 60, minimum=1)
AKUN_PORTAL_MAX_SECONDS = env.whole("AKUN_PORTAL_MAX_SECONDS", 8 * 3600, minimum=1)
AKUN_ACTIVATION_DEADLINE = env.date("AKUN_ACTIVATION_DEADLINE")

# `akun serve` defaults (its --host, --port, --workers).
AKUN_HOST = env.text("AKUN_HOST", "127.0.0.1")
AKUN_PORT = env.whole("AKUN_PORT", 8000, minimum=1)
AKUN_WORKERS = env.whole("AKUN_WORKERS", max(1, os.cpu_count() or 1), minimum=1)

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
SESSION_COOKIE_AGE = env.whole("AKUN_SESSION_SECONDS", 12 * 3600, minimum=1)
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_ENGINE = "akun.identity.sessions"
# Throttling state: the database unless Redis is configured (redis://127.0.0.1:6379/0).
AKUN_REDIS_URL = env.text("AKUN_REDIS_URL", "")
# The header a trusted reverse proxy sets to the client address (e.g. HTTP_X_REAL_IP).
AKUN_TRUSTED_PROXY_HEADER = env.text("AKUN_TRUSTED_PROXY_HEADER", "")

# How many trusted proxies append to X-Forwarded-For: the client is that many hops from the
# right (what the client itself sends is further left and never used).
AKUN_TRUSTED_PROXY_COUNT = env.whole("AKUN_TRUSTED_PROXY_COUNT", 1, minimum=1)
# Budgets of the lookups that answer whether personal data match (akun.identity.throttle):
# Cek Akun lookups and reset starts, over the whole platform and per school (NPSN).
AKUN_CEK_AKUN_PER_HOUR = env.whole("AKUN_CEK_AKUN_PER_HOUR", 10000, minimum=1)
AKUN_CEK_AKUN_PER_SCHOOL_PER_DAY = env.whole("AKUN_CEK_AKUN_PER_SCHOOL_PER_DAY", 100, minimum=1)
AKUN_RESET_PER_HOUR = env.whole("AKUN_RESET_PER_HOUR", 10000, minimum=1)
AKUN_RESET_PER_SCHOOL_PER_DAY = env.whole("AKUN_RESET_PER_SCHOOL_PER_DAY", 100, minimum=1)
AKUN_SMS_SENDER = env.text("AKUN_SMS_SENDER", "akun.core.sms.FileSmsSender")
EMAIL_BACKEND = env.text(
    "AKUN_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "outbox" / "mail"
EMAIL_HOST = env.text("AKUN_EMAIL_HOST", "localhost")
EMAIL_PORT = env.whole("AKUN_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.text("AKUN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env.text("AKUN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env.flag("AKUN_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env.text("AKUN_EMAIL_FROM", f"akun@{AKUN_DOMAIN}")
# Helpdesk (akun.helpdesk): its mailbox (From of its mail; replies come to
# <local>+<number>.<token>@<domain>), and the shared secret with which the inbound mail relay
# signs what it posts to /bantuan/surel-masuk (empty: the webhook answers 404).
AKUN_HELPDESK_ADDRESS = env.text("AKUN_HELPDESK_ADDRESS", f"bantuan@{AKUN_DOMAIN}")
AKUN_HELPDESK_INBOUND_SECRET = env.text("AKUN_HELPDESK_INBOUND_SECRET", "")
# Static files are served by the app itself (whitenoise), straight from the app folders.
WHITENOISE_USE_FINDERS = True
# Read in development too, so that they are checked (and seen by the configuration test).
_hsts_seconds = env.whole("AKUN_HSTS_SECONDS", 31536000)
_ssl_redirect = env.flag("AKUN_SSL_REDIRECT", True)
if PRODUCTION:
    SECURE_HSTS_SECONDS = _hsts_seconds
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _ssl_redirect
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Logs go to stderr; AKUN_LOG_FORMAT=json (the production default) writes one JSON object per
# line with the request id, and for unhandled errors the path and exception type, never
# parameter values or exception messages (akun.core.log).
AKUN_LOG_FORMAT = env.choice(
    "AKUN_LOG_FORMAT", "json" if PRODUCTION else "plain", ("json", "plain")
)
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
from akun.sso.conf import (  # noqa: E402, F401
    AKUN_SSO_CLIENT_CACHE_SECONDS,
    AKUN_SSO_KEY_RECHECK_SECONDS,
    OAUTH2_PROVIDER,
    OAUTH2_PROVIDER_APPLICATION_MODEL,
)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default needs its folders; a fresh clone has none yet.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A file, not memory, so that tests can run `akun` in a subprocess against it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-akun.sqlite3")}
