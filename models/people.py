"""The directory of people, their roles and delegations (DOMAIN §2, §2.8), and who may act."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.errors import NotAuthorised, UnknownPerson
from models.stages import CLOSING_STAGES, LifecycleStage

PersonId = Annotated[str, Field(pattern=r"^P-[0-9]{3,}$", examples=["P-001"])]
ServiceId = Annotated[str, Field(pattern=r"^SVC-[0-9]{3,}$", examples=["SVC-007"])]


class Role(StrEnum):
    """Roles a person holds in the organisation (DOMAIN §9.0)."""

    EXEC = "EXEC"
    ETM = "ETM"
    SM = "SM"
    STM = "STM"
    COP = "COP"
    ASSESSOR = "ASSESSOR"


class CaseRole(StrEnum):
    """Roles that exist only relative to one case (the proposer, the nominated SM ...)."""

    ANY = "ANY"
    PROPOSER = "PROPOSER"
    APPOINTED_SM = "APPOINTED_SM"
    SERVICE_MANAGER = "SERVICE_MANAGER"
    LEAD_ASSESSOR = "LEAD_ASSESSOR"
    PANEL = "PANEL"
    TEAM = "TEAM"
    ACTION_OWNER = "ACTION_OWNER"


# Who holds each case role in one case: a person, several (an assessment panel) or nobody yet.
Relations = Mapping[CaseRole, str | tuple[str, ...] | None]


def holds(relations: Relations, role: CaseRole, person: str) -> bool:
    holder = relations.get(role)
    return holder == person or (isinstance(holder, tuple) and person in holder)


def holders_of(relations: Relations, role: CaseRole) -> list[str]:
    holder = relations.get(role)
    if holder is None:
        return []
    return [holder] if isinstance(holder, str) else list(holder)


class Delegation(StrEnum):
    """Executive actions an Executive Team Member may be delegated (DOMAIN §2.2)."""

    TRIAGE_DEMAND = "triage_demand"
    ESTABLISH_SERVICE = "establish_service"
    APPOINT_SERVICE_MANAGER = "appoint_service_manager"
    ALLOCATE_BUDGET = "allocate_budget"
    PUBLISH_CONTRACT = "publish_contract"
    ASSESSMENT_PANEL = "assessment_panel"
    DECIDE_LIFECYCLE = "decide_lifecycle"
    ONBOARD_SERVICE = "onboard_service"
    COE_REVIEW_CHAIR = "coe_review_chair"


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: PersonId
    name: str = Field(min_length=1, max_length=200)
    roles: frozenset[Role] = frozenset()
    delegations: frozenset[Delegation] = frozenset()
    title: str | None = None
    # Where notifications reach this person: e-mail, and optionally a chat webhook.
    email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$"
    )
    webhook: str | None = Field(default=None, max_length=2000, pattern=r"^https?://[^\s]+$")

    @model_validator(mode="after")
    def _delegations_need_etm(self) -> Person:
        if self.delegations and Role.ETM not in self.roles:
            raise ValueError("only an Executive Team Member (role ETM) can hold delegations")
        return self

    def label(self) -> str:
        return f"{self.id} ({self.name})"


class ServiceEntry(BaseModel):
    """A service already in the network, as the directory knows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: ServiceId
    name: str
    service_manager: PersonId
    lifecycle_stage: LifecycleStage
    team: tuple[PersonId, ...] = ()
    dependencies: tuple[ServiceId, ...] = ()

    @property
    def takes_new_needs(self) -> bool:
        return self.lifecycle_stage not in CLOSING_STAGES


class Permit(BaseModel):
    """One way to be allowed to fire a trigger: a role, or an ETM holding a delegation."""

    model_config = ConfigDict(frozen=True)

    role: Role | CaseRole
    delegation: Delegation | None = None

    def describe(self) -> str:
        return f"{self.role} with '{self.delegation}'" if self.delegation else str(self.role)

    def token(self) -> str:
        """A search-friendly name: ``EXEC``, ``ETM:allocate_budget``, ``APPOINTED_SM``."""
        return f"{self.role}:{self.delegation}" if self.delegation else str(self.role)


class ActingAs(BaseModel):
    """How an accepted actor acted, as recorded in the audit log."""

    model_config = ConfigDict(frozen=True)

    person: str = Field(description="a directory id, or SYSTEM for the engine's own timers")
    role: str


class Directory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    organisation: str
    people: tuple[Person, ...]
    services: tuple[ServiceEntry, ...] = ()

    @model_validator(mode="after")
    def _unique_and_consistent(self) -> Directory:
        ids = [p.id for p in self.people]
        if len(ids) != len(set(ids)):
            raise ValueError("person ids must be unique")
        if sum(Role.EXEC in p.roles for p in self.people) != 1:
            raise ValueError("the directory needs exactly one Executive (role EXEC)")
        service_ids = [s.id for s in self.services]
        if len(service_ids) != len(set(service_ids)):
            raise ValueError("service ids must be unique")
        known = set(ids)
        for service in self.services:
            if service.service_manager not in known:
                raise ValueError(f"{service.id}: Service Manager {service.service_manager} unknown")
        return self

    def person(self, person_id: str) -> Person:
        for person in self.people:
            if person.id == person_id:
                return person
        raise UnknownPerson(f"{person_id} is not in the directory of people", person=person_id)

    def manager_conflicts(self, person_id: str) -> list[str]:
        """Why ``person_id`` cannot be a Service Manager: unknown, or on the Executive, which
        holds Service Managers to account (DOMAIN §2.3, §8.1)."""
        try:
            person = self.person(person_id)
        except UnknownPerson as err:
            return [err.message]
        if person.roles & {Role.EXEC, Role.ETM}:
            return [
                f"{person.label()} is on the Executive, which holds Service Managers to account"
            ]
        return []

    def service(self, service_id: str) -> ServiceEntry | None:
        return next((s for s in self.services if s.id == service_id), None)

    @property
    def executive(self) -> Person:
        return next(p for p in self.people if Role.EXEC in p.roles)

    def holders(self, permit: Permit) -> list[str]:
        """People who satisfy an organisation-wide permit (who a case waits for)."""
        if isinstance(permit.role, CaseRole):
            return []
        return [
            p.id
            for p in self.people
            if permit.role in p.roles
            and (
                permit.role != Role.ETM
                or permit.delegation is None
                or permit.delegation in p.delegations
            )
        ]

    def authorise(
        self,
        actor: str,
        permits: tuple[Permit, ...],
        relations: Relations,
        action: str,
    ) -> ActingAs:
        """Return how ``actor`` may act under ``permits``, or raise NotAuthorised naming why."""
        person = self.person(actor)
        for permit in permits:
            if isinstance(permit.role, CaseRole):
                if permit.role == CaseRole.ANY or holds(relations, permit.role, actor):
                    return ActingAs(person=actor, role=str(permit.role))
            elif permit.role in person.roles:
                if permit.role != Role.ETM or permit.delegation is None:
                    return ActingAs(person=actor, role=str(permit.role))
                if permit.delegation in person.delegations:
                    return ActingAs(
                        person=actor,
                        role=f"EXEC (delegated to {actor}: {permit.delegation})",
                    )
        # Once each, in order: permits composed from shared tuples may repeat one.
        allowed = list(dict.fromkeys(p.describe() for p in permits))
        held = ", ".join(sorted(person.roles)) or "no organisation role"
        hint = ""
        if Role.ETM in person.roles:
            delegated = ", ".join(sorted(person.delegations)) or "none"
            hint = f"; their delegations: {delegated}"
        raise NotAuthorised(
            f"{person.label()} may not {action}: it needs {', '.join(allowed)}; "
            f"they hold {held}{hint}",
            actor=actor,
            allowed=allowed,
        )
