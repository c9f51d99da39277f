from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from apps.pci import services
from apps.pci.access import Caller
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
