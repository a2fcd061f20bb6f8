"""/api/v1/claims/: read only, filtered by what the caller may see, with the claim's evidence."""

import pytest
from rest_framework.test import APIClient

from claims.models import Claim
from claims.services import claim_file

from .conftest import apply_refund

pytestmark = pytest.mark.django_db


def test_an_agent_reads_the_claims_and_filters_them_by_status(lost_case, agent, manager):
    claim = Claim.objects.get(remedy=apply_refund(lost_case, agent))
    client = APIClient()
    client.force_authenticate(agent)
    (row,) = client.get("/api/v1/claims/").json()["results"]
    assert (row["id"], row["courier"], row["amount"], row["status"]) == (claim.pk, "SlowPost", "120.00", "to_file")
    assert [event["code"] for event in row["evidence"]["tracking"]] == ["in_transit", "lost"]
    claim_file(claim=claim, by=manager, reference="SP-5")
    assert client.get("/api/v1/claims/", {"status": "to_file"}).json()["results"] == []
    assert client.get(f"/api/v1/claims/{claim.pk}/").json()["courier_reference"] == "SP-5"
    assert client.get("/api/v1/claims/", {"status": "lost"}).status_code == 400
    assert client.post("/api/v1/claims/", {}).status_code == 405
