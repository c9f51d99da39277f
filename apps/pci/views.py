from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.pci import services
from apps.pci.access import Caller, caller_from_request
from apps.pci.models import CardToken


@login_required
@require_POST
def delete_card(request, token):
    """Remove one of the signed-in user's saved cards from the account page."""
    card = CardToken.objects.filter(token=token, owner_user=request.user).first()
    if card is None:
        raise Http404
    masked = card.masked
    services.delete_card_token(card=card, actor=Caller.for_user(request.user))
    messages.success(request, f"{masked} was removed.")
    return redirect("account_overview")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reveal_card(request, token):
    """Reveal a card number to someone allowed to see it, once they have said why.

    The service decides and records every attempt; a refusal is rendered, not raised, so that
    the request's transaction commits the event that records it. A missing second factor sends
    the person to confirm one and come back.
    """
    if request.method == "GET":
        return render(request, "pci/reveal_card.html", {"token": token})

    purpose = request.POST.get("purpose", "")[: services.PURPOSE_MAX_LENGTH]
    try:
        number = services.detokenize_card(
            token=token, purpose=purpose, actor=caller_from_request(request)
        )
    except services.DetokenizationRefused as refused:
        reason = refused.reason if refused.reason in REFUSAL_TEXT else "not_permitted"
        confirm = f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.path})}"
        context = {
            "token": token,
            "purpose": purpose,
            "refusal": REFUSAL_TEXT[reason],
            "second_factor_url": confirm if reason == "second_factor_required" else "",
        }
        status = 400 if reason == "no_purpose" else 403
        return render(request, "pci/reveal_card.html", context, status=status)
    return render(request, "pci/reveal_card.html", {"token": token, "number": number})


REFUSAL_TEXT = {
    "no_purpose": "State why you need this card number (at least five characters).",
    "second_factor_required": "Confirm your second factor, then try again within five minutes.",
    "expired": "This card has passed its retention date.",
    "not_permitted": "You may not reveal this card number.",
}
