"""Fixtures shared by every test: the example organisation, the exit-status guard and a private
PostgreSQL server."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterator

import pytest

from models.people import Directory
from models.policy import Policy
from models.proposal import Proposal
from osom.logging import configure_logging, reset_logging
from tests.examples import EXAMPLES, load_yaml
from tests.postgres import PostgresServer


@pytest.fixture(scope="session")
def directory() -> Directory:
    return Directory.model_validate(load_yaml(EXAMPLES / "directory.yaml"))


@pytest.fixture(scope="session")
def policy() -> Policy:
    return Policy.model_validate(load_yaml(EXAMPLES / "policy.yaml"))


@pytest.fixture
def proposal() -> Proposal:
    return Proposal.model_validate(load_yaml(EXAMPLES / "proposal.yaml"))


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave with pytest's own verdict, skipping interpreter teardown.

    The Temporal SDK's native threads can abort a finishing interpreter ("PyGILState_Release",
    DESIGN §7), turning a green run into exit 134. By now every report is written, so exiting
    here keeps the status honest both ways: failures still fail, green stays green.
    """
    if _exit_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Logging configured to write JSON lines into a string (the engine's in-process worker
    logs there too); the previous set-up comes back afterwards."""
    monkeypatch.delenv("OSOM_LOG_FORMAT", raising=False)
    monkeypatch.delenv("OSOM_LOG_LEVEL", raising=False)
    root_level = logging.getLogger().level
    buffer = io.StringIO()
    configure_logging(fmt="json", stream=buffer)
    try:
        yield buffer
    finally:
        reset_logging()
        logging.getLogger().setLevel(root_level)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the whole run (tests/postgres.py), started at the first
    test that asks for it; a test wanting an empty database takes ``postgres.new_database()``.
    Tests that ``kill()`` a server start their own instead of this shared one."""
    with PostgresServer() as server:
        yield server
