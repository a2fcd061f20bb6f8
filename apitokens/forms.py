from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from caseapp.roles import AGENT, MANAGER


def token_holders():
    """Who may hold a token: active agents and managers."""
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(groups__name__in=(AGENT, MANAGER)) | Q(is_superuser=True)).distinct().order_by("username"))


class ApiTokenCreateForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Acts as"), queryset=None)
    name = forms.CharField(label=_("What uses it"), max_length=100,
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. back office")}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = token_holders()
