"""Loading the directory of people and the policy the worker is configured with."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel
from temporalio import activity

from models.people import Directory
from models.policy import Policy


def load_directory(path: Path) -> Directory:
    return Directory.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_policy(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    return Policy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


class CaseContext(BaseModel):
    directory: Directory
    policy: Policy


class ContextLoader:
    """Reads the configured files when a case starts; the case then pins what it got."""

    def __init__(self, directory_path: Path, policy_path: Path | None) -> None:
        self.directory_path = directory_path
        self.policy_path = policy_path

    @activity.defn(name="load_directory")
    def load_directory(self) -> Directory:
        return load_directory(self.directory_path)

    @activity.defn(name="load_case_context")
    def load_case_context(self) -> CaseContext:
        return CaseContext(
            directory=load_directory(self.directory_path), policy=load_policy(self.policy_path)
        )
