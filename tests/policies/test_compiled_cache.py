"""The compiled policy cache: one compilation per version and process, keyed by the version's id and content."""

from unittest import mock

import pytest

from policies import selectors
from policies.engine import compile_policy, default_policy_document, evaluate
from policies.models import PolicyVersion
from policies.selectors import case_facts, policy_compiled
from policies.services import case_proposals, policy_version_create

pytestmark = pytest.mark.django_db


def generous_document():
    document = default_policy_document()
    rule = next(r for r in document["rules"] if r["id"] == "late-delivery-discount")
    rule["remedy"]["parameters"]["amount"]["percent"] = "10"
    return document


def test_the_cached_policy_decides_as_a_fresh_compilation(late_case, cod_case, wrong_item_case):
    # given the active version, compiled through the cache
    version = PolicyVersion.objects.get(is_active=True)
    cached = policy_compiled(version)
    fresh = compile_policy(version.document)
    for case in (late_case, cod_case, wrong_item_case):
        facts = case_facts(case=case)
        # then the cached policy proposes exactly what a fresh compilation proposes, rationale included
        assert evaluate(cached, facts) == evaluate(fresh, facts)
        # and so do the case page's and the API's proposals, which go through the cache
        assert case_proposals(case=case) == evaluate(fresh, facts)


def test_one_compilation_per_version_and_another_for_another_version(policy, manager):
    # given two versions, each fetched afresh from the database several times (as each request does)
    other = policy_version_create(document=generous_document(), author=manager)
    selectors._COMPILED.clear()
    selectors._HASHES.clear()
    with mock.patch.object(selectors, "compile_policy", wraps=selectors.compile_policy) as compiling:
        first = [policy_compiled(PolicyVersion.objects.get(pk=policy.pk)) for _ in range(3)]
        second = [policy_compiled(PolicyVersion.objects.get(pk=other.pk)) for _ in range(3)]
    # then each version is compiled once, and the two are different policies
    assert compiling.call_count == 2
    assert first[0] is first[1] is first[2] and second[0] is second[1] is second[2]
    assert first[0] is not second[0]
    percent = {rule.id: rule.percent_text for rule in second[0].rules}["late-delivery-discount"]
    assert percent == "10"


def test_a_reused_id_with_another_document_is_not_served_the_old_policy(policy):
    # given the active version compiled under its id
    version = PolicyVersion.objects.get(pk=policy.pk)
    before = policy_compiled(version)
    # when an (unsaved) version with the same id carries another document (a flushed test database, a restored dump)
    impostor = PolicyVersion(pk=policy.pk, number=policy.number, document=generous_document())
    after = policy_compiled(impostor)
    # then it gets its own compilation, and the original is still served for the original document
    assert after is not before
    assert {rule.id: rule.percent_text for rule in after.rules}["late-delivery-discount"] == "10"
    assert policy_compiled(PolicyVersion.objects.get(pk=policy.pk)) is before


def test_the_cache_stays_bounded(policy):
    # given more distinct documents under one id than the cache keeps
    selectors._COMPILED.clear()
    selectors._HASHES.clear()
    for percent in range(1, selectors.COMPILED_VERSIONS_KEPT + 5):
        document = generous_document()
        rule = next(r for r in document["rules"] if r["id"] == "late-delivery-discount")
        rule["remedy"]["parameters"]["amount"]["percent"] = str(percent)
        policy_compiled(PolicyVersion(pk=10_000 + percent, number=1, document=document))
    # then it holds at most COMPILED_VERSIONS_KEPT of them
    assert len(selectors._COMPILED) <= selectors.COMPILED_VERSIONS_KEPT
    assert len(selectors._HASHES) <= selectors.COMPILED_VERSIONS_KEPT
