"""Who may act (Directory.authorise, DOMAIN §2.2, §2.8) and what a valid directory is."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from models.errors import NotAuthorised, UnknownPerson
from models.people import (
    ActingAs,
    CaseRole,
    Delegation,
    Directory,
    Permit,
    Person,
    Role,
)
from tests.unit.helpers import directory_with
from workflows.establishment.definition import ESTABLISHMENT

EXEC = Permit(role=Role.EXEC)
PROPOSER = Permit(role=CaseRole.PROPOSER)
APPOINTED_SM = Permit(role=CaseRole.APPOINTED_SM)
ANYONE = Permit(role=CaseRole.ANY)
NO_RELATIONS: dict[CaseRole, str | None] = {}


def etm(delegation: Delegation) -> Permit:
    return Permit(role=Role.ETM, delegation=delegation)


def permits_of(trigger: str) -> tuple[Permit, ...]:
    spec = ESTABLISHMENT.transition(trigger)
    assert spec is not None
    return spec.who


# -- organisation roles and delegations ---------------------------------------------------------


def test_exec_is_allowed_as_exec(directory: Directory) -> None:
    acting = directory.authorise(
        "P-001", permits_of("service_established"), NO_RELATIONS, "publish"
    )
    assert acting == ActingAs(person="P-001", role="EXEC")


@pytest.mark.parametrize(
    ("person", "trigger", "delegation"),
    [
        ("P-002", "triage_started", "triage_demand"),
        ("P-002", "discovery_budget_allocated", "allocate_budget"),
        ("P-004", "drafting_started", "establish_service"),
    ],
)
def test_etm_with_the_delegation_acts_for_the_exec(
    directory: Directory, person: str, trigger: str, delegation: str
) -> None:
    acting = directory.authorise(person, permits_of(trigger), NO_RELATIONS, trigger)
    assert acting == ActingAs(person=person, role=f"EXEC (delegated to {person}: {delegation})")


def test_etm_without_the_delegation_cannot_publish_a_contract(directory: Directory) -> None:
    """DOMAIN §10 scenario 7: P-003 only holds assessment_panel."""
    with pytest.raises(NotAuthorised) as refused:
        directory.authorise(
            "P-003", permits_of("service_established"), NO_RELATIONS, "fire E10 service_established"
        )
    err = refused.value
    assert type(err) is NotAuthorised
    assert err.message.startswith("P-003 (Dana Kowalski) may not fire E10 service_established")
    assert "it needs EXEC, ETM with 'publish_contract'" in err.message
    assert "their delegations: assessment_panel" in err.message
    assert err.details["actor"] == "P-003"
    assert err.details["allowed"] == ["EXEC", "ETM with 'publish_contract'"]


def test_etm_with_other_delegations_is_refused_naming_all_of_them(directory: Directory) -> None:
    with pytest.raises(NotAuthorised, match="their delegations: allocate_budget, triage_demand"):
        directory.authorise("P-002", permits_of("drafting_started"), NO_RELATIONS, "draft")


def test_a_service_manager_is_refused_an_executive_action_without_a_delegation_hint(
    directory: Directory,
) -> None:
    with pytest.raises(NotAuthorised) as refused:
        directory.authorise("P-010", permits_of("proposal_approved"), NO_RELATIONS, "approve")
    assert "they hold SM" in refused.value.message
    assert "delegations" not in refused.value.message


def test_a_refusal_names_each_allowed_permit_once_in_order(directory: Directory) -> None:
    """Permits composed from shared tuples (say, a process's reviewers plus the Executive) may
    repeat one; the 403 lists it once."""
    permits = (EXEC, etm(Delegation.PUBLISH_CONTRACT), EXEC, etm(Delegation.PUBLISH_CONTRACT))
    with pytest.raises(NotAuthorised) as refused:
        directory.authorise("P-010", permits, NO_RELATIONS, "publish")
    assert refused.value.details["allowed"] == ["EXEC", "ETM with 'publish_contract'"]
    assert "it needs EXEC, ETM with 'publish_contract'; they hold SM" in refused.value.message


def test_unknown_person_is_refused_as_unknown(directory: Directory) -> None:
    with pytest.raises(UnknownPerson, match="P-999 is not in the directory of people"):
        directory.authorise("P-999", (EXEC,), NO_RELATIONS, "anything")


def test_unknown_person_is_refused_even_where_anyone_may_act(directory: Directory) -> None:
    with pytest.raises(UnknownPerson):
        directory.authorise("P-999", (ANYONE,), NO_RELATIONS, "raise a demand")


def test_first_matching_permit_decides_the_recorded_role(directory: Directory) -> None:
    relations: dict[CaseRole, str | None] = {CaseRole.PROPOSER: "P-001"}
    acting = directory.authorise("P-001", (PROPOSER, EXEC), relations, "withdraw")
    assert acting.role == "PROPOSER"


def test_etm_permit_without_a_delegation_admits_any_etm(directory: Directory) -> None:
    spec = ESTABLISHMENT.artefact("service_contract")
    assert spec is not None
    acting = directory.authorise("P-003", spec.who, NO_RELATIONS, "submit a contract")
    assert acting.person == "P-003"


def test_holders_of_an_etm_permit_without_a_delegation_are_all_etms(
    directory: Directory,
) -> None:
    assert directory.holders(Permit(role=Role.ETM)) == ["P-002", "P-003", "P-004"]


# -- roles relative to the case -----------------------------------------------------------------


def test_proposer_may_act_as_proposer(directory: Directory) -> None:
    relations: dict[CaseRole, str | None] = {CaseRole.PROPOSER: "P-010"}
    acting = directory.authorise("P-010", permits_of("proposal_withdrawn"), relations, "withdraw")
    assert acting == ActingAs(person="P-010", role="PROPOSER")


def test_someone_else_may_not_act_as_proposer(directory: Directory) -> None:
    relations: dict[CaseRole, str | None] = {CaseRole.PROPOSER: "P-010"}
    with pytest.raises(NotAuthorised, match="it needs PROPOSER, EXEC"):
        directory.authorise("P-011", permits_of("proposal_withdrawn"), relations, "withdraw")


def test_nominated_sm_may_act_as_nominated_sm(directory: Directory) -> None:
    relations: dict[CaseRole, str | None] = {CaseRole.APPOINTED_SM: "P-013"}
    acting = directory.authorise("P-013", permits_of("draft_completed"), relations, "complete")
    assert acting == ActingAs(person="P-013", role="APPOINTED_SM")


def test_nobody_is_nominated_sm_when_there_is_none(directory: Directory) -> None:
    relations: dict[CaseRole, str | None] = {CaseRole.APPOINTED_SM: None}
    with pytest.raises(NotAuthorised):
        directory.authorise("P-013", (APPOINTED_SM,), relations, "complete")


def test_any_known_person_may_act_where_anyone_may(directory: Directory) -> None:
    for person in directory.people:
        acting = directory.authorise(person.id, (ANYONE,), NO_RELATIONS, "raise a demand")
        assert acting == ActingAs(person=person.id, role="ANY")


# -- who a case waits for -----------------------------------------------------------------------


def test_holders_of_exec_is_the_executive(directory: Directory) -> None:
    assert directory.holders(EXEC) == ["P-001"]
    assert directory.executive.id == "P-001"


def test_holders_of_a_delegation_are_the_etms_holding_it(directory: Directory) -> None:
    assert directory.holders(etm(Delegation.ASSESSMENT_PANEL)) == ["P-003", "P-004"]
    assert directory.holders(etm(Delegation.PUBLISH_CONTRACT)) == []


def test_holders_of_a_case_role_are_left_to_the_case(directory: Directory) -> None:
    assert directory.holders(PROPOSER) == []


def test_permit_describes_itself() -> None:
    assert EXEC.describe() == "EXEC"
    assert etm(Delegation.ALLOCATE_BUDGET).describe() == "ETM with 'allocate_budget'"
    assert PROPOSER.describe() == "PROPOSER"


# -- directory validation -----------------------------------------------------------------------


def people(directory: Directory) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in directory.people]


def test_the_example_directory_is_valid(directory: Directory) -> None:
    assert directory.organisation == "Fenmoor District Council"
    assert directory.service("SVC-002") is not None
    assert directory.service("SVC-099") is None


def test_duplicate_person_ids_are_rejected(directory: Directory) -> None:
    duplicated = [*people(directory), {"id": "P-010", "name": "Someone Else", "roles": ["STM"]}]
    with pytest.raises(ValidationError, match="person ids must be unique"):
        directory_with(directory, people=duplicated)


def test_a_directory_without_an_executive_is_rejected(directory: Directory) -> None:
    without = [p for p in people(directory) if "EXEC" not in p["roles"]]
    with pytest.raises(ValidationError, match="exactly one Executive"):
        directory_with(directory, people=without)


def test_a_directory_with_two_executives_is_rejected(directory: Directory) -> None:
    two = [*people(directory), {"id": "P-099", "name": "Second Chief", "roles": ["EXEC"]}]
    with pytest.raises(ValidationError, match="exactly one Executive"):
        directory_with(directory, people=two)


def test_delegations_on_someone_not_an_etm_are_rejected() -> None:
    with pytest.raises(ValidationError, match="only an Executive Team Member"):
        Person.model_validate(
            {
                "id": "P-050",
                "name": "A Manager",
                "roles": ["SM"],
                "delegations": ["publish_contract"],
            }
        )


def test_unknown_delegation_is_rejected() -> None:
    with pytest.raises(ValidationError, match="delegations"):
        Person.model_validate(
            {"id": "P-050", "name": "A Member", "roles": ["ETM"], "delegations": ["rule_the_world"]}
        )


def test_a_service_with_an_unknown_service_manager_is_rejected(directory: Directory) -> None:
    services = [s.model_dump(mode="json") for s in directory.services]
    services[0]["service_manager"] = "P-098"
    with pytest.raises(ValidationError, match="SVC-001: Service Manager P-098 unknown"):
        directory_with(directory, services=services)


def test_malformed_person_id_is_rejected() -> None:
    with pytest.raises(ValidationError, match="id"):
        Person.model_validate({"id": "X-1", "name": "Nobody"})


def test_duplicate_service_ids_are_rejected(directory: Directory) -> None:
    services = [s.model_dump(mode="json") for s in directory.services]
    services.append({**services[0], "service_manager": "P-011"})
    with pytest.raises(ValidationError, match="unique"):
        directory_with(directory, services=services)


# -- where notifications reach people -------------------------------------------------------------


def test_everyone_in_the_example_directory_has_an_email_address(directory: Directory) -> None:
    assert all(p.email for p in directory.people)
    assert directory.person("P-001").email == "alison.reed@fenmoor.example"
    assert all(p.webhook is None for p in directory.people)


def test_email_and_webhook_are_optional() -> None:
    person = Person.model_validate({"id": "P-050", "name": "A Member"})
    assert (person.email, person.webhook) == (None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "jo.mensah@fenmoor.example"),
        ("email", "o'brien+osom@mail.fenmoor.example"),
        ("webhook", "https://chat.fenmoor.example/hooks/T0/B0/s3cret"),
        ("webhook", "http://127.0.0.1:8080/hook?team=a&x=1"),
    ],
)
def test_a_valid_address_is_kept_as_it_is(field: str, value: str) -> None:
    person = Person.model_validate({"id": "P-050", "name": "A Member", field: value})
    assert getattr(person, field) == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "jo.mensah"),
        ("email", "jo@localhost"),
        ("email", "jo@@fenmoor.example"),
        ("email", "jo mensah@fenmoor.example"),
        ("email", "<jo@fenmoor.example>"),
        ("email", "jo@fenmoor.example, ravi@fenmoor.example"),
        ("email", "jo@fenmoor.example;ravi@fenmoor.example"),
        ("email", "jo@fenmoor.example\nBcc: ravi@fenmoor.example"),
        ("email", "jo@fenmoor.example\r\n"),
        ("email", "jo@fenmoor.example\n"),
        ("email", ""),
        ("email", "j" * 250 + "@x.example"),
        ("webhook", "ftp://chat.fenmoor.example/hook"),
        ("webhook", "javascript:alert(1)"),
        ("webhook", "file:///etc/passwd"),
        ("webhook", "chat.fenmoor.example/hook"),
        ("webhook", "https://"),
        ("webhook", "https://chat.fenmoor.example/a hook"),
        ("webhook", "https://chat.fenmoor.example/hook\n"),
        ("webhook", "https://chat.fenmoor.example/" + "x" * 2000),
    ],
)
def test_an_address_that_could_go_astray_is_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Person.model_validate({"id": "P-050", "name": "A Member", field: value})
