import pytest
from django.urls import reverse

from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_staff_read_the_trail_in_the_admin_and_cannot_change_it(client):
    # given a case and a superuser
    case = CaseFactory()
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    # when
    response = client.get(reverse("admin:audit_caseaudit_changelist"))
    # then
    assert response.status_code == 200
    assert f">{case.pk}<" in response.content.decode()
    assert client.get(reverse("admin:audit_caseaudit_add")).status_code == 403
