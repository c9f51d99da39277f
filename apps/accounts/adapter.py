from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.template.exceptions import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse

from apps.accounts.identifiers import normalize_email
from apps.accounts.redirects import is_local_path
from apps.core.client_ip import client_ip
from apps.core.mail import queue_email


class PortalAccountAdapter(DefaultAccountAdapter):
    """The portal's decisions inside allauth's flows: addresses, redirects, mail, counters."""

    def get_client_ip(self, request):
        # One answer for the whole portal, resolved by the trusted-proxy rule in apps.core.
        return getattr(request, "client_ip", None) or client_ip(request)

    def is_safe_url(self, url):
        return is_local_path(url)

    def clean_email(self, email):
        return normalize_email(super().clean_email(email))

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth counts failed logins per identifier as typed. We count per account instead, so
        # that "Alice@Example.com", " alice@example.com " and a secondary address of the same
        # account all drain one counter. Unknown identifiers keep a counter of their own.
        identifier = normalize_email(credentials.get("email") or credentials.get("username"))
        address = (
            EmailAddress.objects.filter(email=identifier).values_list("user_id", flat=True).first()
        )
        return f"account:{address}" if address else f"identifier:{identifier}"

    def get_login_stages(self):
        # Last, so that it runs after email verification, for every kind of login.
        return [*super().get_login_stages(), "apps.accounts.mfa.stage.SecondFactorStage"]

    def get_reauthentication_methods(self, user):
        methods = super().get_reauthentication_methods(user)
        from apps.accounts.mfa.services import has_second_factor

        if user.is_authenticated and has_second_factor(user):
            methods.append(
                {
                    "id": "portal_mfa_reauthenticate",
                    "description": "Use your authenticator app or a backup code",
                    "url": reverse("mfa_reauthenticate"),
                }
            )
        return methods

    def send_mail(self, template_prefix, email, context):
        """Render now, in the request, and hand delivery to a worker after commit."""
        request = allauth_context.request
        site = get_current_site(request) if request else None
        context = {"email": email, "request": request, "current_site": site, **context}

        subject = render_to_string(f"{template_prefix}_subject.txt", context, request)
        subject = self.format_email_subject(" ".join(subject.splitlines()).strip())
        body_text = render_to_string(f"{template_prefix}_message.txt", context, request).strip()
        try:
            body_html = render_to_string(f"{template_prefix}_message.html", context, request)
        except TemplateDoesNotExist:
            body_html = ""

        queue_email(
            recipients=[email], subject=subject, body_text=body_text, body_html=body_html.strip()
        )
