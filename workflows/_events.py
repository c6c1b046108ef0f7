"""The names of the events a case logs, and the fields every one of them carries.

Operators and their log tools match on these names, so they are stable: add new ones, do not
rename. Each event carries the process (as ``process_name``: ``process`` is a field of every
log record already), the case and its state; the SDK's logger adds the workflow id, run id and
workflow type (``osom/logging.py`` turns them into fields).
"""

from __future__ import annotations

import logging

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_state import CaseState

CASE_STARTED = "case.started"
COMMAND_ACCEPTED = "command.accepted"
COMMAND_REFUSED = "command.refused"
DECISION_REFUSED = "decision.refused"  # a refused signal (its sender is unverified)
TRANSITION_APPLIED = "transition.applied"
PENDING_HELD = "pending.held"
PENDING_APPLIED = "pending.applied"
PENDING_FAILED = "pending.failed"
DEADLINE_REMINDED = "deadline.reminded"
DEADLINE_ESCALATED = "deadline.escalated"
DEADLINE_DUTY = "deadline.duty"
DEADLINE_DUTY_FAILED = "deadline.duty_failed"


def log(
    event: str, process: str, case: CaseState, level: int = logging.INFO, **fields: object
) -> None:
    """Log ``event`` for ``case`` with ``fields`` (ids and names only: no personal data)."""
    workflow.logger.log(
        level,
        event,
        extra={"process_name": process, "case": case.case_id, "state": case.state, **fields},
    )
