"""The customer's pages: no login, the signed link authorises; only the customer's own case is named, no staff data.

GET on a rating link records that score once and sends the customer on to the comment page; a second use, a
tampered or an expired link is a clear page with a 4xx and changes nothing. Every page is in the customer's
language and never cached (the URL carries the token).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .models import Survey
from .services import COMMENT_MAX_LENGTH, SurveyAlreadyAnswered, survey_comment, survey_rate
from .tokens import LinkExpired, LinkInvalid, link_read


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Anything you would like to tell us?"), max_length=COMMENT_MAX_LENGTH,
                              widget=forms.Textarea(attrs={"rows": 5}))


def _problem(request, problem: str, status: int, survey: Survey | None = None):
    return render(request, "surveys/link_problem.html", {"problem": problem, "survey": survey}, status=status)


def _survey_of(request, token: str):
    """(survey, link, None) or (None, None, the page that says what is wrong with the link)."""
    try:
        link = link_read(token)
    except LinkExpired:
        return None, None, _problem(request, "expired", 410)
    except LinkInvalid:
        return None, None, _problem(request, "invalid", 400)
    survey = Survey.objects.select_related("customer", "case").filter(public_id=link.public_id,
                                                                      sent_at__isnull=False).first()
    if survey is None:
        return None, None, _problem(request, "invalid", 404)
    return survey, link, None


@never_cache
@require_GET
def rate(request, token):
    survey, link, problem = _survey_of(request, token)
    if problem:
        return problem
    with translation.override(survey.customer.preferred_language):
        try:
            survey_rate(survey=survey, score=link.score)
        except SurveyAlreadyAnswered:
            return _problem(request, "already_rated", 409, survey=survey)
    return redirect("surveys:comment", token=token)


@never_cache
@require_http_methods(["GET", "POST"])
def comment(request, token):
    survey, _link, problem = _survey_of(request, token)
    if problem:
        return problem
    with translation.override(survey.customer.preferred_language):
        if survey.rating is None:
            return _problem(request, "not_rated", 409, survey=survey)
        if survey.comment:
            return _problem(request, "already_commented", 409, survey=survey)
        form = CommentForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                survey_comment(survey=survey, comment=form.cleaned_data["comment"])
            except SurveyAlreadyAnswered:
                return _problem(request, "already_commented", 409, survey=survey)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return render(request, "surveys/thanks.html", {"survey": survey})
        status = 400 if form.is_bound else 200
        return render(request, "surveys/comment.html", {"survey": survey, "form": form}, status=status)
