"""Assessment types and the criteria catalogue (DOMAIN §4.2, §4.4)."""

from __future__ import annotations

from enum import StrEnum


class AssessmentType(StrEnum):
    DISCOVERY_EXIT = "DISCOVERY_EXIT"
    ALPHA_EXIT = "ALPHA_EXIT"
    BETA_EXIT = "BETA_EXIT"
    LIVE_PERIODIC = "LIVE_PERIODIC"
    REASSESSMENT = "REASSESSMENT"
    AD_HOC = "AD_HOC"


# The common and technical criteria every organisation starts from; the policy picks per type.
CATALOGUE: dict[str, str] = {
    "C1": "Understand users and their needs",
    "C2": "Solve a whole problem for users with the network",
    "C3": "Make the service simple to use",
    "C4": "Provide a joined-up experience across channels",
    "C5": "Create a secure service which protects users' privacy",
    "C6": "Build the right team",
    "C7": "Use appropriate methods",
    "C8": "Use appropriate standards",
    "C9": "Operate a reliable service",
    "C10": "How is the service applying guidelines?",
    "T1": "Choose the right tools and technology",
    "T2": "Make new source code open",
    "T3": "Use and contribute to open standards, common components and patterns",
}
