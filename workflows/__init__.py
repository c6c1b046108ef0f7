"""The Temporal workflows of the engine: the one list of processes the worker (and the replayer),
the CLI and the generated documentation read."""

from dataclasses import dataclass
from typing import Any

from workflows._definition import ProcessDefinition
from workflows._handlers import CaseWorkflow
from workflows.assessment.definition import ASSESSMENT
from workflows.assessment.workflow import AssessmentWorkflow
from workflows.coe_review.definition import COE_REVIEW
from workflows.coe_review.workflow import ReviewSessionWorkflow
from workflows.correction_of_errors.definition import COE
from workflows.correction_of_errors.workflow import CoeWorkflow
from workflows.establishment.definition import ESTABLISHMENT
from workflows.establishment.workflow import NewServiceWorkflow
from workflows.lifecycle.definition import LIFECYCLE
from workflows.lifecycle.workflow import LifecycleWorkflow

TASK_QUEUE = "osom"


@dataclass(frozen=True)
class Process:
    """One process of the engine: the name people give it (``osom start new-service``,
    ``osom diagram coe-review``), its definition and the workflow that runs it. ``aliases`` are
    other names the CLI takes for it."""

    name: str
    definition: ProcessDefinition[Any]
    workflow: type[CaseWorkflow[Any]]
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # By name: in the workflow sandbox the two may be separately imported copies.
        if self.workflow.DEFINITION.name != self.definition.name:
            raise ValueError(f"{self.workflow.__name__} does not run {self.definition.name}")


PROCESSES: tuple[Process, ...] = (
    Process("new-service", ESTABLISHMENT, NewServiceWorkflow, aliases=("establishment",)),
    Process("lifecycle", LIFECYCLE, LifecycleWorkflow),
    Process("assessment", ASSESSMENT, AssessmentWorkflow),
    Process("coe", COE, CoeWorkflow),
    Process("coe-review", COE_REVIEW, ReviewSessionWorkflow),
)

WORKFLOWS: list[type[CaseWorkflow[Any]]] = [p.workflow for p in PROCESSES]

__all__ = [
    "PROCESSES",
    "TASK_QUEUE",
    "WORKFLOWS",
    "AssessmentWorkflow",
    "CoeWorkflow",
    "LifecycleWorkflow",
    "NewServiceWorkflow",
    "Process",
    "ReviewSessionWorkflow",
]
