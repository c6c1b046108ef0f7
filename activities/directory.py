"""Loading the directory of people and the policy the worker is configured with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.activity_io import CaseContext
from models.people import Directory
from models.policy import Policy
from workflows.activity_contracts import DirectoryActivities


def load_directory(path: Path) -> Directory:
    return Directory.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_policy(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    return Policy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


class ContextLoader(DirectoryActivities):
    """Reads the configured files when a case starts; the case then pins what it got."""

    def __init__(self, directory_path: Path, policy_path: Path | None) -> None:
        self.directory_path = directory_path
        self.policy_path = policy_path

    @activity.defn
    def load_directory(self) -> Directory:
        with _unusable_file("InvalidDirectory", self.directory_path):
            return load_directory(self.directory_path)

    @activity.defn
    def load_case_context(self) -> CaseContext:
        with _unusable_file("InvalidDirectory", self.directory_path):
            directory = load_directory(self.directory_path)
        with _unusable_file("InvalidPolicy", self.policy_path):
            policy = load_policy(self.policy_path)
        return CaseContext(directory=directory, policy=policy)


@contextmanager
def _unusable_file(error_type: str, path: Path | None) -> Iterator[None]:
    """A missing, unparsable or invalid file will not heal by retrying: fail at once, saying so."""
    try:
        yield
    except (OSError, yaml.YAMLError, ValidationError) as err:
        raise ApplicationError(f"{path}: {err}", type=error_type, non_retryable=True) from err
