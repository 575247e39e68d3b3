"""Waivers that match nothing: a load error of the blueprint, with what the rule could waive.

A waiver is a reviewed statement about one finding. One that covers no finding has gone stale
(the finding was fixed) or names its subject wrongly (then the violation it meant still fails,
and the reviewer signed something else): either way the blueprint is wrong, so `aifactory
check` and `aifactory report` refuse it (exit 2) with the waiver's line, the subjects the rule
examines on this plan and the nearest of them.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path

from blueprints.spec.loader import BlueprintError, Lines, Problem, read_yaml
from policies.model import Evidence, Result, Waiver, is_manifest_rule


def _lines(blueprint_file: str | None) -> Lines:
    if not blueprint_file or not Path(blueprint_file).is_file():
        return {}
    try:
        return read_yaml(blueprint_file)[1]
    except BlueprintError:
        return {}


def _where(lines: Lines, file: str, index: int, field: str) -> tuple[str, int]:
    for loc in (("policy", "waivers", index, field), ("policy", "waivers", index),
                ("policy", "waivers"), ("policy",)):
        if loc in lines:
            return lines[loc]
    return file, 1


def _listing(subjects: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(subjects[:limit])
    return shown + (f" and {len(subjects) - limit} more" if len(subjects) > limit else "")


def unmatched(result: Result, evidence: Mapping[str, Sequence[Evidence]],
              blueprint_file: str | None) -> list[Problem]:
    """A problem for every waiver that covers no violation (manifest rules only when the
    manifests were checked)."""
    stale = [w for w in result.unused_waivers
             if result.manifests_checked or not is_manifest_rule(w.rule)]
    if not stale:
        return []
    lines = _lines(blueprint_file)
    file = blueprint_file or result.blueprint or "blueprint.yaml"
    outcomes = {o.rule.name: o for o in result.outcomes}
    problems = []
    for w in stale:
        problems.append(_problem(w, result, evidence, outcomes.get(w.rule) is not None
                                 and outcomes[w.rule].state == "not-applicable", lines, file))
    return problems


def _problem(w: Waiver, result: Result, evidence: Mapping[str, Sequence[Evidence]],
             not_applicable: bool, lines: Lines, file: str) -> Problem:
    path = f"policy.waivers[{w.index}]"
    if not_applicable:
        where, line = _where(lines, file, w.index, "rule")
        return Problem(where, line, f"{path}.rule", f"{w.rule} does not apply to this factory, "
                       "so the waiver covers nothing: remove it")
    failing: list[str] = []
    for v in result.violations:
        if v.rule.name == w.rule:
            failing += [v.subject, *v.finding.also_waived_by]
    failing = list(dict.fromkeys(failing))
    examined = list(dict.fromkeys(e.subject for e in evidence.get(w.rule, ())))
    where, line = _where(lines, file, w.index, "resource")
    if w.resource in examined and w.resource not in failing:
        return Problem(where, line, f"{path}.resource", f"{w.rule} passes on {w.resource!r}, "
                       "so the waiver covers nothing: remove it")
    subjects = failing + [s for s in examined if s not in failing]
    close = difflib.get_close_matches(w.resource, subjects, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    if failing:
        known = f"it fails on {_listing(failing)}"
    elif examined:
        known = f"it passes on every subject it examines ({_listing(examined)})"
    else:
        known = "it finds nothing on this plan"
    return Problem(where, line, f"{path}.resource",
                   f"{w.resource!r} is not a subject of {w.rule}: {hint}{known}; name the "
                   "subject as `aifactory check` prints it after 'waive:', or remove the waiver")


def raise_if_unmatched(result: Result, evidence: Mapping[str, Sequence[Evidence]],
                       blueprint_file: str | None) -> None:
    """Raise BlueprintError (exit 2) when a waiver covers nothing."""
    problems = unmatched(result, evidence, blueprint_file)
    if problems:
        raise BlueprintError(problems)
