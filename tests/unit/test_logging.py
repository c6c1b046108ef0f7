"""Logs are data: standard-library records and structlog events come out as JSON with fields."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
import structlog
from temporalio import workflow
from typer.testing import CliRunner

import worker
from main import app
from osom.logging import configure_logging
from osom.settings import Settings, log_format_from_env


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_standard_library_extra_fields_are_kept(stream: io.StringIO) -> None:
    logging.getLogger("osom.test").warning(
        "decision.refused", extra={"command": "triage_started", "actor": "P-003"}
    )

    [line] = lines(stream)
    assert line["event"] == "decision.refused"
    assert (line["command"], line["actor"]) == ("triage_started", "P-003")
    assert (line["level"], line["logger"]) == ("warning", "osom.test")
    assert line["timestamp"].endswith("Z")


def test_structlog_events_go_through_the_same_handler(stream: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(workflow_id="service/SVC-007"):
        structlog.get_logger("osom.test").info("notification.sent", kind="reminder", recipients=2)

    [line] = lines(stream)
    assert line["event"] == "notification.sent"
    assert (line["kind"], line["recipients"]) == ("reminder", 2)
    assert line["workflow_id"] == "service/SVC-007"
    assert (line["level"], line["logger"]) == ("info", "osom.test")


def test_the_sdks_context_dicts_become_top_level_fields(stream: io.StringIO) -> None:
    log = logging.getLogger("temporalio.workflow")
    log.info(
        "deadline.duty_failed",
        extra={
            "duty": "escalate",
            "temporal_workflow": {
                "workflow_id": "coe/COE-2026-001",
                "run_id": "run-1",
                "workflow_type": "CorrectionOfErrorsWorkflow",
                "attempt": 1,
                "namespace": "default",
                "task_queue": "osom",
            },
        },
    )
    logging.getLogger("temporalio.activity").info(
        "artefact.stored",
        extra={
            "temporal_activity": {
                "activity_id": "7",
                "activity_type": "store_artefact",
                "attempt": 3,
                "workflow_id": "service/SVC-007",
                "workflow_run_id": "run-2",
                "workflow_type": "ServiceLifecycleWorkflow",
            },
        },
    )

    wf, act = lines(stream)
    assert "temporal_workflow" not in wf
    assert wf["duty"] == "escalate"
    assert (wf["workflow_id"], wf["run_id"], wf["workflow_type"], wf["attempt"]) == (
        "coe/COE-2026-001",
        "run-1",
        "CorrectionOfErrorsWorkflow",
        1,
    )
    assert "temporal_activity" not in act
    assert (act["activity_id"], act["activity_type"], act["attempt"]) == ("7", "store_artefact", 3)
    assert (act["workflow_id"], act["run_id"]) == ("service/SVC-007", "run-2")


def test_a_field_the_call_passes_wins_over_the_sdks(stream: io.StringIO) -> None:
    logging.getLogger("temporalio.workflow").info(
        "follower.gone", extra={"attempt": 9, "temporal_workflow": {"attempt": 1}}
    )

    [line] = lines(stream)
    assert line["attempt"] == 9


def test_exceptions_are_one_json_field(stream: io.StringIO) -> None:
    try:
        raise ValueError("bad policy")
    except ValueError:
        logging.getLogger("osom.test").exception("policy.unreadable")

    [line] = lines(stream)
    assert line["event"] == "policy.unreadable"
    assert "ValueError: bad policy" in line["exception"]


def test_workflow_context_is_not_appended_to_the_event_name(stream: io.StringIO) -> None:
    assert workflow.logger.workflow_info_on_message is False


def test_json_off_a_terminal_console_on_one_and_the_setting_forces_either(
    monkeypatch: pytest.MonkeyPatch, stream: io.StringIO
) -> None:
    plain, terminal, forced = io.StringIO(), Terminal(), Terminal()
    configure_logging(stream=plain)
    structlog.get_logger().info("case.started")
    configure_logging(stream=terminal)
    structlog.get_logger().info("case.started")
    monkeypatch.setenv("OSOM_LOG_FORMAT", "json")
    configure_logging(stream=forced)
    structlog.get_logger().info("case.started")

    assert json.loads(plain.getvalue())["event"] == "case.started"
    with pytest.raises(json.JSONDecodeError):
        json.loads(terminal.getvalue())
    assert "case.started" in terminal.getvalue()
    assert json.loads(forced.getvalue())["event"] == "case.started"


def test_calling_it_again_replaces_the_handler(stream: io.StringIO) -> None:
    second = io.StringIO()
    configure_logging(fmt="json", stream=second)
    logging.getLogger("osom.test").warning("once")

    assert stream.getvalue() == ""
    assert len(lines(second)) == 1


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in (("", None), ("auto", None), ("JSON", "json"), ("console", "console")):
        monkeypatch.setenv("OSOM_LOG_FORMAT", value)
        assert log_format_from_env() == expected
    monkeypatch.setenv("OSOM_LOG_FORMAT", "xml")
    with pytest.raises(SystemExit, match="OSOM_LOG_FORMAT"):
        log_format_from_env()


def test_metrics_are_off_unless_an_address_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSOM_METRICS_ADDRESS", raising=False)
    assert Settings.from_env().metrics_address is None
    monkeypatch.setenv("OSOM_METRICS_ADDRESS", "0.0.0.0:9464")
    assert Settings.from_env().metrics_address == "0.0.0.0:9464"


def test_osom_worker_metrics_address_option_reaches_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[Settings] = []

    async def serve(settings: Settings) -> None:
        served.append(settings)

    monkeypatch.setattr(worker, "serve", serve)
    monkeypatch.setattr(worker, "configure_logging", lambda: None)
    monkeypatch.delenv("OSOM_METRICS_ADDRESS", raising=False)

    result = CliRunner().invoke(app, ["worker", "--metrics-address", "127.0.0.1:9464"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 0, result.output

    assert [s.metrics_address for s in served] == ["127.0.0.1:9464", None]


def test_the_worker_logs_how_notifications_leave_without_the_mail_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``worker.started`` says where e-mail goes (host and port), never the SMTP secret."""
    monkeypatch.setenv("OSOM_SMTP_URL", "smtp+starttls://osom:s3cret@mail.fenmoor.example:2525")
    settings = Settings.from_env()
    described = worker.channels(settings).describe()
    assert "mail.fenmoor.example:2525" in described
    assert "s3cret" not in described
    assert "osom:" not in described
    assert "s3cret" not in repr(worker.channels(settings))
    monkeypatch.delenv("OSOM_SMTP_URL")
    assert worker.channels(Settings.from_env()).describe().startswith("recorded in the outbox only")
