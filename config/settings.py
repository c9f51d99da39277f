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
from config.identity import load_oidc_signing_key, social_login_providers

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
    # The admin site is the OTP admin site of apps.accounts: no staff page without a second factor.
    "apps.accounts.admin_apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "guardian",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.facebook",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.openid_connect",
    "oauth2_provider",
    "django_celery_beat",
    "pgtrigger",
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
    "apps.api",
    # --- Second factors and sessions (MFA) ---
    "django_otp",
    "django_otp.plugins.otp_totp",
    "allauth.usersessions",
    "django_otp_webauthn",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware, so that answers to preflight requests carry the CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "apps.core.middleware.RequestContextMiddleware",
    # Refuses blocked and over-limit addresses before any session or view work is done.
    "apps.siem.middleware.AddressRestrictionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Reads of access-logged encrypted fields become one data.access event per request.
    "apps.core.crypto.audit.DataAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Records access denials after the request's transaction, so a rollback cannot lose them.
    "apps.rbac.middleware.DenialAuditMiddleware",
    # --- Second factors and sessions (MFA) ---
    "django_otp.middleware.OTPMiddleware",
    "apps.accounts.mfa.middleware.SecondFactorRequiredMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
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

# The few statements run on every request are prepared once per connection (see
# apps/core/statements.py); off for a pooler in transaction mode that does not keep them.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django opens psycopg connections with preparation off (None). A threshold no statement
    # reaches lets the driver prepare exactly the statements that ask for it; the ORM's own
    # cursors bind parameters on the client and are never prepared either way.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        2**62 if DATABASE_PREPARED_STATEMENTS else None
    )

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
            # The same namespace rule as Redis, so a test worker and its test session agree.
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
        }
    }

# --- Background work ---------------------------------------------------------------------

CELERY_BROKER_URL = _require("CELERY_BROKER_URL", env_str("CELERY_BROKER_URL")) or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = Path(env_str("CELERY_FILESYSTEM_DIR") or VAR_DIR / "celery")
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's own filesystem transport, except that a message appears only once fully written.
    CELERY_BROKER_TRANSPORT = "apps.core.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # Broadcast (remote control) messages, which would otherwise land in ./control.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
        # A worker takes one message at a time (prefetch 1, late acknowledgement) and, on this
        # transport, looks for the next only after a poll: at kombu's default of one second it
        # would run at most one task a second, so a burst of security events would hold up an
        # account email for minutes. A tenth of a second is a directory listing, nothing more.
        "polling_interval": 0.1,
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
# One backend: allauth's signs in by address for every form (the admin's passes the address as
# its username) and, being a ModelBackend, answers permission questions too. With Django's
# ModelBackend listed as well, every failed or unknown login was hashed by both, doubling what
# a password guess costs the server.
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
PASSWORD_HASHERS = [
    # Verifies every Argon2 hash, whatever its parameters (they are read from the hash), and is
    # the one Django asks to harden a failed check of an older one: Django's own Argon2 hasher,
    # sharing its name, must not be listed after it.
    "apps.accounts.hashers.Argon2idHasher",
    # Kept only so that hashes written by other hashers can still be verified and upgraded.
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
    {"NAME": "apps.accounts.hashers.LongestPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/account/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

ACCOUNT_ADAPTER = "apps.accounts.adapter.PortalAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# How mail and pages name a user: by address, as the person knows their account.
ACCOUNT_USER_DISPLAY = "apps.accounts.identifiers.user_display"
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
ACCOUNT_FORMS = {
    "add_email": "apps.accounts.forms.PortalAddEmailForm",
    "login": "apps.accounts.forms.PortalLoginForm",
}
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

# --- Second factors (MFA) ------------------------------------------------------------------

# A login that stopped half-way (password given, second factor not yet) is forgotten after
# five minutes.
ACCOUNT_LOGIN_TIMEOUT = 5 * 60
# The login after a password reset goes through the same stages, second factor included.
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
# Changing an address or the password needs a password or second factor given in the last
# five minutes.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 5 * 60
USERSESSIONS_TRACK_ACTIVITY = True
USERSESSIONS_ADAPTER = "apps.accounts.usersessions.PortalUserSessionsAdapter"
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Portal")
# RFC 6238 as authenticator apps implement it: one step of tolerance either side and no
# remembered drift, so a code is valid in exactly three 30-second windows.
OTP_TOTP_SYNC = False
OTP_TOTP_THROTTLE_FACTOR = 1
# Whoever reads a TOTP key computes the person's codes for ever: the admin never shows one, nor
# django-otp's QR code and configuration views (which answer 403).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Passkeys (WebAuthn) as a second factor. The relying party id is the site's domain (browsers
# refuse IP addresses); origins are the exact scheme://host[:port] the pages are served from.
# Production defaults to the first allowed host, served over HTTPS.
_PASSKEY_HOST = ALLOWED_HOSTS[0] if PRODUCTION and ALLOWED_HOSTS else "localhost"
OTP_WEBAUTHN_RP_ID = env_str("OTP_WEBAUTHN_RP_ID", _PASSKEY_HOST)
OTP_WEBAUTHN_RP_NAME = env_str("OTP_WEBAUTHN_RP_NAME", "Portal")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list(
    "OTP_WEBAUTHN_ALLOWED_ORIGINS",
    [f"https://{_PASSKEY_HOST}"] if PRODUCTION else ["http://localhost:8000"],
)
# The package's own views would sign someone in with a passkey alone, around allauth's login
# stages, so they stay closed; the portal's passkey sign-in (PORTAL_PASSKEY_SIGN_IN) has views of
# its own that go through the stages. Registration therefore asks for a discoverable passkey
# only as a preference, as phones and password managers create anyway.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# Offer "Sign in with a passkey" on the login page: a passkey that verifies its user (PIN or
# biometric) stands for both factors, as it does at the big providers.
PORTAL_PASSKEY_SIGN_IN = env_bool("PORTAL_PASSKEY_SIGN_IN", True)
# --- Social login -----------------------------------------------------------------------
# Each provider is switched on by giving its client id and secret; a provider without them
# has no app, so allauth leaves it off the login page. Generic OpenID Connect providers are
# listed by id in SOCIAL_OIDC_PROVIDERS, each read from SOCIAL_OIDC_<ID>_* variables.

SOCIALACCOUNT_ADAPTER = "apps.accounts.social_adapter.PortalSocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = social_login_providers(production=PRODUCTION)
# A social account is found by (provider, subject id) only. An address the provider reports
# never signs anyone in to, or gets linked to, an existing account by itself: the adapter
# asks for the existing account's own sign-in first.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_VERIFICATION = ACCOUNT_EMAIL_VERIFICATION
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("SOCIALACCOUNT_REQUESTS_TIMEOUT", 5, minimum=1)

# --- The portal as an OpenID Connect provider --------------------------------------------
# Partner applications sign their users in with the authorization code flow and PKCE. The
# ID-token signing key comes from OIDC_RSA_PRIVATE_KEY (or _FILE); development makes one in
# var/ on first use.

OIDC_RSA_PRIVATE_KEY = _require("OIDC_RSA_PRIVATE_KEY", env_secret("OIDC_RSA_PRIVATE_KEY"))
OIDC_RSA_PRIVATE_KEY = load_oidc_signing_key(
    OIDC_RSA_PRIVATE_KEY, development_path=None if PRODUCTION else VAR_DIR / "oidc-rsa.pem"
)
# Scopes a partner application may ask for. Other areas add their own entries here.
OAUTH2_SCOPES = {
    "openid": "Sign you in with your portal account",
    "profile": "See your basic profile",
    "email": "See your email address and whether it is verified",
}
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": OIDC_RSA_PRIVATE_KEY,
    "OIDC_ISS_ENDPOINT": env_str("OIDC_ISSUER", ""),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_VALIDATOR_CLASS": "apps.accounts.oidc.PortalOAuth2Validator",
    "APPLICATION_ADMIN_CLASS": "apps.accounts.admin_oauth.PartnerApplicationAdmin",
    "SCOPES": OAUTH2_SCOPES,
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("PORTAL_OAUTH_TOKEN_SECONDS", 600, minimum=60),
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int(
        "PORTAL_OAUTH_REFRESH_TOKEN_SECONDS", 14 * 24 * 3600, minimum=3600
    ),
    # Every refresh hands out a new refresh token, and presenting a used one revokes the
    # whole family: a stolen refresh token works at most until its owner's next refresh.
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
    # OAuth 2.0 Security Best Current Practice: no implicit or password grants, S256 only,
    # tokens only in headers, the issuer in every authorization response, hashed storage.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# --- Email -------------------------------------------------------------------------------

# Development writes mail to files under var/mail rather than the console: the worker's console
# output is a log, and logs are scrubbed of one-time keys, so a printed confirmation link would
# arrive without its key.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
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
# Pages load scripts, styles, fonts and images from this site alone, and no page runs inline
# script: an injected <script> or on...= attribute does not execute, and nothing is fetched from
# or sent to another origin by script. Images may be data: URIs (the TOTP QR code). form-action
# is left out on purpose: Chromium applies it to the redirect after a form is sent, and sign-in
# with a social provider and the OpenID consent form both end in a redirect to another site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
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

# --- Encryption keys and data classification ---------------------------------------------

# Named Tink keysets (see apps/core/crypto/keyring.py): PORTAL_KEYSET_<NAME> holds the keyset's
# JSON, or PORTAL_KEYSET_<NAME>_FILE a path to it; optionally wrapped by PORTAL_MASTER_KEYSET.
# Development generates missing ones in this folder; production refuses to start without them.
PORTAL_KEYSET_DIR = Path(env_str("PORTAL_KEYSET_DIR") or VAR_DIR / "keysets")
PORTAL_KEYSET_NAMES = ["pii", "pii-index", "pci", "pci-index"]
for _keyset in PORTAL_KEYSET_NAMES:
    _variable = "PORTAL_KEYSET_" + _keyset.upper().replace("-", "_")
    _require(_variable, env_str(_variable) or env_str(f"{_variable}_FILE"))
# Where this deployment stores data; fields whose classification excludes it fail the checks.
PORTAL_DATA_REGION = env_str("PORTAL_DATA_REGION", "eu")
CELERY_BEAT_SCHEDULE = globals().get("CELERY_BEAT_SCHEDULE", {})
# A queued email never tried after this many seconds lost its task with the broker: the
# outbox sweep publishes it again.
PORTAL_OUTBOX_REPUBLISH_AFTER = 120
CELERY_BEAT_SCHEDULE["core-deliver-waiting-emails"] = {
    "task": "apps.core.tasks.deliver_waiting_emails",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["core-apply-retention"] = {
    "task": "apps.core.tasks.apply_retention",
    "schedule": 24 * 60 * 60,
}

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

# Machine clients: OAuth2 client credentials with opaque, short-lived, revocable tokens. The
# provider itself (OAUTH2_PROVIDER) is set up under "The portal as an OpenID Connect provider".
OAUTH2_SCOPES.update(
    {
        "customers:read": "Read your customers",
        "customers:personal": "Read and write your customers' personal fields",
        "customers:write": "Create and change your customers",
        "events:write": "Send security events",
        "authz:check": "Check permissions",
        # Data-subject requests (apps.gdpr): file and follow them, read consents.
        "privacy:requests": "File and follow data-subject requests for your customers",
        "privacy:consents": "Read your customers' consents",
    }
)
# Filtered per application by the scopes backend: a partner's client gets customers:read, an
# application with no partner gets openid.
OAUTH2_PROVIDER["DEFAULT_SCOPES"] = ["openid", "customers:read"]
OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"] = "apps.partners.scopes.PartnerApplicationScopes"

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

# --- Access control ----------------------------------------------------------------------

# Object grants are django-guardian rows, reached only through apps.rbac. Guardian's own
# anonymous user is not created: anonymous visitors are denied before any grant is read.
ANONYMOUS_USER_NAME = None
# Guardian's backend answers user.has_perm(perm, obj); nothing here asks that, on purpose: every
# object check goes through apps.rbac.services.authorize().
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "guardian.W001"]
# Accounts unused for this many days are disabled and lose their roles (a daily beat task).
RBAC_INACTIVE_ACCOUNT_DAYS = env_int("RBAC_INACTIVE_ACCOUNT_DAYS", 90, minimum=1)
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "rbac-expire-bindings": {"task": "apps.rbac.tasks.expire_role_bindings", "schedule": 300.0},
    "rbac-disable-inactive-accounts": {
        "task": "apps.rbac.tasks.disable_inactive_accounts",
        "schedule": 24 * 60 * 60.0,
    },
}

# --- Security monitoring -----------------------------------------------------------------

# Where alerts go: addresses of the security team, and a webhook signed with HMAC-SHA256.
SIEM_ALERT_EMAILS = env_list("SIEM_ALERT_EMAILS")
SIEM_ALERT_WEBHOOK_URL = env_str("SIEM_ALERT_WEBHOOK_URL", "")
SIEM_ALERT_WEBHOOK_SECRET = env_secret("SIEM_ALERT_WEBHOOK_SECRET") or ""
# Forward every sealed event as CEF over syslog, e.g. tcp://collector.example:6514 or
# udp://10.0.0.5:514. Empty means no forwarding.
SIEM_SYSLOG_URL = env_str("SIEM_SYSLOG_URL", "")
SIEM_SYSLOG_TIMEOUT_SECONDS = env_int("SIEM_SYSLOG_TIMEOUT_SECONDS", 5, minimum=1)
SIEM_INGEST_MAX_BATCH = env_int("SIEM_INGEST_MAX_BATCH", 1000, minimum=1)
# Record every API call as an `api.request` event, which the API-flood rule counts. On by
# default in production; development and the test suite leave it off unless asked.
SIEM_RECORD_API_REQUESTS = env_bool("SIEM_RECORD_API_REQUESTS", default=PRODUCTION)

CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "siem-seal-events": {"task": "apps.siem.tasks.seal_events", "schedule": 10.0},
    "siem-verify-chain": {"task": "apps.siem.tasks.verify_event_chain", "schedule": 3600.0},
    "siem-forward-events": {"task": "apps.siem.tasks.forward_events", "schedule": 15.0},
    "siem-expire-restrictions": {"task": "apps.siem.tasks.release_expired", "schedule": 60.0},
    "siem-run-waiting-playbooks": {
        "task": "apps.siem.tasks.run_waiting_playbooks",
        "schedule": 300.0,
    },
}

# --- Card vault --------------------------------------------------------------------------

# Card numbers are kept this long unless renewed (the classification policy for card data).
PCI_CARD_RETENTION_DAYS = env_int("PCI_CARD_RETENTION_DAYS", 90, minimum=1)
OAUTH2_PROVIDER["SCOPES"].update(
    {
        "cards:tokenize": "Store your customers' cards as tokens",
        "cards:read": "List your stored cards, masked",
        "cards:delete": "Delete your stored cards",
        "cards:detokenize": "Reveal a stored card number, with a stated purpose",
    }
)
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "pci-purge-expired-card-tokens": {
        "task": "apps.pci.tasks.purge_expired_card_tokens",
        "schedule": 60 * 60,
    },
}

# --- Data-subject requests (apps.gdpr) ---------------------------------------------------

# Finished exports wait here for their one download; never under a publicly served folder.
GDPR_EXPORT_DIR = env_str("GDPR_EXPORT_DIR") or str(VAR_DIR / "private" / "exports")
# Time in which the subject may still cancel an approved erasure; 0 runs it at once.
GDPR_ERASURE_GRACE_SECONDS = env_int("GDPR_ERASURE_GRACE_SECONDS", 0, minimum=0)
# Runs of one request (crashes included) before it is marked failed and staff are alerted.
GDPR_MAX_ATTEMPTS = env_int("GDPR_MAX_ATTEMPTS", 5, minimum=1)
GDPR_RETRY_BACKOFF_SECONDS = env_int("GDPR_RETRY_BACKOFF_SECONDS", 30, minimum=0)
# A running request whose task has not been seen for this long may be taken over by another.
GDPR_CLAIM_TIMEOUT_SECONDS = env_int("GDPR_CLAIM_TIMEOUT_SECONDS", 3600, minimum=1)
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "gdpr-flag-overdue": {"task": "apps.gdpr.tasks.flag_overdue_requests", "schedule": 3600},
    "gdpr-release-scheduled": {
        "task": "apps.gdpr.tasks.release_scheduled_requests",
        "schedule": 300,
    },
    "gdpr-purge-exports": {"task": "apps.gdpr.tasks.purge_exports", "schedule": 3600},
}
# A broker visibility timeout shorter than Redis's one hour, for fault tests that expect an
# unacknowledged task back within seconds; the sweep that restores such tasks then runs every
# second instead of every 100.
if _visibility := env_int("CELERY_VISIBILITY_TIMEOUT", 0, minimum=0):
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "visibility_timeout": _visibility,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
