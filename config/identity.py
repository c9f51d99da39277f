"""Settings for signing in with other identity providers and for being one, read from the env.

Kept out of ``config.settings`` because both need a few lines of logic each: the social
providers are built per provider from their variables, and the OpenID Connect signing key is
checked (or, in development, generated) before anything signs with it.
"""

import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from config.env import env_list, env_secret, env_str

# Scopes asked of each fixed provider: enough to learn who the person is and their address.
_FIXED_PROVIDERS = {
    "google": {"SCOPE": ["openid", "profile", "email"], "OAUTH_PKCE_ENABLED": True},
    "facebook": {"METHOD": "oauth2", "SCOPE": ["email", "public_profile"]},
    "github": {"SCOPE": ["user:email"]},
}
_PROVIDER_ID = re.compile(r"^[a-z][a-z0-9-]{0,29}$")
MINIMUM_RSA_BITS = 2048


def social_login_providers(*, production: bool) -> dict:
    """allauth's SOCIALACCOUNT_PROVIDERS, with an app only for each provider that is configured.

    ``SOCIAL_<NAME>_CLIENT_ID`` and ``SOCIAL_<NAME>_SECRET`` (or ``_SECRET_FILE``) switch on
    Google, Facebook and GitHub. Generic OpenID Connect providers are listed by id in
    ``SOCIAL_OIDC_PROVIDERS``; each reads ``SOCIAL_OIDC_<ID>_CLIENT_ID``, ``_SECRET``,
    ``_SERVER_URL`` (the issuer) and an optional display ``_NAME``.
    """
    providers = {}
    for name, options in _FIXED_PROVIDERS.items():
        app = _client_credentials(f"SOCIAL_{name.upper()}")
        providers[name] = {**options, "APPS": [app] if app else []}

    oidc_apps = []
    for provider_id in env_list("SOCIAL_OIDC_PROVIDERS"):
        if not _PROVIDER_ID.match(provider_id):
            raise ImproperlyConfigured(
                f"SOCIAL_OIDC_PROVIDERS entry {provider_id!r} must be lower-case letters, digits"
                " and dashes, starting with a letter"
            )
        prefix = f"SOCIAL_OIDC_{provider_id.upper().replace('-', '_')}"
        app = _client_credentials(prefix)
        server_url = env_str(f"{prefix}_SERVER_URL")
        if not app or not server_url:
            raise ImproperlyConfigured(
                f"{prefix}_CLIENT_ID, {prefix}_SECRET and {prefix}_SERVER_URL are all required"
            )
        if production and not server_url.startswith("https://"):
            raise ImproperlyConfigured(f"{prefix}_SERVER_URL must be an https:// address")
        oidc_apps.append(
            {
                **app,
                "provider_id": provider_id,
                "name": env_str(f"{prefix}_NAME") or provider_id,
                "settings": {"server_url": server_url, "oauth_pkce_enabled": True},
            }
        )
    providers["openid_connect"] = {"OAUTH_PKCE_ENABLED": True, "APPS": oidc_apps}
    return providers


def _client_credentials(prefix: str) -> dict | None:
    client_id = env_str(f"{prefix}_CLIENT_ID")
    secret = env_secret(f"{prefix}_SECRET")
    if not client_id and not secret:
        return None
    if not (client_id and secret):
        raise ImproperlyConfigured(f"{prefix}_CLIENT_ID and {prefix}_SECRET go together")
    return {"client_id": client_id, "secret": secret, "key": ""}


def load_oidc_signing_key(pem: str | None, *, development_path: Path | None) -> str:
    """The PEM of the RSA key that signs ID tokens, checked now rather than at first sign-in.

    Without a configured key, development generates one at ``development_path`` and keeps it,
    so tokens issued before a restart still verify. Production passes no path and must have
    a key (settings refuses to start before this is called).
    """
    if not pem and development_path is not None:
        if not development_path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=MINIMUM_RSA_BITS)
            development_path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            development_path.chmod(0o600)
        pem = development_path.read_text(encoding="utf-8")

    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, AttributeError):
        # Never echo the value: it is a private key, or something meant to be one.
        raise ImproperlyConfigured("OIDC_RSA_PRIVATE_KEY is not an unencrypted PEM key") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MINIMUM_RSA_BITS:
        raise ImproperlyConfigured(
            f"OIDC_RSA_PRIVATE_KEY must be an RSA key of at least {MINIMUM_RSA_BITS} bits"
        )
    return pem
