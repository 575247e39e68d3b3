"""Policies: one rule set over the plan, three runners (aifactory check, CrossGuard, checkov).

    from policies import RULES, evaluate
    result = evaluate(plan)          # plan: aifactory.plan.document plan dict
    result.failed, result.waived, result.sites, result.quotas
"""

from policies.engine import evaluate, evaluate_view
from policies.model import Finding, Result, Rule, Violation, Waiver
from policies.rules import BY_NAME, KNOWN_RULES, RULES
from policies.view import PlanView

__all__ = ["BY_NAME", "KNOWN_RULES", "RULES", "Finding", "PlanView", "Result", "Rule",
           "Violation", "Waiver", "evaluate", "evaluate_view"]
