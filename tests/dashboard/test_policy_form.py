"""The policy without YAML: a manager changes the approval thresholds and a rule's values in a form, which writes
a new, validated version (never a half-written one) to compare, replay and activate; typos are field errors. The
YAML view shows each validation error beside its line."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from policies.engine import validate_policy
from policies.models import PolicyVersion
from policies.services import policy_default_ensure, policy_replay, policy_version_activate
from tests.factories import CaseFactory, OrderFactory, ShipmentFactory, ValidityRuleFactory

pytestmark = pytest.mark.django_db

RULE = "late-delivery-discount"
PERCENT = "rule:remedy.parameters.amount.percent"
DAYS_LATE = "rule:when.all[0].ge"


@pytest.fixture
def active(db):
    ValidityRuleFactory()
    return policy_default_ensure()


@pytest.fixture
def late_case(active):
    """An order promised three days ago, still on its way: the late-delivery discount applies."""
    today = timezone.localdate()
    order = OrderFactory(total=Decimal("79.90"), currency="EUR", placed_at=timezone.now() - timedelta(days=8),
                         promised_delivery_date=today - timedelta(days=3))
    shipment = ShipmentFactory(order=order, status="delayed", estimated_delivery=today + timedelta(days=1))
    return CaseFactory(customer=order.customer, order=order, shipment=shipment, category="late_delivery",
                       channel="system")


def _initial(form_page) -> dict:
    """What the browser would send back unchanged: every field's initial value."""
    form = form_page.context["form"]
    data = {"base": form_page.context["base"].pk}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    return data


def _rule(document, rule_id=RULE):
    return next(rule for rule in document["rules"] if rule["id"] == rule_id)


def test_the_form_shows_the_active_thresholds_and_the_rules_values(manager_client, active):
    response = manager_client.get(reverse("dashboard:policy_form"), {"rule": RULE})
    assert response.status_code == 200
    form = response.context["form"]
    assert form["threshold:discount:EUR"].value() == "50.00"
    assert form["threshold:*:RON"].value() == "500.00"
    assert form[PERCENT].value() == "5"
    assert form[DAYS_LATE].value() == 1
    assert "Days late: at least" in response.content.decode()


def test_lowering_a_threshold_writes_a_new_version_that_validates_and_replays(manager_client, manager, active,
                                                                               late_case):
    # given the form as shown, with the EUR discount threshold lowered from 50.00 to 3.00
    data = _initial(manager_client.get(reverse("dashboard:policy_form")))
    data["threshold:discount:EUR"] = "3.00"
    data["note"] = "Every discount above 3 EUR to a manager"
    # when
    response = manager_client.post(reverse("dashboard:policy_form"), data)
    # then a new version is written, not active, that differs only there
    version = PolicyVersion.objects.order_by("-number").first()
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:policy", args=[version.pk])
    assert (version.number, version.is_active, version.author, version.note) == (
        active.number + 1, False, manager, "Every discount above 3 EUR to a manager")
    expected = {**active.document}
    expected["approval"] = {**active.document["approval"], "thresholds": {
        **active.document["approval"]["thresholds"],
        "discount": {**active.document["approval"]["thresholds"]["discount"], "EUR": "3.00"}}}
    assert version.document == expected
    assert validate_policy(version.document, budgets=None) == []
    # and its replay over today's cases sends the 4.00 EUR late discount to a manager
    today = timezone.localdate()
    report = policy_replay(version=version, date_from=today, date_to=today)
    assert report.cases == 1 and report.needing_approval == 1
    # and the version page offers the comparison with the active version, the replay and the activation
    page = manager_client.get(response["Location"]).content.decode()
    assert reverse("dashboard:policy_compare") + f"?a={active.pk}&amp;b={version.pk}" in page
    assert reverse("dashboard:policy_activate", args=[version.pk]) in page


def test_a_rules_values_change_in_the_form(manager_client, late_case, active):
    # given the late-delivery rule's values: 10% instead of 5%, from 2 days late
    data = _initial(manager_client.get(reverse("dashboard:policy_form"), {"rule": RULE}))
    data[PERCENT] = "10"
    data[DAYS_LATE] = "2"
    # when
    response = manager_client.post(reverse("dashboard:policy_form"), data)
    # then
    assert response.status_code == 302
    version = PolicyVersion.objects.order_by("-number").first()
    rule = _rule(version.document)
    assert rule["remedy"]["parameters"]["amount"]["percent"] == "10.00"
    assert rule["when"]["all"][0] == {"fact": "days_late", "ge": 2}
    assert "needs_approval" not in rule  # an unticked box the rule never had adds nothing
    others = [r for r in version.document["rules"] if r["id"] != RULE]
    assert others == [r for r in active.document["rules"] if r["id"] != RULE]
    # and activated, it proposes 10% for the late order
    policy_version_activate(version=version)
    today = timezone.localdate()
    report = policy_replay(version=version, date_from=today, date_to=today)
    assert report.cost_by_currency == {"EUR": Decimal("7.99")}


@pytest.mark.parametrize("field, value, message", [
    ("threshold:discount:EUR", "5O.00", "Enter a number."),
    ("threshold:discount:EUR", "-1", "greater than or equal to 0"),
    ("threshold:refund:RON", "1.234", "no more than 2 decimal places"),
    (DAYS_LATE, "one", "Enter a whole number."),
    (PERCENT, "150", "more than 100 percent"),  # the engine's refusal, beside its field
    ("limit:max_remedies_per_customer_per_year", "1.5", "Enter a whole number."),
])
def test_a_typo_is_a_field_error_and_writes_no_version(manager_client, active, field, value, message):
    data = _initial(manager_client.get(reverse("dashboard:policy_form"), {"rule": RULE}))
    data[field] = value
    versions = PolicyVersion.objects.count()
    response = manager_client.post(reverse("dashboard:policy_form"), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert PolicyVersion.objects.count() == versions


def test_an_unchanged_form_writes_nothing(manager_client, active):
    data = _initial(manager_client.get(reverse("dashboard:policy_form"), {"rule": RULE}))
    response = manager_client.post(reverse("dashboard:policy_form"), data)
    assert response.status_code == 400
    assert "Nothing changed" in " ".join(response.context["form"].non_field_errors())
    assert PolicyVersion.objects.count() == 1


def test_emptying_a_threshold_removes_that_currency(manager_client, active):
    data = _initial(manager_client.get(reverse("dashboard:policy_form")))
    data["threshold:refund:RUB"] = ""
    data["threshold:free_item:EUR"] = "40"
    assert manager_client.post(reverse("dashboard:policy_form"), data).status_code == 302
    thresholds = PolicyVersion.objects.order_by("-number").first().document["approval"]["thresholds"]
    assert "RUB" not in thresholds["refund"] and thresholds["free_item"] == {"EUR": "40.00"}


def test_the_yaml_view_shows_each_error_beside_its_line(manager_client, active):
    # given the YAML of the active policy with a typo in the late-delivery rule and in a threshold
    text = manager_client.get(reverse("dashboard:policy_yaml")).context["form"]["text"].value()
    lines = text.splitlines()
    rule_line = next(i for i, line in enumerate(lines) if f"id: {RULE}" in line)
    typo = next(i for i in range(rule_line, len(lines)) if "ge: 1" in lines[i])
    lines[typo] = lines[typo].replace("ge: 1", "gee: 1")
    threshold = next(i for i, line in enumerate(lines) if line.strip().startswith("discount:"))
    euro = next(i for i in range(threshold, len(lines)) if "EUR:" in lines[i])
    lines[euro] = lines[euro].replace("'50.00'", "'5O.00'")
    # when
    response = manager_client.post(reverse("dashboard:policy_yaml"), {"text": "\n".join(lines), "note": ""})
    # then nothing is written and each error is on the row of its line
    assert response.status_code == 400 and PolicyVersion.objects.count() == 1
    rows = {row["number"]: row for row in response.context["lines"]}
    assert [issue.field for issue in rows[typo + 1]["issues"]] == ["when.all[0].gee"]
    assert rows[typo + 1]["issues"][0].rule_id == RULE
    assert [issue.field for issue in rows[euro + 1]["issues"]] == ["approval.thresholds.discount"]
    page = response.content.decode()
    assert f'id="yaml-line-{typo + 1}" class="has-error"' in page and "unknown comparison" in page


def test_the_yaml_view_shows_a_syntax_error_on_its_line(manager_client, active):
    response = manager_client.post(reverse("dashboard:policy_yaml"), {"text": "rules:\n  - id: x\n    when: [\n"})
    assert response.status_code == 400
    assert [row["number"] for row in response.context["lines"] if row["issues"]] == [4]
    assert PolicyVersion.objects.count() == 1


def test_valid_yaml_writes_a_version(manager_client, active):
    text = manager_client.get(reverse("dashboard:policy_yaml")).context["form"]["text"].value()
    response = manager_client.post(reverse("dashboard:policy_yaml"), {
        "text": text.replace("max_remedies_per_customer_per_year: 12", "max_remedies_per_customer_per_year: 10"),
        "note": "Ten a year"})
    version = PolicyVersion.objects.order_by("-number").first()
    assert response.status_code == 302 and version.number == 2 and not version.is_active
    assert version.document["limits"]["max_remedies_per_customer_per_year"] == 10


def test_agents_do_not_reach_the_policy_forms(agent_client, active):
    assert agent_client.get(reverse("dashboard:policy_form")).status_code == 403
    assert agent_client.post(reverse("dashboard:policy_yaml"), {"text": "rules: []"}).status_code == 403
    assert PolicyVersion.objects.count() == 1


# The engine's reasons in the manager's language (the engine gives a code and params; dashboard translates).
TYPO_REASONS = {
    "en": ("unknown comparison", "is not an amount"),
    "ro": ("comparație necunoscută", "nu este o sumă"),
    "ru": ("неизвестное сравнение", "не сумма"),
    "it": ("confronto sconosciuto", "non è un importo"),
}


def _yaml_with_typos(manager_client):
    text = manager_client.get(reverse("dashboard:policy_yaml")).context["form"]["text"].value()
    lines = text.splitlines()
    rule_line = next(i for i, line in enumerate(lines) if f"id: {RULE}" in line)
    typo = next(i for i in range(rule_line, len(lines)) if "ge: 1" in lines[i])
    lines[typo] = lines[typo].replace("ge: 1", "gee: 1")
    threshold = next(i for i, line in enumerate(lines) if line.strip().startswith("discount:"))
    euro = next(i for i in range(threshold, len(lines)) if "EUR:" in lines[i])
    lines[euro] = lines[euro].replace("'50.00'", "'5O.00'")
    return "\n".join(lines), typo + 1, euro + 1


@pytest.mark.parametrize("language", ["en", "ro", "ru", "it"])
def test_the_yaml_views_reasons_are_in_the_managers_language(manager_client, active, language):
    text, typo, euro = _yaml_with_typos(manager_client)
    manager_client.cookies["django_language"] = language
    response = manager_client.post(reverse("dashboard:policy_yaml"), {"text": text, "note": ""},
                                   HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    rows = {row["number"]: row for row in response.context["lines"]}
    comparison, amount = TYPO_REASONS[language]
    typo_reason = str(rows[typo]["issues"][0].reason)
    assert rows[typo]["issues"][0].code == "unknown_comparison"
    assert typo_reason.startswith(comparison) and "<code>&#x27;gee&#x27;</code>" in typo_reason
    euro_reason = str(rows[euro]["issues"][0].reason)
    assert euro_reason.startswith("<code>EUR</code>: <code>&#x27;5O.00&#x27;</code>") and amount in euro_reason
    page = response.content.decode()
    assert comparison in page and amount in page
    if language != "en":
        assert "unknown comparison" not in page and "is not an amount" not in page


@pytest.mark.parametrize("language, reason", [
    ("en", "is more than 100 percent"), ("ro", "este mai mult de 100 la sută"),
    ("ru", "больше 100 процентов"), ("it", "è più del 100 per cento"),
])
def test_the_forms_engine_refusal_is_in_the_managers_language(manager_client, active, language, reason):
    data = _initial(manager_client.get(reverse("dashboard:policy_form"), {"rule": RULE}))
    data[PERCENT] = "150"
    manager_client.cookies["django_language"] = language
    response = manager_client.post(reverse("dashboard:policy_form"), data, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[PERCENT])
    assert reason in errors and "<code>" in errors
    assert PolicyVersion.objects.count() == 1


def test_every_code_the_engine_gives_has_a_translated_message():
    import re
    from pathlib import Path

    from django.utils import translation

    from dashboard.policy_issues import MESSAGES
    from policies import engine

    # every (reason, code) pair written in the engine and the policies' services
    source = Path(engine.__file__).read_text() + Path(engine.__file__).with_name("services.py").read_text()
    literal = r'"(?:[^"\\\n]|\\.)*"'
    reason_then_code = (r'(?:\b_Bad|\b_issue|\bPolicyIssue|\bbad)\((?:[^()"]|' + literal + r'|\([^()]*\))*?'
                        r'f?"(?:[^"\\\n]|\\.)* (?:[^"\\\n]|\\.)*",\s*"([a-z0-9_]+)"')
    codes = set(re.findall(reason_then_code, source))
    assert len(codes) == len(MESSAGES)
    assert codes - set(MESSAGES) == set(), "codes with no message in dashboard/policy_issues.py"
    # and each message is translated in ro, ru and it
    with translation.override(None):
        english = {code: str(message) for code, message in MESSAGES.items()}
    for language in ("ro", "ru", "it"):
        with translation.override(language):
            assert [code for code, message in MESSAGES.items() if str(message) == english[code]] == []
