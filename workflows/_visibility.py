"""What operators see in the Temporal Web UI: search attributes and the case page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
)

from models.case_view import CaseStatus
from models.markdown import code, inline, link

PROCESS = SearchAttributeKey.for_keyword("OsomProcess")
CASE_ID = SearchAttributeKey.for_keyword("OsomCaseId")
SERVICE_ID = SearchAttributeKey.for_keyword("OsomServiceId")
STATE = SearchAttributeKey.for_keyword("OsomState")
AWAITING = SearchAttributeKey.for_keyword_list("OsomAwaiting")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("OsomNextDeadline")
NEXT_ASSESSMENT = SearchAttributeKey.for_datetime("OsomNextAssessmentDue")
OVERDUE_ACTIONS = SearchAttributeKey.for_int("OsomOverdueActions")

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[Any], ...] = (
    PROCESS,
    CASE_ID,
    SERVICE_ID,
    STATE,
    AWAITING,
    NEXT_DEADLINE,
    NEXT_ASSESSMENT,
    OVERDUE_ACTIONS,
)

_CLI_TYPES = {
    "KEYWORD": "Keyword",
    "KEYWORD_LIST": "KeywordList",
    "DATETIME": "Datetime",
    "INT": "Int",
}


def cli_flags() -> list[str]:
    """``--search-attribute Name=Type`` flags for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type.name]}"]
    return flags


def attribute_types() -> dict[str, str]:
    """Name → type as the temporal CLI spells it (for the compose stack's admin job)."""
    return {key.name: _CLI_TYPES[key.indexed_value_type.name] for key in SEARCH_ATTRIBUTES}


def initial_attributes(process: str, case_id: str) -> list[SearchAttributePair[str]]:
    return [SearchAttributePair(PROCESS, process), SearchAttributePair(CASE_ID, case_id)]


def updates_for(status: CaseStatus) -> list[SearchAttributeUpdate[Any]]:
    """The search attribute values that mirror a case's status."""
    deadline: datetime | None = status.deadline.due_at if status.deadline else None
    updates: list[SearchAttributeUpdate[Any]] = [
        # Set again on every change: a case started from the Web UI's form has no attributes yet.
        PROCESS.value_set(status.process),
        CASE_ID.value_set(status.case_id),
        STATE.value_set(status.state),
        AWAITING.value_set(status.awaiting),
        SERVICE_ID.value_set(status.service_id) if status.service_id else SERVICE_ID.value_unset(),
        NEXT_DEADLINE.value_set(deadline) if deadline else NEXT_DEADLINE.value_unset(),
        NEXT_ASSESSMENT.value_set(status.next_assessment_due)
        if status.next_assessment_due
        else NEXT_ASSESSMENT.value_unset(),
    ]
    if status.overdue_actions is not None:  # only processes that track actions
        updates.append(OVERDUE_ACTIONS.value_set(status.overdue_actions))
    return updates


def case_page(status: CaseStatus, last_decisions: list[str], names: dict[str, str]) -> str:
    """The Markdown the Web UI shows as the workflow's current details.

    Flat lists and blank lines only: the Web UI's renderer joins adjacent lines and flattens
    nested lists. ``names`` turns person ids into names a reader recognises. Every text from the
    case goes through ``inline`` or ``code``: it must not add lines, links or HTML of its own.
    """

    def named(person: str) -> str:
        return f"{person} ({names[person]})" if person in names else person

    facts = [f"- **State:** {code(status.state)} — {inline(status.state_description)}"]
    facts += [f"- **{inline(name)}:** {inline(value)}" for name, value in status.facts.items()]
    if status.pending:
        facts.append(f"- **Approved, waiting:** {inline(status.pending)}")
    if status.awaiting:
        who = ", ".join(inline(named(a)) for a in status.awaiting)
        facts.append(f"- **Waiting for:** {who}")
    for d in status.deadlines:
        flag = " — **overdue, escalated to the Executive**" if d.escalated else ""
        facts.append(
            f"- **Deadline:** {inline(d.label)} by {d.due_at:%Y-%m-%d %H:%M} UTC "
            f"(reminders sent: {d.reminders_sent}){flag}"
        )
    facts += [f"- **Decided:** {inline(decision)}" for decision in last_decisions]
    for person, things in status.personal.items():
        facts += [f"- **For {inline(named(person))}:** {inline(thing)}" for thing in things]
    lines = [f"## {inline(status.title)}", "", *facts]
    if status.blockers:
        lines += ["", "### What is blocking this case"]
        for b in status.blockers:
            move = f"**{inline(b.id)} {code(b.trigger)}** ({inline(b.description)})"
            if b.missing:
                lines += ["", f"{move} needs:", ""]
                lines += [f"- {inline(m)}" for m in b.missing]
            else:
                lines += ["", f"{move}: ready for {', '.join(inline(w) for w in b.who)}"]
    if status.artefacts:
        lines += ["", "### Artefacts", ""]
        lines += [
            f"- {link(ref.label, ref.url)} · sha256 {code(ref.sha256[:12])}"
            for ref in status.artefacts.values()
        ]
    return "\n".join(lines) + "\n"
