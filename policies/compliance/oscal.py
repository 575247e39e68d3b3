"""The compliance review as OSCAL 1.2 assessment results (JSON).

One result holds: an observation per rule (its findings and what it examined, with the
inputs), a finding per control (satisfied or not, with the observations of the rules that
evidence it), and a risk per waiver (deviation-approved while valid, open once expired,
closed when it covers nothing) whose log names its approver. Owners and approvers are
parties; the blueprint and the plan are back-matter resources with their SHA-256 digests.
compliance-trestle (a dev dependency) loads and validates what this writes (tests).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from policies.compliance.render import inputs_text
from policies.compliance.review import CONTROL_STATUS_TEXT, Review

OSCAL_VERSION = "1.2.1"
FRAMEWORK_PREFIX = {"iso27001": "iso27001-2022", "nist-800-53": "nist-sp-800-53-rev5",
                    "cis": "cis", "c5": "bsi-c5-2020", "secnumcloud": "secnumcloud-3.2",
                    "gdpr": "gdpr", "ai-act": "eu-ai-act", "data-act": "eu-data-act"}


def control_token(framework: str, control_id: str) -> str:
    """An OSCAL control-id token: NIST ids as OSCAL writes them (cp-2.2 for CP-2(2)), others
    prefixed by their framework (iso27001-2022_a.8.6, cis_eks-5.4.1, gdpr_art-44)."""
    if framework == "nist-800-53":
        return re.sub(r"\((\d+)\)", r".\1", control_id).lower()
    body = re.sub(r"[^A-Za-z0-9.\-]+", "-", control_id.replace("(", ".").replace(")", ""))
    return f"{FRAMEWORK_PREFIX.get(framework, framework)}_{body.strip('-').lower()}"


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00+00:00"


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "value": str(value)}


def assessment_results(review: Review) -> dict[str, Any]:
    """The OSCAL document (a dict ready for json.dumps)."""
    i = review.identification
    r = review.result
    parties: dict[str, str] = {}
    for w in review.waivers:
        for person in (w.owner, w.approver):
            if person and person not in parties:
                parties[person] = review.uuid("party", person)
    tool_uuid = review.uuid("tool")
    observations, obs_of_rule = [], {}
    for sec in review.sections:
        uid = review.uuid("observation", sec.rule.name)
        obs_of_rule[sec.rule.name] = uid
        evidence = []
        for v in sec.violations:
            seen = sec.evidence_of.get(v.subject)
            figures = {**(seen.inputs if seen else {}), **v.finding.details}
            evidence.append({"description": f"{v.subject}: {v.status}: {v.finding.message}. "
                             f"Inputs: {inputs_text(figures)}"})
        evidence += [{"description": f"{e.subject}: satisfied. Inputs: {inputs_text(e.inputs)}"}
                     for e in sec.passing]
        observations.append({
            "uuid": uid, "title": f"Rule {sec.rule.name}: {sec.state}",
            "description": f"{sec.rule.description} ({sec.rule.severity}, "
                           f"{sec.rule.enforcement}) Remediation: {sec.rule.remediation}",
            "props": [_prop("rule", sec.rule.name), _prop("state", sec.state),
                      _prop("severity", sec.rule.severity)],
            "methods": ["TEST"], "types": ["finding" if sec.violations else "control-objective"],
            "origins": [{"actors": [{"type": "tool", "actor-uuid": tool_uuid}]}],
            "collected": _stamp(i.date),
            **({"relevant-evidence": evidence} if evidence else {}),
        })
    risks: list[dict[str, Any]] = []
    risk_of_rule: dict[str, list[str]] = {}
    for w in review.waivers:
        uid = review.uuid("risk", w.id)
        risk_of_rule.setdefault(w.rule, []).append(uid)
        status = {"active": "deviation-approved", "expired": "open",
                  "covers nothing": "closed"}[w.status]
        entry: dict[str, Any] = {
            "uuid": review.uuid("risk-log", w.id), "title": f"Waiver {w.id} approved",
            "description": f"Approved by {w.approver or 'nobody'} (ticket {w.ticket}), owned "
                           f"by {w.owner}, valid through {w.expires.isoformat()}.",
            "start": _stamp(w.approved or i.date), "status-change": "deviation-approved"}
        if w.approver:
            entry["logged-by"] = [{"party-uuid": parties[w.approver], "role-id": "approver"}]
        log = [entry]
        if w.status != "active":
            log.append({"uuid": review.uuid("risk-log-2", w.id),
                        "title": f"Waiver {w.id} {w.status}", "start": _stamp(i.date),
                        "status-change": status})
        risks.append({
            "uuid": uid, "title": f"Waiver {w.id}: {w.rule} on {w.resource}",
            "description": f"{w.severity} rule {w.rule} waived on {w.resource}: {w.reason}",
            "statement": f"Accepted deviation from {w.rule} for {', '.join(w.covers) or 'nothing'}"
                         f" ({w.status}).",
            "props": [_prop("waiver", w.id), _prop("ticket", w.ticket), _prop("rule", w.rule),
                      _prop("resource", w.resource)],
            "status": status, "deadline": f"{w.expires.isoformat()}T23:59:59+00:00",
            "risk-log": {"entries": log},
        })
    findings, controls = [], []
    for fw, rows in review.coverage:
        for c in rows:
            token = control_token(fw.id, c.control.id)
            controls.append({"control-id": token})
            related = [obs_of_rule[rule] for rule, _, _ in c.rules if rule in obs_of_rule]
            related_risks = [u for rule, _, _ in c.rules for u in risk_of_rule.get(rule, [])]
            state = "satisfied" if c.status in ("satisfied", "partial") else "not-satisfied"
            finding: dict[str, Any] = {
                "uuid": review.uuid("finding", token),
                "title": f"{fw.title} {c.control.id} {c.control.title}",
                "description": CONTROL_STATUS_TEXT[c.status] + (
                    f"; manual evidence: {c.control.manual}" if c.control.manual else "")
                + ". Rules: " + ", ".join(f"{rule} [{p}]" for rule, p, _ in c.rules),
                "props": [_prop("framework", fw.id), _prop("control", c.control.id),
                          _prop("status", c.status)]
                + [_prop("mapping", f"{rule} {p}") for rule, p, _ in c.rules],
                "target": {"type": "objective-id", "target-id": token,
                           "status": {"state": state}},
            }
            if related:
                finding["related-observations"] = [{"observation-uuid": u} for u in related]
            if related_risks:
                finding["related-risks"] = [{"risk-uuid": u} for u in related_risks]
            findings.append(finding)
    blueprint_res, plan_res, ap_res = (review.uuid("blueprint"), review.uuid("plan"),
                                       review.uuid("assessment-plan"))
    blueprint_link: dict[str, Any] = {"href": i.blueprint or "blueprint.yaml"}
    if i.blueprint_digest:
        blueprint_link["hashes"] = [{"algorithm": "SHA-256", "value": i.blueprint_digest}]
    roles = [{"id": "owner", "title": "Waiver owner (accepted the risk)"},
             {"id": "approver", "title": "Waiver approver"},
             {"id": "assessor", "title": "Reviewer who signs the review"}]
    metadata: dict[str, Any] = {
        "title": f"Compliance review of {i.factory} ({i.blueprint})",
        "last-modified": _stamp(i.date), "version": i.tool_version,
        "oscal-version": OSCAL_VERSION,
        "props": [_prop("tool", f"{i.tool} {i.tool_version}"),
                  _prop("rules-digest", f"sha256:{i.rules_digest}"),
                  _prop("crosswalk-digest", f"sha256:{i.crosswalk_digest}"),
                  _prop("plan-digest", f"sha256:{i.plan_digest}"),
                  *([_prop("commit", i.commit)] if i.commit else []),
                  *([_prop("catalog-snapshot", i.catalog_snapshot)] if i.catalog_snapshot
                    else [])],
        "roles": roles,
    }
    if parties:
        metadata["parties"] = [{"uuid": u, "type": "person", "name": name}
                               for name, u in parties.items()]
        responsible = []
        for role, people in (("owner", {w.owner for w in review.waivers}),
                             ("approver", {w.approver for w in review.waivers if w.approver})):
            if people:
                responsible.append({"role-id": role,
                                    "party-uuids": [parties[p] for p in sorted(people)]})
        metadata["responsible-parties"] = responsible
    scope = i.scope
    result: dict[str, Any] = {
        "uuid": review.uuid("result"),
        "title": f"Offline policy check of {i.factory}: {review.verdict}",
        "description": " ".join(review.method),
        "start": _stamp(i.date), "end": _stamp(i.date),
        "props": [_prop("verdict", "passed" if r.passed else "failed"),
                  _prop("failed", len(r.failed)), _prop("waived", len(r.waived)),
                  _prop("advisory", len(r.advisories)),
                  *([_prop("jurisdiction", scope.jurisdiction)] if scope.jurisdiction else []),
                  *[_prop("region", x) for x in scope.regions],
                  *[_prop("account", x) for x in scope.accounts],
                  *[_prop("site", x) for x in scope.sites]],
        "links": [{"href": f"#{blueprint_res}", "rel": "reference", "text": "Blueprint"},
                  {"href": f"#{plan_res}", "rel": "reference", "text": "Offline plan"},
                  {"href": f"#{ap_res}", "rel": "reference", "text": "Assessment plan"}],
        "reviewed-controls": {"control-selections": [{"include-controls": controls}]},
        "observations": observations,
        "findings": findings,
    }
    if risks:
        result["risks"] = risks
    return {"assessment-results": {
        "uuid": i.report_id,
        "metadata": metadata,
        "import-ap": {"href": f"#{ap_res}"},
        "results": [result],
        "back-matter": {"resources": [
            {"uuid": ap_res, "title": "Assessment plan",
             "description": "No separate plan: the rule set (digest in the metadata) and the "
                            "rule-to-control crosswalk define what was assessed."},
            {"uuid": blueprint_res, "title": "Blueprint", "rlinks": [blueprint_link]},
            {"uuid": plan_res, "title": "Offline plan",
             "rlinks": [{"href": "plan.json",
                         "hashes": [{"algorithm": "SHA-256", "value": i.plan_digest}]}]},
        ]},
    }}
