"""One-window services (一窗通办): the service catalog, cases, department tasks, decisions.

The catalog (:mod:`hukou.casework.catalog`) says what each service needs; the rules
(:mod:`~hukou.casework.rules`) decide from facts read through ``exchange``; the
lifecycle (:mod:`~hukou.casework.lifecycle`) and the clock (:mod:`~hukou.casework.clock`)
say which step may follow which and how many working days a case has.
"""

from hukou.casework.catalog import Catalog, Service, load_catalog
from hukou.casework.clock import Clock, Pause, SlaStatus
from hukou.casework.lifecycle import CaseState, Step, StepRefusedError, TaskState
from hukou.casework.rules import Decision, Finding, Source, decide, find_facts

__all__ = [
    "CaseState",
    "Catalog",
    "Clock",
    "Decision",
    "Finding",
    "Pause",
    "Service",
    "SlaStatus",
    "Source",
    "Step",
    "StepRefusedError",
    "TaskState",
    "decide",
    "find_facts",
    "load_catalog",
]
