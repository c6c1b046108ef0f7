"""Whatever a raw Temporal client sends as a signal or an update, the case stays usable.

Any client can signal a workflow with any payload (null, a list, binary, several values, an
unknown encoding, JSON nested deeper than a parser allows). Each such signal is recorded in the
audit log as refused, with a typed error, and changes nothing; the next good command works.
Each such update is refused with a typed error and never reaches history.
"""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from osom import cases
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case, proposal_numbered


def _raw(encoding: bytes, data: bytes) -> RawValue:
    return RawValue(Payload(metadata={"encoding": encoding}, data=data))


DEEP_JSON = b'{"a":' * 5000 + b"1" + b"}" * 5000
# A well-formed decision whose data nests 100 levels: readable, but past the bound.
DEEP_DATA = (
    b'{"decision_id": "deep-1", "trigger": "triage_started", "actor": "P-001", "data": '
    + b'{"x": ' * 100
    + b"{}"
    + b"}" * 100
    + b"}"
)

# A signal name and the values it carries, and the error type its refusal must have.
BAD_SIGNALS: dict[str, tuple[str, list[Any], str]] = {
    "null": ("decide_signal", [None], "InvalidArtefact"),
    "string": ("decide_signal", ["approve please"], "InvalidArtefact"),
    "list": ("decide_signal", [[1, 2, 3]], "InvalidArtefact"),
    "number": ("submit_signal", [42], "InvalidArtefact"),
    "no values": ("decide_signal", [], "InvalidArtefact"),
    "two values": (
        "decide_signal",
        [{"decision_id": "a"}, {"decision_id": "b"}],
        "InvalidArtefact",
    ),
    "binary": ("decide_signal", [b"\x00\xffnot json"], "InvalidArtefact"),
    "explicit binary/null": ("decide_signal", [_raw(b"binary/null", b"")], "InvalidArtefact"),
    "unknown encoding": ("decide_signal", [_raw(b"weird/x", b"{}")], "MalformedInput"),
    "broken JSON": ("decide_signal", [_raw(b"json/plain", b'{"decision_id": ')], "MalformedInput"),
    "JSON too deep to parse": ("decide_signal", [_raw(b"json/plain", DEEP_JSON)], "MalformedInput"),
    "deeply nested data": ("decide_signal", [_raw(b"json/plain", DEEP_DATA)], "InvalidArtefact"),
    "null to another case's message": ("assessment_concluded", [None], "InvalidArtefact"),
    "unknown signal": ("approve_everything", [{"decision_id": "x"}], "InvalidArtefact"),
}


@pytest.mark.parametrize("shape", list(BAD_SIGNALS))
async def test_a_malformed_signal_is_recorded_refused_and_the_case_goes_on(
    engine: Engine, unique: str, shape: str
) -> None:
    name, values, error_type = BAD_SIGNALS[shape]
    case = await Case.start(engine, unique)
    before = await case.audit_log()

    await case.handle.signal(name, args=values)

    log = await case.audit_until(lambda log: len(log) > len(before))
    refused = log[-1]
    assert (refused.outcome, refused.error_type) == ("refused", error_type), refused
    assert refused.from_state == refused.to_state == "PROPOSED"
    assert (await case.status()).state == "PROPOSED"
    # The case was not wedged: the next good command is applied.
    result = await case.decide("triage_started", "P-001")
    assert result.to_state == "IN_TRIAGE"


BAD_UPDATES: dict[str, list[Any]] = {
    "null": [None],
    "list": [[1, 2]],
    "missing fields": [{"decision_id": "u-1"}],
}


@pytest.mark.parametrize("shape", list(BAD_UPDATES))
async def test_a_malformed_update_is_refused_with_a_type_and_reaches_no_history(
    engine: Engine, unique: str, shape: str
) -> None:
    case = await Case.start(engine, unique)
    events = await case.settled_history_length()
    before = (await case.status(), await case.audit_log())

    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await case.handle.execute_update("decide", args=BAD_UPDATES[shape])

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type in {"InvalidArtefact", "ValidationError"}, cause
    assert (await case.status(), await case.audit_log()) == before
    assert await case.history_length() == events
    assert (await case.decide("triage_started", "P-001")).to_state == "IN_TRIAGE"


async def test_a_forged_proposal_name_stays_text_in_the_web_ui_summary(
    engine: Engine, unique: str
) -> None:
    proposal = proposal_numbered(unique)
    proposal.name = "Permits\n- **State:** ESTABLISHED <script>alert(1)</script>"
    workflow_id = await cases.start_new_service(
        engine.client, proposal, "P-015", engine.settings.task_queue
    )

    described = await engine.client.get_workflow_handle(workflow_id).describe()

    summary = await described.static_summary() or ""
    details = await described.static_details() or ""
    assert "\n" not in summary
    assert "<script>" not in summary + details
    assert "\n- **State:**" not in details
    assert "&lt;script&gt;" in summary
