"""Every workflow id the engine uses, built and parsed here and nowhere else.

A case's workflow id is its business key with the process as a prefix, so a person can name a
case by the key they know (PRO-004, SVC-007, SVC-007-A03, COE-2026-001) and the engine finds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

PROPOSAL_PREFIX = "new-service/"
SERVICE_PREFIX = "service/"
ASSESSMENT_PREFIX = "assessment/"
COE_PREFIX = "coe/"
# The schedule starts sessions as coe-review-<time>; one started by hand gets the same shape.
REVIEW_PREFIX = "coe-review"
REVIEW_SCHEDULE_ID = "coe-review"


def proposal_workflow_id(proposal_id: str) -> str:
    return f"{PROPOSAL_PREFIX}{proposal_id}"


def lifecycle_workflow_id(service_id: str) -> str:
    return f"{SERVICE_PREFIX}{service_id}"


def assessment_workflow_id(assessment_id: str) -> str:
    return f"{ASSESSMENT_PREFIX}{assessment_id}"


def coe_workflow_id(coe_id: str) -> str:
    return f"{COE_PREFIX}{coe_id}"


def is_proposal(workflow_id: str) -> bool:
    return workflow_id.startswith(PROPOSAL_PREFIX)


def is_review_session(workflow_id: str) -> bool:
    return workflow_id.startswith(REVIEW_PREFIX)


_BUSINESS_KEYS: tuple[tuple[re.Pattern[str], Callable[[str], str]], ...] = (
    (re.compile(r"^PRO-[A-Za-z0-9_-]+$"), proposal_workflow_id),
    (re.compile(r"^COE-[A-Z0-9-]+$"), coe_workflow_id),
    (re.compile(r"^SVC-[0-9]{3,}-A[0-9]{2,}$"), assessment_workflow_id),
    (re.compile(r"^SVC-[0-9]{3,}$"), lifecycle_workflow_id),
)


def workflow_id_for(case: str) -> str:
    """A workflow id from what people call a case, or the workflow id itself."""
    for pattern, workflow_id in _BUSINESS_KEYS:
        if pattern.match(case):
            return workflow_id(case)
    return case
