"""The managers' page of API tokens: create one (its secret is shown once), see when each was last used, revoke."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.permissions import manager_required

from .forms import ApiTokenCreateForm
from .models import ApiToken
from .selectors import api_tokens
from .services import api_token_create, api_token_revoke

TOKENS_SHOWN = 200


def _page(request, form, *, secret=None, created=None, status=200):
    return render(request, "apitokens/tokens.html", {
        "form": form, "tokens": api_tokens()[:TOKENS_SHOWN], "secret": secret, "created": created,
    }, status=status)


@manager_required
def token_list(request):
    if request.method != "POST":
        return _page(request, ApiTokenCreateForm())
    form = ApiTokenCreateForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        token, secret = api_token_create(user=form.cleaned_data["user"], name=form.cleaned_data["name"],
                                         by=request.user)
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _page(request, form, status=400)
    # Not a redirect: the secret exists only in this response.
    response = _page(request, ApiTokenCreateForm(), secret=secret, created=token, status=201)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@manager_required
def token_revoke(request, token_pk):
    token = get_object_or_404(ApiToken, pk=token_pk)
    api_token_revoke(token=token, by=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("apitokens:tokens")
