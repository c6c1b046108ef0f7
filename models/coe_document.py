"""The document a Correction of Error's Service Manager writes (DOMAIN §5.6, §7.4): its
sections, the corrective actions as it plans them, and what publication checks of it."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from models.base import Strict
from models.people import Directory, PersonId, ServiceId

ActionId = Annotated[str, Field(pattern=r"^A-[0-9]{1,3}$", examples=["A-1"])]
Text = Annotated[str, Field(max_length=10_000)]
Line = Annotated[str, Field(min_length=1, max_length=2_000)]


class Severity(StrEnum):
    """Optional; only orders the review (DOMAIN §5.2)."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class DoctrineEffect(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class DoctrineElement(Strict):
    """A guide to better decisions that helped or hurt (DOMAIN §8.6)."""

    pattern: Annotated[str, Field(min_length=1, max_length=200)]
    effect: DoctrineEffect
    note: Line | None = None


class TimelineEntry(Strict):
    at: Annotated[str, Field(min_length=1, max_length=40, examples=["07:04", "2026-03-11T07:04Z"])]
    event: Line
    actor_role: Annotated[str, Field(max_length=100)] | None = None


class ActionType(StrEnum):
    FIX = "fix"
    PREVENT = "prevent"
    DETECT = "detect"
    PROCESS = "process"


class ActionPlan(Strict):
    """A corrective action as written in the document: exactly one owner and a due date."""

    id: ActionId
    description: Line
    type: ActionType = ActionType.FIX
    owner: PersonId
    due: date


class CoeContent(Strict):
    """The fields of DOMAIN §7.4 apart from the corrective actions. Drafts may leave the OSOM
    fields empty; publication needs every one of them."""

    title: Annotated[str, Field(max_length=200)] | None = None
    problem: Text = ""
    impact: Text = ""
    root_cause: Text = ""
    supporting_data: list[Line] = Field(default_factory=list, max_length=100)
    tradeoffs_that_led_to_problem: Text = ""
    tradeoffs_to_avoid: Text = ""
    lessons_learned: list[Line] = Field(default_factory=list, max_length=100)
    doctrine_elements: list[DoctrineElement] = Field(default_factory=list, max_length=40)
    users_impacted: int | None = Field(default=None, ge=0)
    severity: Severity | None = None
    resolved_at: AwareDatetime | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list, max_length=200)
    five_whys: list[Line] = Field(default_factory=list, max_length=40)
    security_impact: Text | None = None
    what_went_well: list[Line] = Field(default_factory=list, max_length=100)
    related_items: list[Line] = Field(default_factory=list, max_length=100)
    linked_services: list[ServiceId] = Field(default_factory=list, max_length=40)


class CoeDocument(CoeContent):
    """One version of the document as the Service Manager (or their team) writes it."""

    corrective_actions: list[ActionPlan] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _unique_action_ids(self) -> CoeDocument:
        ids = [a.id for a in self.corrective_actions]
        if len(ids) != len(set(ids)):
            raise ValueError("corrective action ids must be unique")
        return self


# The nine fields OSOM requires before publication (DOMAIN §7.4, C2).
OSOM_FIELDS = (
    "problem",
    "impact",
    "root_cause",
    "supporting_data",
    "tradeoffs_that_led_to_problem",
    "tradeoffs_to_avoid",
    "lessons_learned",
    "corrective_actions",
    "doctrine_elements",
)
# Where people's names should not appear: the analysis, not the facts of who owns an action.
ANALYSIS_SECTIONS = (
    "problem",
    "impact",
    "root_cause",
    "supporting_data",
    "tradeoffs_that_led_to_problem",
    "tradeoffs_to_avoid",
    "lessons_learned",
    "timeline",
    "five_whys",
    "what_went_well",
    "security_impact",
)


def empty_osom_fields(document: CoeDocument) -> list[str]:
    return [name for name in OSOM_FIELDS if not getattr(document, name)]


def named_people(document: CoeDocument, directory: Directory) -> list[str]:
    """Blameless writing (DOMAIN §5.6): where the analysis names a person of the directory, by
    full name or surname, as ``"P-011 (Tom Okafor) in root_cause"``."""
    found: list[str] = []
    for section in ANALYSIS_SECTIONS:
        text = _section_text(getattr(document, section))
        for person in directory.people:
            surname = person.name.split()[-1]
            names = [person.name] + ([surname] if len(surname) >= 4 else [])
            if any(re.search(rf"\b{re.escape(n)}\b", text) for n in names):
                found.append(f"{person.label()} in {section}")
    return found


def _section_text(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(_section_text(v) for v in value)
    if isinstance(value, BaseModel):
        return "\n".join(_section_text(v) for v in value.model_dump().values())
    return value if isinstance(value, str) else ""
