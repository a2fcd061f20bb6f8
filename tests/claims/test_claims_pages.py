"""The claims page for managers, and the claim on the case page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from claims.models import Claim, ClaimStatus

from .conftest import apply_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(lost_case, agent):
    return Claim.objects.get(remedy=apply_refund(lost_case, agent))


def act(client, claim, **data):
    return client.post(reverse("dashboard:claim_act", args=[claim.pk]), data)


def test_a_manager_works_a_claim_from_the_claims_page(client, manager, claim):
    client.force_login(manager)
    page = client.get(reverse("dashboard:claims"), {"status": "to_file"}).content.decode()
    assert f'id="claim-{claim.pk}"' in page and "SlowPost" in page and "120.00\xa0EUR" in page
    assert act(client, claim, action="file", reference="SP-42").status_code == 302
    assert act(client, claim, action="accept").status_code == 302
    assert act(client, claim, action="pay", recovered="100.00").status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.courier_reference, claim.recovered_amount) == (
        ClaimStatus.PAID, "SP-42", Decimal("100.00"))
    # and the filters find it as paid, not as still to file
    assert f'id="claim-{claim.pk}"' in client.get(reverse("dashboard:claims"), {"status": "paid"}).content.decode()
    assert f'id="claim-{claim.pk}"' not in client.get(reverse("dashboard:claims"),
                                                      {"status": "to_file"}).content.decode()


def test_bad_input_shows_the_error_beside_the_claim_and_changes_nothing(client, manager, claim):
    client.force_login(manager)
    missing = act(client, claim, action="file", reference=" ")
    assert missing.status_code == 400 and "Give the courier&#x27;s reference for the claim." in missing.content.decode()
    act(client, claim, action="file", reference="SP-1")
    act(client, claim, action="accept")
    too_much = act(client, claim, action="pay", recovered="500.00")
    assert too_much.status_code == 400
    assert "The courier cannot pay back more than was claimed." in too_much.content.decode()
    assert act(client, claim, action="pay", recovered="").status_code == 400
    assert act(client, claim, action="teleport").status_code == 400
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ACCEPTED and claim.recovered_amount is None


def test_the_case_page_shows_the_claim_on_its_panel_and_timeline(client, agent, claim):
    client.force_login(agent)
    page = client.get(reverse("dashboard:case", args=[claim.case_id])).content.decode()
    assert f'id="case-claim-{claim.pk}"' in page and "Courier claim" in page
    assert "Claim opened against SlowPost for 120.00\xa0EUR" in page
