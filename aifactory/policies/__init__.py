"""Policies: one rule set over the plan, three runners (aifactory check, CrossGuard, checkov).

    from aifactory.policies import RULES, evaluate
    result = evaluate(plan)          # plan: aifactory.plan.document plan dict
    result.failed, result.waived, result.sites, result.quotas
"""

from aifactory.policies.engine import evaluate, evaluate_view
from aifactory.policies.model import Finding, Result, Rule, Violation, Waiver
from aifactory.policies.rules import BY_NAME, RULES
from aifactory.policies.view import PlanView

__all__ = ["BY_NAME", "RULES", "Finding", "PlanView", "Result", "Rule", "Violation", "Waiver",
           "evaluate", "evaluate_view"]
