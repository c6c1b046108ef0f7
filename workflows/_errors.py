"""The one place where domain errors become Temporal failures."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from models.errors import OsomError


def refusal(err: OsomError) -> ApplicationError:
    """A non-retryable failure whose ``type`` is the domain error's class name."""
    return ApplicationError(err.message, err.details, type=err.type, non_retryable=True)
