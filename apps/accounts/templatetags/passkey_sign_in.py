"""The login page's passkey button, configured without touching allauth's login view."""

from django import template

from apps.accounts.mfa.passkeys import passkey_sign_in_configuration

register = template.Library()


@register.simple_tag(takes_context=True)
def passkey_sign_in_config(context):
    return passkey_sign_in_configuration(context["request"])
