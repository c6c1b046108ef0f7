"""A case's audit log: every accepted command, every move the engine makes itself, and every
refused signal (as its sender claimed to be), each with the artefact versions it saw."""

from __future__ import annotations

from typing import Literal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.audit import AuditEntry
    from models.case_state import CaseState
    from models.errors import OsomError
    from models.people import ActingAs
    from workflows import _events
    from workflows._signals import SignalSender

# Refused signals are recorded up to this many; past it they are only counted, so a sender
# retrying a bad signal forever cannot grow the history without bound.
MAX_RECORDED_REFUSALS = 100


class AuditLog:
    """Appends to one case's log; the engine calls it as ``engine.audit(...)``."""

    def __init__(self, process: str, case: CaseState) -> None:
        self._process = process
        self._case = case

    def __call__(
        self,
        acting: ActingAs,
        command: str,
        source: str,
        target: str,
        outcome: Literal["accepted", "system"],
        reason: str | None,
        decision_id: str | None = None,
    ) -> None:
        case = self._case
        case.audit.append(
            AuditEntry(
                at=workflow.now(),
                actor=acting.person,
                role=acting.role,
                command=command,
                from_state=source,
                to_state=target,
                outcome=outcome,
                decision_id=decision_id,
                reason=reason,
                artefact_versions=case.artefact_versions(),
            )
        )

    def refused(self, sender: SignalSender, err: OsomError) -> bool:
        """Record a refused signal; False once the log holds as many refusals as it keeps."""
        case = self._case
        _events.log(
            _events.DECISION_REFUSED,
            self._process,
            case,
            command=sender.command,
            error_type=err.type,
            actor=sender.actor,
        )
        case.refused_signals += 1
        if case.refused_signals > MAX_RECORDED_REFUSALS:
            return False
        case.audit.append(
            AuditEntry(
                at=workflow.now(),
                actor=sender.actor,
                role="unverified",
                command=sender.command,
                from_state=case.state,
                to_state=case.state,
                outcome="refused",
                decision_id=sender.decision_id,
                error_type=err.type,
                message=err.message,
                artefact_versions=case.artefact_versions(),
            )
        )
        return True
