"""Focus Mode: answers backed by verified evidence; abstaining is the safe fallback."""
from generator import SLO, Alerting, EventsRatio, Tier
from generator import conventions as c

SLOS = [
    SLO(
        name="focus-mode-errors",
        service="focus-mode",
        owner="focus-mode",
        description="Focus Mode requests end in an answer or an abstention, not an error.",
        objective=0.995,
        sli=EventsRatio(
            total=c.FOCUS_ANSWERS,
            bad=f'{c.FOCUS_ANSWERS}{{{c.OUTCOME}="error"}}',
        ),
        runbook="https://runbooks.kfm.example/slo/focus-mode-errors",
    ),
    SLO(
        name="focus-mode-abstentions",
        service="focus-mode",
        owner="focus-mode",
        description="Focus Mode answers most questions instead of abstaining because evidence could not be verified.",
        objective=0.9,
        period="7d",
        sli=EventsRatio(
            total=c.FOCUS_ANSWERS,
            bad=f'{c.FOCUS_ANSWERS}{{{c.OUTCOME}="abstained"}}',
        ),
        alerting=Alerting(
            page=Tier.disabled(
                "Abstaining is the safe behaviour when evidence cannot be verified; a rise is "
                "investigated in working hours, never at night."
            ),
        ),
        runbook="https://runbooks.kfm.example/slo/focus-mode-abstentions",
    ),
]
