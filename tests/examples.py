"""The example organisation's files (examples/fenmoor), as tests read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fenmoor"


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def artefact(name: str) -> dict[str, Any]:
    """An example artefact file's fields, without its 'kind' line."""
    data = load_yaml(EXAMPLES / "artefacts" / name)
    data.pop("kind", None)
    return data


# The README walkthrough: (decide or submit, trigger or artefact kind, actor, example file).
WALKTHROUGH: list[tuple[str, str, str, str | None]] = [
    ("decide", "triage_started", "P-002", None),
    ("decide", "proposal_approved", "P-001", None),
    ("decide", "drafting_started", "P-001", None),
    ("decide", "sm_appointed", "P-001", "sm-appointment.yaml"),
    ("submit", "service_contract", "P-013", "service-contract.yaml"),
    ("decide", "discovery_budget_allocated", "P-002", "discovery-budget.yaml"),
    ("decide", "draft_completed", "P-013", None),
    ("submit", "discovery_plan", "P-013", "discovery-plan.yaml"),
    ("decide", "service_established", "P-001", None),
]

# The accepted commands the audit log holds after the walkthrough, in order.
WALKTHROUGH_TRAIL = ["demand_raised"] + [
    name if verb == "decide" else f"submit:{name}" for verb, name, _, _ in WALKTHROUGH
]
