"""The one place notifications asks the policy engine for a remedy."""

import logging

from cases.models import Case
from policies.services import LATE_DELIVERY_DISCOUNT_RULE_ID, case_proposals, remedy_apply

logger = logging.getLogger(__name__)


def late_delivery_discount_apply(case: Case):
    """Apply the active policy's late-delivery discount to a late_delivery case; the Remedy, or None if the policy
    proposes no discount for it.

    Idempotent: remedy_apply is keyed by the proposal's key, so a second call returns the same Remedy. Above the
    policy's approval threshold the Remedy waits for a manager (status pending_approval) and nothing is given yet.
    """
    discounts = [proposal for proposal in case_proposals(case=case) if proposal.kind == "discount"]
    if not discounts:
        return None
    discounts.sort(key=lambda proposal: proposal.rule_id != LATE_DELIVERY_DISCOUNT_RULE_ID)
    # The apology that follows names the discount: no second email about it (remedy_apply tell_customer).
    return remedy_apply(case=case, proposal=discounts[0], by=None, tell_customer=False)
