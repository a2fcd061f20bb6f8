"""A bounded fuzz of the dashboard's forms and filters (hypothesis): whatever a careless or hostile person types,
the answer is a page or a 4xx, never a 5xx. The API is fuzzed from its schema in tests/api/test_v1_schemathesis.py.

Each form gets FUZZ_EXAMPLES generated submissions (deterministic: derandomized), as a manager, who may use all
of them, on a case she owns."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

FUZZ_EXAMPLES = 30
NASTY = ["", " ", "\x00", "0", "-1", "1e30", "1e10", "99999999999", "NaN", "Infinity", "0001-01-01", "9999-12-31",
         "9999-12-31T23:59:59Z", "2026-02-30", "<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "😀" * 50,
         "x" * 5000, "🙂\u202e", "-0.001", "12,50", "1 200,00"]
# Any text a browser can send (a lone surrogate cannot be encoded in a form: the middleware test covers it raw).
value = st.one_of(st.sampled_from(NASTY), st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
FORMS = {
    "note": ("post", "/cases/{pk}/note/", ["kind", "text"]),
    "promise": ("post", "/cases/{pk}/promise/", ["description", "due_at", "owner", "made_by_name"]),
    "status": ("post", "/cases/{pk}/status/", ["status", "reason"]),
    "reopen": ("post", "/cases/{pk}/reopen/", ["reason"]),
    "assign": ("post", "/cases/{pk}/assign/", ["owner"]),
    "override": ("post", "/cases/{pk}/override/", ["kind", "budget", "amount", "currency", "reason", "cancel_order"]),
    "apply": ("post", "/cases/{pk}/apply/", ["key"]),
    "delivery check": ("post", "/cases/{pk}/delivery-check/", ["shipment"]),
    "queue filters": ("get", "/", ["status", "category", "channel", "owner", "page", "quiet"]),
    "report period": ("get", "/reports/remedies/", ["date_from", "date_to", "currency"]),
    "policy compare": ("get", "/policies/compare/", ["a", "b"]),
    "search": ("get", "/search/", ["q", "go"]),
}


@pytest.fixture
def manager_on_a_case(db):
    manager = UserFactory(username="fuzz-manager", role="manager")
    case = CaseFactory(owner=manager)
    client = Client()
    client.force_login(manager)
    return client, case


@pytest.mark.parametrize("form", list(FORMS))
def test_no_form_answers_5xx_to_anything_typed(manager_on_a_case, form):
    client, case = manager_on_a_case
    method, path, fields = FORMS[form]
    answers = []

    @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.fixed_dictionaries({name: value for name in fields}))
    def submit(data):
        response = getattr(client, method)(path.format(pk=case.pk), data)
        answers.append(response.status_code)
        assert response.status_code < 500, (form, data, response.status_code)

    submit()
    assert len(answers) >= FUZZ_EXAMPLES // 2  # the fuzz ran
