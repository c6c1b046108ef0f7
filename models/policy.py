"""The tunable parts of OSOM (DOMAIN §9.6) with their defaults.

An organisation adapts OSOM through a policy file; the policy in force when a case starts is
pinned into that case, so changing the file never changes a running case.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClockPolicy(_Section):
    """A deadline in working days, with reminders every ``reminder_wd`` until (and after) it."""

    due_wd: int = Field(gt=0)
    reminder_wd: int = Field(gt=0)


class EstablishmentPolicy(_Section):
    triage: ClockPolicy = ClockPolicy(due_wd=20, reminder_wd=5)
    drafting: ClockPolicy = ClockPolicy(due_wd=20, reminder_wd=5)


class Policy(_Section):
    name: str = "OSOM defaults"
    version: str = "1"
    max_payload_bytes: int = Field(default=64 * 1024, gt=0, le=1024 * 1024)
    establishment: EstablishmentPolicy = EstablishmentPolicy()

    def clock(self, process: str, name: str) -> ClockPolicy:
        section = getattr(self, process)
        clock: ClockPolicy = getattr(section, name)
        return clock
