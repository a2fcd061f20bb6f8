"""The staff list: managers see every agent and manager, who is locked out of logging in, and unlock them."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import accounts
from ..permissions import manager_required


@manager_required
def staff_list(request):
    return render(request, "dashboard/staff.html", {"members": accounts.staff_members()})


@require_POST
@manager_required
def staff_unlock(request, user_pk):
    user = get_object_or_404(accounts.staff_users(), pk=user_pk)  # only agents and managers
    accounts.staff_login_unlock(user=user, by=request.user)
    messages.success(request, _("%(username)s can log in again.") % {"username": user.get_username()})
    return redirect("dashboard:staff")
