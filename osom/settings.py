"""Settings from the environment, read once in the composition root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

LogFormat = Literal["json", "console"]

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples" / "fenmoor"


@dataclass(frozen=True)
class Settings:
    """Where the engine keeps its files and which organisation it serves.

    Temporal connection settings (address, namespace, TLS, API key) are not here: they come from
    Temporal's standard client configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, a profile in
    temporal.toml ...), see ``osom.client.connect``.
    """

    data_dir: Path
    artefact_root: Path
    outbox_root: Path
    directory_path: Path
    policy_path: Path | None
    task_queue: str
    # Whether the worker keeps the CoE review schedule in step with the policy when it starts.
    review_schedule: bool = True
    # The HTTP API's issued tokens (hashes only).
    api_tokens: Path = Path("data/api-tokens.yaml")
    # Where the worker serves the Temporal SDK's Prometheus metrics (host:port); None: nowhere.
    metrics_address: str | None = None
    # The record store (SQLAlchemy URL): SQLite in the data folder unless set, PostgreSQL
    # (postgresql+psycopg://user:password@host:5432/database) in a deployment.
    record_url: str = ""
    # The HTTP API's address as people reach it: artefact and case links are made with it.
    public_url: str = "http://127.0.0.1:8000"
    # Where e-mail goes out (smtp://host:port, smtps://..., smtp+starttls://user:pass@host:587);
    # empty: notifications are only recorded (and chat webhooks, if people have them, posted).
    smtp_url: str = ""
    mail_from: str = "osom@localhost"

    @property
    def record(self) -> str:
        return self.record_url or f"sqlite:///{self.data_dir / 'record.sqlite3'}"

    @classmethod
    def in_folder(cls, root: Path, organisation: Path, task_queue: str) -> Settings:
        """Everything under ``root``, serving the directory and policy found in ``organisation``
        (for tests and benchmarks that run their own engine)."""
        return cls(
            data_dir=root,
            artefact_root=root / "artefacts",
            outbox_root=root / "outbox",
            directory_path=organisation / "directory.yaml",
            policy_path=organisation / "policy.yaml",
            task_queue=task_queue,
            review_schedule=False,
            api_tokens=root / "api-tokens.yaml",
        )

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("OSOM_DATA_DIR", "data")).resolve()
        policy = os.environ.get("OSOM_POLICY", str(EXAMPLES / "policy.yaml"))
        return cls(
            data_dir=data_dir,
            artefact_root=Path(os.environ.get("OSOM_ARTEFACT_ROOT", data_dir / "artefacts")),
            outbox_root=Path(os.environ.get("OSOM_OUTBOX", data_dir / "outbox")),
            directory_path=Path(os.environ.get("OSOM_DIRECTORY", EXAMPLES / "directory.yaml")),
            policy_path=Path(policy) if policy else None,
            task_queue=os.environ.get("OSOM_TASK_QUEUE", "osom"),
            review_schedule=os.environ.get("OSOM_REVIEW_SCHEDULE", "on").lower()
            not in ("off", "0", "false", "no"),
            api_tokens=Path(os.environ.get("OSOM_API_TOKENS", data_dir / "api-tokens.yaml")),
            metrics_address=os.environ.get("OSOM_METRICS_ADDRESS") or None,
            record_url=os.environ.get("OSOM_RECORD_URL", ""),
            public_url=os.environ.get("OSOM_PUBLIC_URL", "http://127.0.0.1:8000"),
            smtp_url=os.environ.get("OSOM_SMTP_URL", ""),
            mail_from=os.environ.get("OSOM_MAIL_FROM", "osom@localhost"),
        )


def log_format_from_env() -> LogFormat | None:
    """OSOM_LOG_FORMAT: ``json`` or ``console`` forces that rendering; unset or ``auto`` leaves
    the choice to the stream (console on a terminal, JSON lines elsewhere)."""
    value = os.environ.get("OSOM_LOG_FORMAT", "").strip().lower()
    if value in ("", "auto"):
        return None
    if value == "json":
        return "json"
    if value == "console":
        return "console"
    raise SystemExit(f"OSOM_LOG_FORMAT must be json, console or auto, not {value!r}")


def log_level_from_env() -> str:
    """OSOM_LOG_LEVEL (DEBUG, INFO, WARNING, ERROR), INFO by default."""
    value = os.environ.get("OSOM_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SystemExit(f"OSOM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {value!r}")
    return value
