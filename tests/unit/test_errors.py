"""Domain errors: field-level messages from validation, payload size, the error vocabulary."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from models.assessment import AssessmentId
from models.coe_document import ActionId
from models.contract import BudgetAllocation
from models.errors import (
    ALL_ERRORS,
    CaseClosed,
    IllegalTransition,
    InvalidArtefact,
    MalformedInput,
    NotAuthorised,
    OsomError,
    PayloadTooLarge,
    UnknownPerson,
    invalid,
    payload_size,
)
from models.people import PersonId, ServiceId
from models.proposal import Proposal, ProposalId
from tests.examples import EXAMPLES, load_yaml


def validation_error(
    model: type[Proposal] | type[BudgetAllocation], data: object
) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return caught.value


def test_invalid_names_each_field_and_its_message() -> None:
    data = load_yaml(EXAMPLES / "proposal.yaml")
    del data["name"]
    data["proposed_needs"][0]["thing"] = ""
    err = invalid("proposal", validation_error(Proposal, data))
    assert isinstance(err, InvalidArtefact)
    fields = [e["field"] for e in err.details["errors"]]
    assert fields == ["name", "proposed_needs.0.thing"]
    assert err.details["errors"][0]["message"] == "Field required"
    assert err.message.startswith("proposal is not valid: name: Field required; ")
    assert "proposed_needs.0.thing: " in err.message


def test_invalid_names_a_whole_model_rule_as_root() -> None:
    data = {
        "phase": "DISCOVERY",
        "amount_gbp": 100,
        "period_start": "2026-12-02",
        "period_end": "2026-12-01",
    }
    err = invalid("budget", validation_error(BudgetAllocation, data))
    [only] = err.details["errors"]
    assert only["field"] == "(root)"
    assert "period_end must be after period_start" in only["message"]
    assert err.message.startswith("budget is not valid: (root): ")


def test_invalid_messages_carry_no_documentation_links() -> None:
    err = invalid("proposal", validation_error(Proposal, {}))
    assert "errors.pydantic.dev" not in err.message
    assert len(err.details["errors"]) >= 5


def test_payload_size_is_the_bytes_of_the_json() -> None:
    small = payload_size({"note": "x"})
    assert payload_size({"note": "x" * 101}) == small + 100
    assert payload_size({}) == 2


def test_payload_size_counts_non_json_values_as_text() -> None:
    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    size = payload_size({"at": moment, "on": date(2026, 12, 1)})
    assert size == len(json.dumps({"at": str(moment), "on": "2026-12-01"}).encode())


def test_payload_size_grows_with_multibyte_text() -> None:
    assert payload_size({"name": "Zoë"}) > payload_size({"name": "Zoe"})


def test_an_error_carries_its_message_details_and_type_name() -> None:
    err = IllegalTransition("not from here", trigger="x", state="PROPOSED")
    assert str(err) == err.message == "not from here"
    assert err.details == {"trigger": "x", "state": "PROPOSED"}
    assert err.type == "IllegalTransition"


def test_error_families() -> None:
    assert issubclass(UnknownPerson, NotAuthorised)
    assert issubclass(CaseClosed, IllegalTransition)
    assert issubclass(PayloadTooLarge, InvalidArtefact)
    assert issubclass(MalformedInput, InvalidArtefact)


def test_every_error_class_is_known_by_its_name() -> None:
    def subclasses(cls: type[OsomError]) -> set[type[OsomError]]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(c) for c in found))

    declared: set[type[OsomError]] = {OsomError}
    declared |= {c for c in subclasses(OsomError) if c.__module__ == OsomError.__module__}
    assert len(declared) > 1
    for cls in declared:
        assert ALL_ERRORS[cls.__name__] is cls


ASCII_DIGITS = str.maketrans("".join(chr(0x660 + d) for d in range(10)), "0123456789")


@pytest.mark.parametrize(
    ("id_type", "value"),
    [
        (ProposalId, "PRO-\u0664\u0665\u0666"),
        (PersonId, "P-\u0660\u0660\u0661"),
        (ServiceId, "SVC-\u0661\u0662\u0663"),
        (AssessmentId, "SVC-123-A\u0660\u0661"),
        (ActionId, "A-\u0663"),
    ],
)
def test_ids_with_non_ascii_digits_are_refused_at_the_door(id_type: Any, value: str) -> None:
    """The artefact store only takes ASCII path parts: an id it would refuse is refused first."""
    with pytest.raises(ValidationError):
        TypeAdapter(id_type).validate_python(value)
    assert TypeAdapter(id_type).validate_python(value.translate(ASCII_DIGITS))


def test_command_data_nested_past_the_bound_is_a_validation_error() -> None:
    from models.commands import MAX_DEPTH, ArtefactSubmission, Decision

    def nested(depth: int) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for _ in range(depth - 1):
            value = {"x": value}
        return value

    base = {"decision_id": "d-1", "actor": "P-001"}
    Decision.model_validate({**base, "trigger": "x", "data": nested(MAX_DEPTH)})
    for deep in (MAX_DEPTH + 1, 300, 5000):
        with pytest.raises(ValidationError, match="nests deeper"):
            Decision.model_validate({**base, "trigger": "x", "data": nested(deep)})
        with pytest.raises(ValidationError, match="nests deeper"):
            ArtefactSubmission.model_validate({**base, "kind": "k", "content": nested(deep)})


def test_the_cli_says_temporal_cannot_be_reached_without_a_traceback() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    osom = Path(sys.executable).parent / "osom"
    env = {**os.environ, "TEMPORAL_ADDRESS": "127.0.0.1:9"}  # nothing listens there
    done = subprocess.run(
        [str(osom), "status", "PRO-001"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "TemporalUnreachable: cannot reach Temporal at 127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr
