"""The names of the signals a case takes: the fire-and-forget forms of people's commands, and
the messages one case sends another. Running cases depend on these names: never rename one.

Every signal reaches one handler (``workflows/_handlers.py``), which routes it by name to the
model it carries; an unknown name or a malformed payload is recorded as refused.
"""

from __future__ import annotations

# A Decision or an ArtefactSubmission, for a sender that cannot wait for an answer.
DECIDE_SIGNAL = "decide_signal"
SUBMIT_SIGNAL = "submit_signal"

# Between cases, each naming a stored artefact version (the receiver trusts only the store).
SERVICE_CHANGED = "service_changed"  # lifecycle -> its assessments and CoEs: a new contract
ASSESSMENT_CONCLUDED = "assessment_concluded"  # assessment -> its lifecycle: report or closure
COE_ACTIONS_CHANGED = "coe_actions_changed"  # CoE -> its service's lifecycle: actions register
