"""Settings, all from the environment.

With nothing set this is the embedded default: SQLite and the in-memory channel layer,
good for a demo and for the test suite. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and channels_redis; ``COUNCIL_PROFILE=production`` turns on the deployment
hardening that ``manage.py check --deploy`` asks for.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PROFILE = os.environ.get("COUNCIL_PROFILE", "demo")
PRODUCTION = PROFILE == "production"
DEMO = env_bool("COUNCIL_DEMO", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = os.environ["SECRET_KEY"]  # no default in production: fail loudly
else:
    SECRET_KEY = os.environ.get(
        "SECRET_KEY", "demo-only-insecure-key-3f9a1c0e7b2d4a6f8e1c9b7a5d3f1e0c2b4a6d8f0e1c3b5a"
    )
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "council",
    "council.security",
    "documents",
    "documents.annotations",
    "documents.notices",
    "meetings",
    "meetings.attendance",
    "meetings.live",
    "meetings.voting",
    "meetings.minutes",
    "meetings.matters",
]

MIDDLEWARE = [
    "council.ops.logging.AccessLogMiddleware",  # first: sees every answer, names request and user
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "council.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "council.urls"
ASGI_APPLICATION = "council.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "council.context_processors.roles",
                "council.context_processors.reading",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------
VAR_DIR = Path(os.environ.get("COUNCIL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue
    # instead of failing with "database is locked" half-way through.
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
        DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }
# Tests use a file database (so real server processes started by tests can share it), named
# per test run so that parallel runs on one machine do not collide.
_test_name = os.environ.get("COUNCIL_TEST_DB_NAME")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"{_test_name or 'test'}.sqlite3")}
elif _test_name:
    DATABASES["default"]["TEST"] = {"NAME": _test_name}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels -------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # Live sessions (meetings/live): redis-py 8's defaults break channels_redis 4.3: its 5 s
                # socket timeout races the layer's 5 s blocking read (BZPOPMIN), so idle receivers crash,
                # and its 100-connection pool overflows when many tablets connect at once. Read timeout
                # well above the blocking read, keepalive and health checks, a larger pool.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "health_check_interval": 15,
                        "retry_on_timeout": True,
                        "max_connections": 2000,
                    }
                ],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- I18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"  # documents are served only by the authorized view
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
# Uploads stream to temporary files on disk; the size limit is enforced while they stream.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # The reverse proxy terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # monitoring may ask a daphne socket directly
# The client address behind the reverse proxy (council/security/proxy.py): X-Forwarded-For is believed
# only from these peers ("unix": a unix-socket peer, i.e. nginx in front of `daphne -u`; or addresses),
# counting COUNCIL_PROXY_COUNT proxies from the right. Empty: the header is ignored (the embedded default).
COUNCIL_TRUSTED_PROXIES = env_list("COUNCIL_TRUSTED_PROXIES", "")
COUNCIL_PROXY_COUNT = int(os.environ.get("COUNCIL_PROXY_COUNT", "1"))

# --- Logging --------------------------------------------------------------------------
# JSON lines (council/ops/logging.py) in production: one access line per request and every error,
# each naming the request id (nginx's $request_id) and the user id. Never a request body, so never a ballot.
LOG_FORMAT = os.environ.get("COUNCIL_LOG_FORMAT", "json" if PRODUCTION else "text")
ACCESS_LOG = env_bool("COUNCIL_ACCESS_LOG", default=PRODUCTION)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "council.ops.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"council.access": {"level": "INFO" if ACCESS_LOG else "WARNING"}},
}

# --- The platform ---------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "gikai@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
# The platform's own address, for links in e-mails (e.g. https://gikai.example.jp).
COUNCIL_BASE_URL = os.environ.get("COUNCIL_BASE_URL", "")
COUNCIL_UPLOAD_MAX_BYTES = int(os.environ.get("COUNCIL_UPLOAD_MAX_BYTES", str(200 * 1024 * 1024)))
COUNCIL_INGEST_TIMEOUT_S = float(os.environ.get("COUNCIL_INGEST_TIMEOUT_S", "120"))
COUNCIL_INGEST_MEMORY_MB = int(os.environ.get("COUNCIL_INGEST_MEMORY_MB", "1024"))
# "x-accel" hands byte transfer to nginx after authorization; "" streams from Django.
COUNCIL_SENDFILE = os.environ.get("COUNCIL_SENDFILE", "")
COUNCIL_SENDFILE_PREFIX = os.environ.get(
    "COUNCIL_SENDFILE_PREFIX", "/protected/"
)  # nginx's internal location

# --- Security (hardening) ---------------------------------------------------------------
# Sign-in throttling (django-axes), an optional TOTP second factor (django-otp). See docs/security.md.
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "council.security.second_factor.SecondFactorRequiredMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last: turns a lockout into the 429 page
AUTHENTICATION_BACKENDS = [
    "council.security.backends.ThrottledSignInBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))  # hours
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins need no second log beside the sessions
AXES_LOCKOUT_CALLABLE = "council.security.views.locked_out"
AXES_VERBOSE = False
# The address is REMOTE_ADDR only: behind nginx it was set from the trusted proxy's header by
# council/security/proxy.py; a client's own X-Forwarded-For is never read here.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Secretariat and administrator accounts must sign in with a second factor (production profile).
COUNCIL_REQUIRE_SECOND_FACTOR = env_bool("COUNCIL_REQUIRE_SECOND_FACTOR", default=PRODUCTION)
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # and council/security/admin.py shows no key at all
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "gikai")
COUNCIL_SECOND_FACTOR_TIMEOUT_S = 300  # password accepted, code not yet given: this long

# --- Annotations and notices (documents.annotations, documents.notices) -------------------
# Offline copies of packets expire after this many days; sign-out clears them (Clear-Site-Data).
COUNCIL_OFFLINE_DAYS = int(os.environ.get("COUNCIL_OFFLINE_DAYS", "14"))
# A member's annotated PDF (made by the job worker) is removed from the server after this many hours.
COUNCIL_ANNOTATION_EXPORT_KEEP_HOURS = float(os.environ.get("COUNCIL_ANNOTATION_EXPORT_KEEP_HOURS", "24"))
# The audit chain's head is signed with this Ed25519 key, kept outside the database like
# SECRET_KEY (council/checkpoints.py); demo mode generates one. The signed checkpoints are also
# appended to a log outside the database; ship that file off the machine with the logs.
COUNCIL_AUDIT_KEY_FILE = Path(
    os.environ.get("COUNCIL_AUDIT_KEY_FILE", VAR_DIR / "keys" / "audit-ed25519.pem")
)
COUNCIL_AUDIT_CHECKPOINT_LOG = Path(
    os.environ.get("COUNCIL_AUDIT_CHECKPOINT_LOG", VAR_DIR / "audit-checkpoints.jsonl")
)
COUNCIL_AUDIT_CHECKPOINT_SECONDS = int(os.environ.get("COUNCIL_AUDIT_CHECKPOINT_SECONDS", "300"))
# Signed minutes get a PAdES signature with the council's key and certificate (council/keys.py).
COUNCIL_SIGNING_KEY_FILE = Path(
    os.environ.get("COUNCIL_SIGNING_KEY_FILE", VAR_DIR / "keys" / "signing-key.pem")
)
COUNCIL_SIGNING_CERT_FILE = Path(
    os.environ.get("COUNCIL_SIGNING_CERT_FILE", VAR_DIR / "keys" / "signing-cert.pem")
)
# Also e-mail notices and document/agenda announcements (through EMAIL_BACKEND) to members with an address.
COUNCIL_NOTICE_EMAIL = env_bool("COUNCIL_NOTICE_EMAIL", False)
COUNCIL_NOTICE_ATTACHMENT_MAX_BYTES = int(
    os.environ.get("COUNCIL_NOTICE_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024))
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("council.middleware.ContentSecurityPolicyMiddleware") + 1,
    "documents.annotations.middleware.ClearOfflineCopiesAtSignOut",
)

# --- Jobs (django-tasks, database backend) ------------------------------------------------
# Long work (minutes drafts and PDFs, notice e-mails) is queued in the database and run by the job
# worker (`manage.py run_worker`), never in a request or WebSocket process. `make run` starts one.
INSTALLED_APPS += ["django_tasks", "django_tasks_db", "council.ops"]
# COUNCIL_TASKS_BACKEND=immediate runs each job at once where it is queued (the test suite's default).
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS = {
    "default": {
        "BACKEND": TASK_BACKENDS[os.environ.get("COUNCIL_TASKS_BACKEND", "database")],
        "QUEUES": ["default"],
    }
}
