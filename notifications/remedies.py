"""The one place notifications asks the policy engine for a remedy."""

import logging

from cases.models import Case

logger = logging.getLogger(__name__)


def late_delivery_discount_apply(case: Case):
    """Apply the active policy's late-delivery discount to a late_delivery case; the Remedy, or None.

    Idempotent: remedy_apply is keyed by the proposal's key, so a second call applies nothing new.
    """
    try:
        from policies.services import case_proposals, remedy_apply
    except ImportError:  # the policy engine is not installed in this build
        logger.warning("No policy engine (policies.services): no late-delivery discount on case %s", case.pk)
        return None
    for proposal in case_proposals(case=case):
        if proposal.kind == "discount":
            return remedy_apply(case=case, proposal=proposal, by=None)
    return None
