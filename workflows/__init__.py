"""The Temporal workflows of the engine: the one list the worker (and the replayer) read."""

from typing import Any

from workflows._handlers import CaseWorkflow
from workflows.assessment.workflow import AssessmentWorkflow
from workflows.coe_review.workflow import ReviewSessionWorkflow
from workflows.correction_of_errors.workflow import CoeWorkflow
from workflows.establishment.workflow import NewServiceWorkflow
from workflows.lifecycle.workflow import LifecycleWorkflow

TASK_QUEUE = "osom"

WORKFLOWS: list[type[CaseWorkflow[Any]]] = [
    NewServiceWorkflow,
    LifecycleWorkflow,
    AssessmentWorkflow,
    CoeWorkflow,
    ReviewSessionWorkflow,
]

__all__ = [
    "TASK_QUEUE",
    "WORKFLOWS",
    "AssessmentWorkflow",
    "CoeWorkflow",
    "LifecycleWorkflow",
    "NewServiceWorkflow",
    "ReviewSessionWorkflow",
]
