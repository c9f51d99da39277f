"""Settings for the whole portal, read from the environment.

There are two modes, chosen by PORTAL_ENV:

* ``development`` (the default) runs on an embedded default with no servers: SQLite, a
  file-based cache and Celery's filesystem broker, all under ``var/``. Secrets it needs are
  generated there on first use.
* ``production`` refuses to start unless every secret and server address is given, and turns
  on every transport-security setting so that ``manage.py check --deploy`` is clean.

The table in the README lists every variable read here.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR") or BASE_DIR / "var")

PORTAL_ENV = env_str("PORTAL_ENV", "development")
if PORTAL_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"PORTAL_ENV must be development or production, got {PORTAL_ENV!r}")
PRODUCTION = PORTAL_ENV == "production"

if not PRODUCTION:
    VAR_DIR.mkdir(parents=True, exist_ok=True)


def _require(name: str, value):
    """Production refuses to start on a missing value instead of guessing one."""
    if PRODUCTION and not value:
        raise ImproperlyConfigured(f"{name} is required when PORTAL_ENV=production")
    return value


def _development_secret_key() -> str:
    # Kept in var/ so that sessions survive a restart of `make run`.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _require("SECRET_KEY", env_secret("SECRET_KEY"))
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 50 characters")
if not SECRET_KEY:
    SECRET_KEY = _development_secret_key()

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG cannot be on when PORTAL_ENV=production")

ALLOWED_HOSTS = _require(
    "ALLOWED_HOSTS",
    env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]),
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# How many reverse proxies we own sit in front of the portal. The client address is the
# entry that many places from the right of X-Forwarded-For; with 0 the header is ignored,
# because anything a client writes there is a lie until a proxy of ours vouches for it.
PORTAL_TRUSTED_PROXY_COUNT = env_int("PORTAL_TRUSTED_PROXY_COUNT", 0, minimum=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "django_celery_beat",
    "apps.core",
    "apps.accounts",
    "apps.siem",
    "apps.rbac",
    "apps.gdpr",
    "apps.pci",
    "apps.partners",
    # Partner API: REST framework, schema and docs, OAuth2 for machine clients, CORS.
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "oauth2_provider",
    "apps.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware, so that answers to preflight requests carry the CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "apps.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------

DATABASE_URL = _require("DATABASE_URL", env_str("DATABASE_URL"))
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
# Every web request is one transaction, so a change and the security event that records it
# are committed together or not at all, and tasks queued with on_commit see the change.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The test database must be a file: a Celery worker in another process reads it too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-portal.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _require("REDIS_URL", env_str("REDIS_URL"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
        }
    }
else:
    # Shared between the web server and the worker of `make run`, unlike a local-memory cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Background work ---------------------------------------------------------------------

CELERY_BROKER_URL = _require("CELERY_BROKER_URL", env_str("CELERY_BROKER_URL")) or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = Path(env_str("CELERY_FILESYSTEM_DIR") or VAR_DIR / "celery")
    for _sub in ("queue", "processed"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "portal")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only once it has finished, and a task whose worker died is put back,
# so work is never lost; every task is therefore written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Sign-in -----------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "apps.accounts.hashers.Argon2idHasher",
    # Kept only so that hashes written by other hashers can still be verified and upgraded.
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/account/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

ACCOUNT_ADAPTER = "apps.accounts.adapter.PortalAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Portal] "
ACCOUNT_FORMS = {"add_email": "apps.accounts.forms.PortalAddEmailForm"}
ACCOUNT_RATE_LIMITS = {
    # Per address, and per account whatever way its identifier was written (see the adapter).
    "login_failed": "20/5m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
ALLAUTH_TRUSTED_PROXY_COUNT = PORTAL_TRUSTED_PROXY_COUNT

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60, minimum=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Email -------------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=PRODUCTION)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Portal <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Pages, static files, locale ---------------------------------------------------------

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only production collects static files; the development server serves them from their apps.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles") if PRODUCTION else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Transport security ------------------------------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if PORTAL_TRUSTED_PROXY_COUNT:
        # Only a proxy of ours terminates TLS and says so in this header.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The health endpoint is probed over plain HTTP from inside the deployment.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Logging -----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "apps.core.logging.ScrubSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["scrub"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request errors are logged by our own middleware with a request id, scrubbed.
        "django.request": {"level": "ERROR"},
    },
}

# --- Partner API -------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.PartnerClientAuthentication",
        "apps.api.authentication.UserTokenAuthentication",
    ],
    # Deny by default: every view opens itself up explicitly.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.PortalCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.api.throttling.AddressRateThrottle",
        "apps.api.throttling.ClientRateThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests per minute, read on every request so that an operator can tune them per deployment.
PORTAL_API_RATE_PER_ADDRESS = env_int("PORTAL_API_RATE_PER_ADDRESS", 600, minimum=1)
PORTAL_API_RATE_PER_CLIENT = env_int("PORTAL_API_RATE_PER_CLIENT", 1200, minimum=1)

SPECTACULAR_SETTINGS = {
    "TITLE": "Portal partner API",
    "DESCRIPTION": "Customers, permission checks and account data for partner systems.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from the sidecar package through our own static files: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.add_error_responses",
    ],
}

# Browsers may call the API only from origins an operator listed.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"

# Machine clients: OAuth2 client credentials with opaque, short-lived, revocable tokens.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "customers:read": "Read your customers",
        "customers:personal": "Read and write your customers' personal fields",
        "customers:write": "Create and change your customers",
        "events:write": "Send security events",
        "authz:check": "Check permissions",
    },
    "DEFAULT_SCOPES": ["customers:read"],
    "SCOPES_BACKEND_CLASS": "apps.partners.scopes.PartnerApplicationScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("PORTAL_OAUTH_TOKEN_SECONDS", 600, minimum=60),
    # The OAuth 2.0 security best current practice (RFC 9700), every part of it: no implicit
    # or password grant, S256 PKCE only, tokens only in the Authorization header, stored
    # hashed, refresh replay revokes the family, `iss` in authorization responses.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Development keeps http for loopback callbacks; production accepts https redirects only.
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": PRODUCTION,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
}

# Named so that migrations pointing at the application model resolve (stock model).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

# User clients: short JWT access tokens bound to a server-side token session (apps.api).
PORTAL_JWT_ACCESS_SECONDS = env_int("PORTAL_JWT_ACCESS_SECONDS", 300, minimum=30)
if PORTAL_JWT_ACCESS_SECONDS > 15 * 60:
    raise ImproperlyConfigured("PORTAL_JWT_ACCESS_SECONDS may be at most 900 (15 minutes)")
PORTAL_JWT_REFRESH_SECONDS = env_int("PORTAL_JWT_REFRESH_SECONDS", 14 * 24 * 3600, minimum=300)
PORTAL_JWT_SIGNING_KEY = env_secret("PORTAL_JWT_SIGNING_KEY") or SECRET_KEY
PORTAL_JWT_ISSUER = env_str("PORTAL_JWT_ISSUER", "portal")
PORTAL_JWT_AUDIENCE = env_str("PORTAL_JWT_AUDIENCE", "portal-api")

# Only mounted by bench/api.py: the same list with no security, to measure what security costs.
PORTAL_API_BENCH_VIEWS = env_bool("PORTAL_API_BENCH_VIEWS") and not PRODUCTION
SIMPLE_JWT = {
    # One algorithm, named here: PyJWT refuses any token whose header names another, `none`
    # included.
    "ALGORITHM": "HS256",
    "SIGNING_KEY": PORTAL_JWT_SIGNING_KEY,
    "AUDIENCE": PORTAL_JWT_AUDIENCE,
    "ISSUER": PORTAL_JWT_ISSUER,
    "LEEWAY": 0,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=PORTAL_JWT_ACCESS_SECONDS),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=PORTAL_JWT_REFRESH_SECONDS),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
    "ROTATE_REFRESH_TOKENS": True,
}
