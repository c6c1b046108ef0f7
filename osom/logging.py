"""Logs are data: one handler renders structlog's events and the standard library's records alike.

Temporal's ``workflow.logger`` and ``activity.logger`` (and the SDK itself) log through the
standard library, with their context and our ``extra={...}`` fields on the record. The handler's
structlog ``ProcessorFormatter`` copies those fields into the event (``ExtraAdder``), so every
line keeps them, and structlog's own loggers hand their events to the same handler
(``wrap_for_formatter``). JSON lines when the stream is not a terminal, readable columns on one;
``OSOM_LOG_FORMAT=json|console`` forces either, ``OSOM_LOG_LEVEL`` sets the level.

The SDK's context dicts become top-level fields (``flatten_temporal``):

- ``temporal_workflow`` -> workflow_id, run_id, workflow_type, attempt, namespace, task_queue
  (and update_id, update_name inside an update handler);
- ``temporal_activity`` -> activity_id, activity_type, attempt, workflow_id, run_id,
  workflow_type, namespace, task_queue.

A field the call passed itself wins over the SDK's field of the same name.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import IO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger
from temporalio import activity, workflow

from osom.settings import LogFormat, log_format_from_env, log_level_from_env

# The SDK's context dicts on a record, and the top-level name each of their keys takes.
TEMPORAL_CONTEXT: dict[str, dict[str, str]] = {
    "temporal_workflow": {
        "workflow_id": "workflow_id",
        "run_id": "run_id",
        "workflow_type": "workflow_type",
        "attempt": "attempt",
        "namespace": "namespace",
        "task_queue": "task_queue",
        "update_id": "update_id",
        "update_name": "update_name",
    },
    "temporal_activity": {
        "activity_id": "activity_id",
        "activity_type": "activity_type",
        "attempt": "attempt",
        "workflow_id": "workflow_id",
        "workflow_run_id": "run_id",
        "workflow_type": "workflow_type",
        "namespace": "namespace",
        "task_queue": "task_queue",
    },
}


def flatten_temporal(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """The SDK's ``temporal_workflow`` / ``temporal_activity`` dicts as top-level fields."""
    for key, names in TEMPORAL_CONTEXT.items():
        context = event_dict.pop(key, None)
        if not isinstance(context, Mapping):
            continue
        for source, target in names.items():
            if source in context:
                event_dict.setdefault(target, context[source])
    return event_dict


class _OsomHandler(logging.StreamHandler[IO[str]]):
    """The handler ``configure_logging`` installs (and replaces when called again)."""


def configure_logging(
    level: str | None = None, fmt: LogFormat | None = None, stream: IO[str] | None = None
) -> None:
    """Send structlog events and standard-library records through one handler on ``stream``
    (stderr by default), as JSON lines or console columns (``fmt``; by default
    ``OSOM_LOG_FORMAT``, else console exactly when the stream is a terminal)."""
    stream = stream if stream is not None else sys.stderr
    level = (level or log_level_from_env()).upper()
    fmt = fmt or log_format_from_env() or ("console" if stream.isatty() else "json")

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    rendering: list[Processor] = (
        [structlog.dev.ConsoleRenderer()]
        if fmt == "console"
        else [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # Records from the standard library (Temporal's loggers among them) get their extra
        # fields, then the same context, level, logger name and timestamp as structlog's events.
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), flatten_temporal, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
    )
    handler = _OsomHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OsomHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # transitions narrates every callback at INFO, also while queries replay a finished case.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    # The context goes into fields; appending it to the message too would change event names.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False

    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


def reset_logging() -> None:
    """Undo ``configure_logging`` (for tests): its handler goes, structlog's defaults return."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OsomHandler)]:
        root.removeHandler(old)
    structlog.reset_defaults()
