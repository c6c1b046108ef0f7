"""The policy (DOMAIN §9.6) and the directory as the worker loads them from files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from activities.directory import load_directory, load_policy
from models.people import Delegation, Role
from models.policy import ClockPolicy, Policy
from tests.examples import EXAMPLES


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_directory_reads_the_example_organisation() -> None:
    directory = load_directory(EXAMPLES / "directory.yaml")
    assert directory.organisation == "Fenmoor District Council"
    assert directory.executive.id == "P-001"
    assert [s.id for s in directory.services] == [
        "SVC-001",
        "SVC-002",
        "SVC-003",
        "SVC-005",
        "SVC-006",
    ]
    dana = directory.person("P-003")
    assert dana.roles == {Role.ETM}
    assert dana.delegations == {Delegation.ASSESSMENT_PANEL}


def test_load_directory_rejects_an_invalid_directory(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text("organisation: X\npeople:\n  - {id: P-001, name: A, roles: [SM]}\n")
    with pytest.raises(ValidationError, match="exactly one Executive"):
        load_directory(path)


def test_load_policy_reads_the_example_policy() -> None:
    policy = load_policy(EXAMPLES / "policy.yaml")
    assert policy.name == "Fenmoor OSOM policy"
    assert policy.version == "2026-11"
    assert policy.clock("establishment", "triage") == ClockPolicy(due_wd=20, reminder_wd=5)


def test_the_quick_demo_policy_differs_from_fenmoors_only_in_its_lead_times() -> None:
    quick = load_policy(EXAMPLES / "policy-quick.yaml")
    fenmoor = load_policy(EXAMPLES / "policy.yaml")
    assert quick.assessment.agenda_lead_wd == 0
    assert quick.coe_review.meeting_lead_wd == 0
    assert (
        quick.model_copy(
            update={
                "name": fenmoor.name,
                "version": fenmoor.version,
                "assessment": fenmoor.assessment,
                "coe_review": fenmoor.coe_review,
            }
        )
        == fenmoor
    )
    assert quick.assessment.model_copy(update={"agenda_lead_wd": 5}) == fenmoor.assessment
    assert quick.coe_review.model_copy(update={"meeting_lead_wd": 2}) == fenmoor.coe_review


def test_no_policy_file_means_the_defaults() -> None:
    policy = load_policy(None)
    assert policy == Policy()
    assert policy.name == "OSOM defaults"
    assert policy.max_payload_bytes == 64 * 1024
    assert policy.clock("establishment", "triage") == ClockPolicy(due_wd=20, reminder_wd=5)
    assert policy.clock("establishment", "drafting") == ClockPolicy(due_wd=20, reminder_wd=5)


def test_an_empty_policy_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_policy(write(tmp_path, "# nothing changed\n")) == Policy()


def test_a_partial_policy_keeps_the_defaults_for_the_rest(tmp_path: Path) -> None:
    policy = load_policy(
        write(tmp_path, "establishment:\n  triage: {due_wd: 10, reminder_wd: 2}\n")
    )
    assert policy.clock("establishment", "triage") == ClockPolicy(due_wd=10, reminder_wd=2)
    assert policy.clock("establishment", "drafting") == Policy().establishment.drafting
    assert policy.name == "OSOM defaults"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("max_payload: 10\n", "max_payload"),
        ("establishment:\n  triaging: {due_wd: 10, reminder_wd: 2}\n", "triaging"),
        ("establishment:\n  triage: {due_wd: 10, reminder_wd: 2, escalate: true}\n", "escalate"),
    ],
    ids=["top", "section", "clock"],
)
def test_a_policy_with_an_unknown_key_is_rejected(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ValidationError, match=key):
        load_policy(write(tmp_path, text))


@pytest.mark.parametrize(
    "text",
    [
        "establishment:\n  triage: {due_wd: 0, reminder_wd: 5}\n",
        "establishment:\n  drafting: {due_wd: 5, reminder_wd: 0}\n",
        "max_payload_bytes: 0\n",
        "max_payload_bytes: 2000000\n",
    ],
    ids=["due-zero", "reminder-zero", "payload-zero", "payload-over-1mib"],
)
def test_a_policy_with_an_out_of_range_value_is_rejected(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValidationError):
        load_policy(write(tmp_path, text))


def test_a_policy_is_frozen() -> None:
    with pytest.raises(ValidationError):
        Policy().name = "changed"  # type: ignore[misc]
