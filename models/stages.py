"""Lifecycle stages of a service (DOMAIN §3.1), shared by the contract and the directory."""

from __future__ import annotations

from enum import StrEnum


class LifecycleStage(StrEnum):
    DISCOVERY = "DISCOVERY"
    ALPHA = "ALPHA"
    BETA = "BETA"
    LIVE = "LIVE"
    DECOMMISSIONING = "DECOMMISSIONING"
    DECOMMISSIONED = "DECOMMISSIONED"


# A service in these stages is on its way out and takes no new needs.
CLOSING_STAGES = frozenset({LifecycleStage.DECOMMISSIONING, LifecycleStage.DECOMMISSIONED})
