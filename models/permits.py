"""Who may act: every permit and permit set the process definitions name, declared once.

A permit is a role, or an Executive Team Member holding one delegation (DOMAIN §2.2). A set
names the people who may take one kind of decision; a definition row says ``who=BUDGET_HOLDERS``.
"""

from __future__ import annotations

from models.people import CaseRole, Delegation, Permit, Role

EXECUTIVE = Permit(role=Role.EXEC)
ANY_ETM = Permit(role=Role.ETM)
ANYONE = Permit(role=CaseRole.ANY)

PROPOSER = Permit(role=CaseRole.PROPOSER)
APPOINTED_SM = Permit(role=CaseRole.APPOINTED_SM)
SERVICE_MANAGER = Permit(role=CaseRole.SERVICE_MANAGER)
LEAD_ASSESSOR = Permit(role=CaseRole.LEAD_ASSESSOR)
PANEL = Permit(role=CaseRole.PANEL)
TEAM = Permit(role=CaseRole.TEAM)
ACTION_OWNER = Permit(role=CaseRole.ACTION_OWNER)


def etm(delegation: Delegation) -> Permit:
    """An Executive Team Member holding ``delegation``."""
    return Permit(role=Role.ETM, delegation=delegation)


def executive_or(delegation: Delegation) -> tuple[Permit, Permit]:
    """The Executive, or an ETM it delegated ``delegation`` to: the usual shape of a decision."""
    return (EXECUTIVE, etm(delegation))


EXECUTIVE_ONLY = (EXECUTIVE,)
TRIAGERS = executive_or(Delegation.TRIAGE_DEMAND)
ESTABLISHERS = executive_or(Delegation.ESTABLISH_SERVICE)
SM_APPOINTERS = executive_or(Delegation.APPOINT_SERVICE_MANAGER)
BUDGET_HOLDERS = executive_or(Delegation.ALLOCATE_BUDGET)
CONTRACT_PUBLISHERS = executive_or(Delegation.PUBLISH_CONTRACT)
PANEL_ORGANISERS = executive_or(Delegation.ASSESSMENT_PANEL)
LIFECYCLE_DECIDERS = executive_or(Delegation.DECIDE_LIFECYCLE)
ONBOARDERS = executive_or(Delegation.ONBOARD_SERVICE)
COE_REVIEWERS = executive_or(Delegation.COE_REVIEW_CHAIR)
COE_CHAIR = etm(Delegation.COE_REVIEW_CHAIR)
