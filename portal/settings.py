"""Project settings, read from the environment only.

With no variables set, everything runs on one machine: SQLite (WAL, busy timeout),
a local-memory cache and a filesystem Celery broker. ``DATABASE_URL`` switches to
PostgreSQL, ``REDIS_URL`` points Celery and the cache at Redis. See ``.env.example``.
"""

import os
from pathlib import Path

from csp import constants as csp_constants
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no")


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def env_float(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None


def env_list(name, default=()):
    raw = os.environ.get(name)
    if not raw:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# PRODUCTION=1 (set it for every process: web, Celery worker and beat, manage.py) makes the
# settings strict: SECRET_KEY, ALLOWED_HOSTS and SITE_URL must come from the environment,
# DEBUG must be off, and static files are served from STATIC_ROOT (filled by collectstatic)
# with hashed names. Without it -- ./run, ./test, the benchmarks -- the development secret is
# used when SECRET_KEY is unset (unless ALLOW_INSECURE_SECRET=0 with DEBUG off) and static
# files come from the apps, no collectstatic needed. README "Production".
PRODUCTION = env_bool("PRODUCTION", False)
# The "django-insecure-" prefix makes `check --deploy` flag it (security.W009) wherever it ends up.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-set-SECRET_KEY-in-production"
SECRET_KEY = env_str("SECRET_KEY")
if PRODUCTION:
    _missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL") if not env_str(name).strip()]
    if _missing:
        raise ImproperlyConfigured(f"PRODUCTION=1 needs {', '.join(_missing)} in the environment (.env.example)")
    if DEBUG:
        raise ImproperlyConfigured("PRODUCTION=1 with DEBUG=1: debug pages must never be on in production")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY is the development key: generate one for production")
elif not SECRET_KEY:
    if DEBUG or env_bool("ALLOW_INSECURE_SECRET", True):
        SECRET_KEY = DEVELOPMENT_SECRET_KEY
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set in production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# Where the project keeps files it makes: the SQLite database, release snapshots,
# packages, the filesystem Celery broker. Never served directly.
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
RELEASES_DIR = Path(env_str("RELEASES_DIR", str(VAR_DIR / "releases")))
# Third-party datasets for tests and benchmarks (never committed).
SHARED_DATA_DIR = Path(env_str("SHARED_DATA_DIR", str(BASE_DIR.parent / "shared" / "data")))

INSTALLED_APPS = [
    # SimpleAdminConfig: no admin autodiscovery, because django-leaflet's admin module needs
    # GeoDjango (GDAL), which the project does not use; portal.apps registers the admins.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "leaflet",
    "csp",
    "portal",
    "cameras",
]

MIDDLEWARE = [
    # First: a request whose Content-Length is over its limit gets 413 before any parsing.
    "portal.lib.request_size.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (django-csp), with Stripe's and the tiles' origins from the settings
    "portal.lib.csp.ContentSecurityPolicyMiddleware",
    # Static files (portal/static, django-leaflet's Leaflet, the admin's) straight from the
    # WSGI app, before sessions and the rest; see the static-files block below.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the /fr/... prefix (English has none), and for an unprefixed page
    # the customer's choice (cookie) or the browser's Accept-Language (portal.lib.language)
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.lib.language.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
    }
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://", "sqlite:")):
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// (or sqlite:) URL, got {DATABASE_URL.split(':')[0]}:"
        )
    # Persistent connections (DB_CONN_MAX_AGE seconds), checked before their first use in each
    # request or task (DB_CONN_HEALTH_CHECKS): after a PostgreSQL restart, failover or a killed
    # backend, the next request reconnects instead of failing with "server closed the connection".
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
                                                  conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True))}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA temp_store=MEMORY;"
                ),
            },
            # Tests: a file, not the in-memory default, so that a separate process (the Celery
            # worker the end-to-end tests start) opens the same test database. pytest-xdist
            # appends _gw0, _gw1, ... per worker.
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH", str(VAR_DIR / "test-db.sqlite3"))},
        }
    }

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # The cache (login limits, map responses, panel build markers) on Redis; a Redis that is
    # down or restarting makes it a miss/no-op for the moment instead of an error page
    # (portal/lib/resilient_cache.py), with REDIS_CACHE_TIMEOUT seconds at most per attempt.
    _cache_timeout = env_float("REDIS_CACHE_TIMEOUT", 1.0)
    CACHES = {"default": {"BACKEND": "portal.lib.resilient_cache.ResilientRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": _cache_timeout, "socket_timeout": _cache_timeout}}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    _broker_dir = VAR_DIR / "celery"
    for sub in ("out", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # else kombu writes ./control in the cwd
    }
    CELERY_RESULT_BACKEND = f"file://{_broker_dir / 'results'}"
    (_broker_dir / "results").mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Periodic jobs (celery beat); each is also a management command for cron.
CELERY_BEAT_SCHEDULE = {
    # Renewal and stale-file reminders, ended subscriptions, new-release emails; each email
    # once, so overlapping runs are harmless (``manage.py send_reminders``).
    "send-reminders": {
        "task": "portal.reminders.run_reminders",
        "schedule": env_float("REMINDERS_EVERY_SECONDS", 3600.0),
    },
    # Paid orders whose fulfilment, build or emails were lost (Redis down or emptied, a crash
    # between two steps) are queued again (``manage.py resume_orders``).
    "resume-orders": {
        "task": "portal.recovery.resume_orders_task",
        "schedule": env_float("RESUME_ORDERS_EVERY_SECONDS", 300.0),
    },
}

AUTH_USER_MODEL = "portal.User"
# The debug page (DEBUG=1) masks passwords inside URLs (DATABASE_URL, REDIS_URL ...) too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.lib.error_reports.MaskedExceptionReporterFilter"

LOGIN_URL = "accounts-login"
LOGIN_REDIRECT_URL = "panel-home"
LOGOUT_REDIRECT_URL = "home-page"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The shop's languages: pages, emails, INSTALL.txt and invoices. Catalogs in locale/<code>/
# (README "Languages" says how to add one and update them); ./run and ./test compile them.
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("it", "Italiano"),
    ("nl", "Nederlands"),
    ("pt", "Português"),
    ("pl", "Polski"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files: portal/static, django-leaflet's Leaflet assets and the admin's, served by
# WhiteNoise (MIDDLEWARE) from the WSGI app, so gunicorn needs no separate file server.
# - PRODUCTION=1: only what `manage.py collectstatic` put into STATIC_ROOT is served, with
#   content-hashed names (cached for a year), gzip variants (brotli too with the Brotli package),
#   and {% static %} raising for a file missing from the manifest: run collectstatic on every deploy.
# - Otherwise (./run, ./test, benchmarks): the default storage and WhiteNoise looking files up
#   in the apps (finders), so nothing needs collectstatic; runserver with DEBUG=1 as before.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage" if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
# Outside production: look each request up in the apps (finders) and STATIC_ROOT, which
# need not exist (no collectstatic), instead of indexing STATIC_ROOT once at start-up.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Camera database knobs.
DEDUP_RADIUS_M = env_float("DEDUP_RADIUS_M", 30.0)
DEDUP_MAX_HEADING_DIFF = env_float("DEDUP_MAX_HEADING_DIFF", 45.0)
COUNTRY_TOLERANCE_KM = env_float("COUNTRY_TOLERANCE_KM", 25.0)
MOBILE_ZONE_RADIUS_M = env_float("MOBILE_ZONE_RADIUS_M", 250.0)
MOBILE_ZONE_MIN_REPORTS = env_int("MOBILE_ZONE_MIN_REPORTS", 3)
MOBILE_ZONE_WINDOW_DAYS = env_int("MOBILE_ZONE_WINDOW_DAYS", 90)
RELEASE_MOVED_THRESHOLD_M = env_float("RELEASE_MOVED_THRESHOLD_M", 50.0)

# Shop and payments. Stripe is called from portal/payments.py only; the API base and the
# Stripe.js URL are settings so tests point them at localstripe.
SHOP_CURRENCY = env_str("SHOP_CURRENCY", "eur")
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_JS_URL = env_str("STRIPE_JS_URL", "https://js.stripe.com/v3/")
# PRODUCTION=1 refuses Stripe test keys, the demo and placeholder values of ./run, localstripe
# and .env.example, and an API or Stripe.js URL other than Stripe's (a payment must be real).
STRIPE_PLACEHOLDER_MARKERS = ("demo", "localstripe", "example", "_or_test_", "from_the_dashboard", "...")


def _stripe_production_problems() -> list[str]:
    problems = []
    for name, live in (("STRIPE_SECRET_KEY", ("sk_live_", "rk_live_")), ("STRIPE_PUBLISHABLE_KEY", ("pk_live_",)),
                       ("STRIPE_WEBHOOK_SECRET", ("whsec_",))):
        value = globals()[name]
        if not value:
            continue
        if value.startswith(("sk_test_", "rk_test_", "pk_test_")):
            problems.append(f"{name} is a test key ({value[:8]}...): set the live key ({live[0]}...)")
        elif not value.startswith(live):
            problems.append(f"{name} does not start with {' or '.join(live)}: set the value from the Stripe dashboard")
        elif any(marker in value.lower() for marker in STRIPE_PLACEHOLDER_MARKERS):
            problems.append(f"{name} is a demo or placeholder value ({value[:len(live[0])]}...): "
                            "set the value from the Stripe dashboard")
    if STRIPE_API_BASE.rstrip("/") != "https://api.stripe.com":
        problems.append(f"STRIPE_API_BASE is {STRIPE_API_BASE!r}: set STRIPE_API_BASE=https://api.stripe.com")
    if not STRIPE_JS_URL.startswith("https://js.stripe.com/"):
        problems.append(f"STRIPE_JS_URL is {STRIPE_JS_URL!r}: set STRIPE_JS_URL=https://js.stripe.com/v3/")
    return problems


if PRODUCTION and _stripe_production_problems():
    raise ImproperlyConfigured("PRODUCTION=1 refuses test and demo Stripe values: "
                               + "; ".join(_stripe_production_problems()))
UPDATE_MONTHS = env_int("UPDATE_MONTHS", 1)  # updates included with a one-time purchase (the annual subscription: 12 months)
PACKAGES_DIR = Path(env_str("PACKAGES_DIR", str(VAR_DIR / "packages")))  # content-addressed package store
EMAIL_ATTACHMENT_MAX_BYTES = env_int("EMAIL_ATTACHMENT_MAX_BYTES", 8 * 1024 * 1024)
DOWNLOAD_LINK_MAX_AGE = env_int("DOWNLOAD_LINK_MAX_AGE", 14 * 24 * 3600)  # seconds a signed link stays valid

# File storage (cameras/storage.py, README "Several machines"). Empty STORAGE_URL: release
# snapshots, packages and backups stay in RELEASES_DIR, PACKAGES_DIR and BACKUPS_DIR on this
# machine. STORAGE_URL=s3://BUCKET/PREFIX: in an S3-compatible object store that every web
# node and worker shares (AWS_S3_ENDPOINT_URL for one other than AWS; keys from the env).
STORAGE_URL = env_str("STORAGE_URL", "")
BACKUPS_DIR = Path(env_str("BACKUPS_DIR", str(VAR_DIR / "backups")))
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL", "")
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID", "")
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY", "")
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "")
AWS_S3_ADDRESSING_STYLE = env_str("AWS_S3_ADDRESSING_STYLE", "")  # default: "path" with a custom endpoint
# Downloads from the object store: "redirect" (to a presigned URL valid STORAGE_URL_MAX_AGE
# seconds, after the ownership check) or "stream" (through the web node).
STORAGE_DOWNLOADS = env_str("STORAGE_DOWNLOADS", "redirect")
STORAGE_URL_MAX_AGE = env_int("STORAGE_URL_MAX_AGE", 60)
STORAGE_EXISTS_TTL = env_int("STORAGE_EXISTS_TTL", 60)  # seconds a web node trusts "this file is stored"
STORAGE_CACHE_DIR = Path(env_str("STORAGE_CACHE_DIR", str(VAR_DIR / "cache")))  # local copies of snapshots
STORAGE_SPOOL_DIR = Path(env_str("STORAGE_SPOOL_DIR", str(VAR_DIR / "spool")))  # files on their way up
if STORAGE_URL:
    from cameras.storage import parse_storage_url

    parse_storage_url(STORAGE_URL)  # a malformed URL stops the start-up, saying what to fix
if STORAGE_DOWNLOADS not in ("redirect", "stream"):
    raise ImproperlyConfigured(f"STORAGE_DOWNLOADS={STORAGE_DOWNLOADS!r}: use redirect or stream")
# Invoices and VAT (portal/services/invoices.py, vat.py): the number series' prefixes (numbered
# per calendar year: INV-2026-000001), and where the IP country of the VAT evidence comes from:
# the header a CDN sets (e.g. HTTP_CF_IPCOUNTRY), or empty for the offline database bundled
# with geoip2fast. The seller printed on every invoice is SELLER_* (the legal pages' block below).
INVOICE_PREFIX = env_str("INVOICE_PREFIX", "INV")
CREDIT_NOTE_PREFIX = env_str("CREDIT_NOTE_PREFIX", "CN")
DEFAULT_BILLING_COUNTRY = env_str("DEFAULT_BILLING_COUNTRY", "FR")  # the checkout's choice when the IP says nothing
IP_COUNTRY_HEADER = env_str("IP_COUNTRY_HEADER", "")

# Email: SMTP when EMAIL_HOST is set, else one file per message in EMAIL_FILE_PATH when that is
# set (./run sets var/mail, for the web server and the worker alike), else the console.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                        else "django.core.mail.backends.filebased.EmailBackend" if EMAIL_FILE_PATH
                        else "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Speed camera files <shop@localhost>")
# An order email that failed (SMTP down) is retried after this many seconds, doubling each time
# (at most 10 minutes apart, 12 times); portal.recovery takes over after that.
EMAIL_RETRY_SECONDS = env_int("EMAIL_RETRY_SECONDS", 5)

# Recovery (portal/recovery.py; Celery beat every RESUME_ORDERS_EVERY_SECONDS, or `manage.py
# resume_orders` from cron): paid orders whose fulfilment, package or emails did not happen
# within RESUME_ORDERS_AFTER_SECONDS (a crash between two steps, Redis down or emptied, the
# email retries used up) are queued again, for RESUME_ORDERS_MAX_AGE_DAYS after the payment.
RESUME_ORDERS_AFTER_SECONDS = env_int("RESUME_ORDERS_AFTER_SECONDS", 600)
RESUME_ORDERS_EVERY_SECONDS = env_int("RESUME_ORDERS_EVERY_SECONDS", 300)
RESUME_ORDERS_MAX_AGE_DAYS = env_int("RESUME_ORDERS_MAX_AGE_DAYS", 7)

# The preview map: Leaflet from the django-leaflet package (never a CDN); tiles from
# OpenStreetMap by default (MAP_TILES_URL; empty = no background tiles, e.g. offline).
MAP_TILES_URL = env_str("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILES_ATTRIBUTION = env_str("MAP_TILES_ATTRIBUTION", "&copy; OpenStreetMap contributors")
LEAFLET_CONFIG = {
    "TILES": [("OpenStreetMap", MAP_TILES_URL, {"attribution": MAP_TILES_ATTRIBUTION, "maxZoom": 18})]
    if MAP_TILES_URL else [],
    "DEFAULT_CENTER": (50.0, 10.0),
    "DEFAULT_ZOOM": 4,
    "MIN_ZOOM": 2,
    "MAX_ZOOM": 18,
    "RESET_VIEW": False,
}

# Release fan-out: publishing a release queues package builds for the popular combinations.
FANOUT_ON_PUBLISH = env_bool("FANOUT_ON_PUBLISH", True)
FANOUT_TOP = env_int("FANOUT_TOP", 50)              # popular (device, coverage, options) built per release
FANOUT_DEFAULTS = env_bool("FANOUT_DEFAULTS", True)  # also every device's default coverage
FANOUT_PRIORITY = env_int("FANOUT_PRIORITY", 9)      # Redis priority (9 = served after orders and emails)
FANOUT_NEW_RELEASE_EMAILS = env_bool("FANOUT_NEW_RELEASE_EMAILS", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Annual subscriptions, error reports and reminders (portal/services/subscriptions.py,
# reports.py, reminders.py). Amounts in cents.
ANNUAL_PRICES = {  # per device kind, fixed cameras, per year; mobile cameras add ANNUAL_MOBILE_SURCHARGE
    "pnd": env_int("ANNUAL_PRICE_PND", 2990),
    "head-unit": env_int("ANNUAL_PRICE_HEAD_UNIT", 3490),
    "app": env_int("ANNUAL_PRICE_APP", 2490),
}
ANNUAL_MOBILE_SURCHARGE = env_int("ANNUAL_MOBILE_SURCHARGE", 500)
STRIPE_ANNUAL_PRODUCT = env_str("STRIPE_ANNUAL_PRODUCT", "speedcams-annual")  # explicit Stripe Product id
UPGRADE_DAYS = env_int("UPGRADE_DAYS", 7)  # a one-time purchase may become annual within this many days of payment
REPORT_MAX_CHARS = env_int("REPORT_MAX_CHARS", 4000)  # error report text
REPORT_MAX_BYTES = env_int("REPORT_MAX_BYTES", 2 * 1024 * 1024)  # error report screenshot (PNG or JPEG)
REPORT_MAX_PIXELS = env_int("REPORT_MAX_PIXELS", 40_000_000)  # its width x height, checked before decoding
REPORT_MAX_OPEN = env_int("REPORT_MAX_OPEN", 3)  # open reports per purchase

# Request size caps, checked on Content-Length before the body is read (portal.lib.request_size):
# 1 MB of data (plus room for the envelope) everywhere, 10 MB for the error report form (its
# screenshot; the form itself refuses a screenshot over REPORT_MAX_BYTES with a message).
# Django's own caps then bound what is parsed (400 over them).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)  # a body without files
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", DATA_UPLOAD_MAX_MEMORY_SIZE + 64 * 1024)
REQUEST_SIZE_LIMITS = [(r"^/account/purchases/[^/]+/report/$", env_int("REQUEST_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))]
FILE_UPLOAD_MAX_MEMORY_SIZE = REPORT_MAX_BYTES + 64 * 1024  # a larger upload is spooled to a temporary file
DATA_UPLOAD_MAX_NUMBER_FILES = 2
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
RENEWAL_REMINDER_DAYS = env_int("RENEWAL_REMINDER_DAYS", 14)  # reminder this many days before a renewal
STALE_FILE_DAYS = env_int("STALE_FILE_DAYS", 183)  # "your file is over six months old" after this many days
REMINDERS_EVERY_SECONDS = env_int("REMINDERS_EVERY_SECONDS", 3600)  # Celery beat period of send_reminders

# Customer panel: login rate limits, password reset, panel download links, cookie security.
# Failed logins allowed per account (its email) and per client IP within LOGIN_RATE_WINDOW
# seconds; the next failure locks that account (or IP) for LOGIN_LOCK_SECONDS from then, and
# every message about the lock names that one duration. The per-IP limit is much higher: many
# customers share an address (an office, a mobile carrier), and one person's typos must not
# lock them all out.
LOGIN_FAILURES_PER_EMAIL = env_int("LOGIN_FAILURES_PER_EMAIL", 5)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 50)
LOGIN_RATE_WINDOW = env_int("LOGIN_RATE_WINDOW", 15 * 60)
LOGIN_LOCK_SECONDS = env_int("LOGIN_LOCK_SECONDS", 15 * 60)
PASSWORD_RESETS_PER_EMAIL = env_int("PASSWORD_RESETS_PER_EMAIL", 3)   # reset emails per address per window
PASSWORD_RESETS_PER_IP = env_int("PASSWORD_RESETS_PER_IP", 10)        # reset requests per client IP per window
PASSWORD_RESET_RATE_WINDOW = env_int("PASSWORD_RESET_RATE_WINDOW", 3600)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 24 * 3600)  # seconds a reset link stays valid
# Invalid password-reset links opened per client IP per PASSWORD_RESET_RATE_WINDOW (token guessing).
PASSWORD_RESET_TOKEN_FAILURES_PER_IP = env_int("PASSWORD_RESET_TOKEN_FAILURES_PER_IP", 20)
# The request header holding the client IP behind a reverse proxy (e.g. HTTP_X_REAL_IP);
# empty: REMOTE_ADDR. Set it only when a proxy you run sets that header.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")
# Proxies that append to a list header such as X-Forwarded-For: the client is that many
# entries from the right (what a client writes on the left is never used).
CLIENT_IP_PROXY_COUNT = env_int("CLIENT_IP_PROXY_COUNT", 1)
PANEL_DOWNLOAD_LINK_MAX_AGE = env_int("PANEL_DOWNLOAD_LINK_MAX_AGE", 3600)  # seconds a panel download link works
# Cookies only over HTTPS in production: on by default when DEBUG is off and SITE_URL is
# https://, so tests and ./run over http keep working. SECURE_SSL_REDIRECT and HSTS are
# opt-in (behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1 too).
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG and SITE_URL.startswith("https://"))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if SITE_URL.startswith("https://"):
    CSRF_TRUSTED_ORIGINS = ["https://" + SITE_URL.split("://", 1)[1].split("/", 1)[0]]

# --------------------------------------------------------------------------- help, contact, legal pages
# The seller named on the legal notice, the terms and the privacy policy (set them in production).
SELLER_NAME = env_str("SELLER_NAME", "SpeedCam Files (demo seller)")
SELLER_ADDRESS = env_str("SELLER_ADDRESS", "1 Example Street, 75001 Paris, France")  # invoices: lines split at "|"
SELLER_EMAIL = env_str("SELLER_EMAIL", "support@example.com")
SELLER_PHONE = env_str("SELLER_PHONE", "")
SELLER_REGISTRATION = env_str("SELLER_REGISTRATION", "")   # company register and number
SELLER_VAT_NUMBER = env_str("SELLER_VAT_NUMBER", "")
SELLER_HOST = env_str("SELLER_HOST", "")                   # the web host's name and address
# Contact form: messages per address and per client IP per window, and the message's length;
# its request body is capped before parsing (REQUEST_SIZE_LIMITS).
CONTACT_MESSAGES_PER_EMAIL = env_int("CONTACT_MESSAGES_PER_EMAIL", 3)
CONTACT_MESSAGES_PER_IP = env_int("CONTACT_MESSAGES_PER_IP", 10)
CONTACT_RATE_WINDOW = env_int("CONTACT_RATE_WINDOW", 3600)
CONTACT_MAX_CHARS = env_int("CONTACT_MAX_CHARS", 4000)
REQUEST_SIZE_LIMITS = [(r"^/contact/$", env_int("CONTACT_MAX_BYTES", 32 * 1024))] + REQUEST_SIZE_LIMITS

# Content-Security-Policy (django-csp; portal.lib.csp adds Stripe's and the tiles' origins):
# scripts from this site or with the response's nonce, never inline otherwise; styles allow
# inline (templates use style attributes; no script can be injected through them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
