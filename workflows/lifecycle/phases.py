"""The lifecycle's phases, the clocks each keeps and whom its moves tell: the part of the
table (``definition.py``) about time and notice rather than moves."""

from __future__ import annotations

from models.lifecycle import LifecycleCase
from models.permits import BUDGET_HOLDERS, EXECUTIVE, EXECUTIVE_ONLY, SERVICE_MANAGER
from models.stages import LifecycleStage
from workflows._definition import ClockSpec, Effect, StateSpec
from workflows.lifecycle import rules

Case = LifecycleCase
Stage = LifecycleStage

STATES = (
    StateSpec(
        Stage.DISCOVERY,
        "Testing the hypothetical needs with users; no need is met yet",
        clocks=("discovery_target", "funding_gap"),
    ),
    StateSpec(
        Stage.ALPHA,
        "Trying ways to solve the problem; settling the interface",
        clocks=("alpha_target", "funding_gap"),
    ),
    StateSpec(
        Stage.BETA,
        "Building the chosen approach for real; reporting its metrics",
        clocks=("metric_reporting", "funding_gap"),
    ),
    StateSpec(
        Stage.LIVE,
        "In real use: meets all its needs, reassessed regularly",
        clocks=("live_reassessment", "metric_reporting"),
    ),
    StateSpec(
        Stage.DECOMMISSIONING,
        "Being retired: users and dependent services migrate away",
        clocks=("migration",),
    ),
    StateSpec(
        Stage.DECOMMISSIONED, "No longer operating; reasons kept in the contract", terminal=True
    ),
)

CLOCKS = (
    ClockSpec[Case](
        "discovery_target",
        "Discovery target date",
        remind=(SERVICE_MANAGER, EXECUTIVE),
        escalate_to=EXECUTIVE_ONLY,
        due=rules.discovery_due,
        epoch=rules.this_round,
        policy=lambda p: p.lifecycle.discovery_target,
    ),
    ClockSpec[Case](
        "alpha_target",
        "Alpha target date",
        remind=(SERVICE_MANAGER, EXECUTIVE),
        escalate_to=EXECUTIVE_ONLY,
        epoch=rules.this_round,
        policy=lambda p: p.lifecycle.alpha_target,
    ),
    ClockSpec[Case](
        "funding_gap",
        "Next phase's budget due (funding gap)",
        remind=BUDGET_HOLDERS,
        escalate_to=EXECUTIVE_ONLY,
        active=rules.awaiting_funding,
        policy=lambda p: p.lifecycle.funding_gap,
    ),
    ClockSpec[Case](
        "live_reassessment",
        "Periodic live assessment due",
        remind=(),
        escalate_to=(),
        active=rules.no_live_assessment_open,
        due=rules.live_due,
        on_due="request_live_assessment",
        epoch=rules.last_assessed,
    ),
    ClockSpec[Case](
        "metric_reporting",
        "Contract metric values due",
        remind=(),
        escalate_to=(),
        due=rules.metric_due,
        on_due="check_metric_reports",
    ),
    ClockSpec[Case](
        "migration",
        "Migration away from the service due",
        remind=(SERVICE_MANAGER, EXECUTIVE),
        escalate_to=EXECUTIVE_ONLY,
        policy=lambda p: p.lifecycle.migration,
    ),
)

EFFECTS = {
    "publish_contract": Effect[Case]("publish the next contract version", after_move=True),
    "request_gate_assessment": Effect[Case](
        "request the assessment at the end of the new phase", after_move=True
    ),
    "request_assessment": Effect[Case]("request the assessment asked for", after_move=True),
    "close_assessments": Effect[Case]("close the service's open assessments", after_move=True),
    "notify_service_manager": Effect[Case](
        "tell the Service Manager", lambda case: [case.service_manager]
    ),
    "notify_dependants": Effect[Case](
        "tell the Service Managers of services that depend on this one",
        rules.dependants_managers,
    ),
    "request_live_assessment": Effect[Case]("request the periodic live assessment"),
    "check_metric_reports": Effect[Case]("flag contract metrics not reported this period"),
}
