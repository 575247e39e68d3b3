"""security-iam-no-wildcard: no IAM grant of every action (or every action of a service) on
every resource.

Identity policies are read wherever the plan holds them: policy resources, a role's inline
policies, managed policies attached by attachment resources or by a role's managedPolicyArns.
An Allow statement on Resource '*' fails when it allows '*', a whole service ('iam:*',
'kms:*'), or everything but a list (NotAction); so does Action '*' with NotResource.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from policies.kinds import (
    AWS_IAM_ATTACHMENT_SETS,
    AWS_IAM_ATTACHMENTS,
    AWS_IAM_POLICIES,
    AWS_IAM_ROLE,
)
from policies.model import Evidence, Finding, Rule
from policies.view import UNKNOWN, PlanView, Resource

# AWS managed policies that grant every action, or every IAM action (and so any other).
ADMIN_POLICIES = ("arn:aws:iam::aws:policy/AdministratorAccess",
                  "arn:aws:iam::aws:policy/PowerUserAccess",
                  "arn:aws:iam::aws:policy/IAMFullAccess")
GCP_IAM_PREFIXES = ("gcp:projects/iAM", "gcp:organizations/iAM", "gcp:folder/iAM")
GCP_PRIMITIVE = ("roles/owner", "roles/editor")


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _document(document: Any) -> dict[str, Any] | None:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    return document if isinstance(document, dict) else None


def _wildcard_action(action: Any) -> bool:
    """'*', '*:*' or a whole service ('iam:*')."""
    return isinstance(action, str) and (action in ("*", "*:*") or (
        action.endswith(":*") and action.count(":") == 1))


def wildcard_grants(document: Any) -> list[tuple[int, str]]:
    """(index, what) of the Allow statements granting too much on every resource."""
    doc = _document(document)
    if doc is None:
        return []
    out = []
    for n, st in enumerate(_as_list(doc.get("Statement", []))):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        actions = [a for a in _as_list(st.get("Action", [])) if _wildcard_action(a)]
        everywhere = "*" in _as_list(st.get("Resource", []))
        if everywhere and actions:
            out.append((n, f"allows Action {', '.join(repr(a) for a in actions)} on Resource "
                        "'*'"))
        elif everywhere and "NotAction" in st:
            out.append((n, f"allows every action but {_as_list(st['NotAction'])} (NotAction) "
                        "on Resource '*'"))
        elif "*" in _as_list(st.get("Action", [])) and "NotResource" in st:
            out.append((n, "allows Action '*' on every resource but "
                        f"{_as_list(st['NotResource'])} (NotResource)"))
    return out


def wildcard_statements(document: Any) -> list[int]:
    """Indexes of Allow statements granting too much on every resource."""
    return [n for n, _ in wildcard_grants(document)]


def _admin(view: PlanView, r: Resource, arns: list[Any], where: str) -> Iterator[Finding]:
    for arn in arns:
        if arn in ADMIN_POLICIES:
            yield view.finding(r, f"{r['name']} attaches {arn.rsplit('/', 1)[-1]}{where}, which "
                               "allows every action (or every IAM action, and so any other)",
                               policyArn=arn)


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.of_type(*AWS_IAM_POLICIES):
        doc = r["inputs"].get("policy")
        if doc in (None, UNKNOWN):
            continue
        for n, what in wildcard_grants(doc):
            yield view.finding(r, f"IAM policy {r['name']} statement {n} {what}", statement=n)
    for r in view.of_type(AWS_IAM_ROLE):
        for p in r["inputs"].get("inlinePolicies") or []:
            if not isinstance(p, dict) or p.get("policy") in (None, UNKNOWN):
                continue
            for n, what in wildcard_grants(p.get("policy")):
                yield view.finding(r, f"role {r['name']} inline policy {p.get('name', '')} "
                                   f"statement {n} {what}", statement=n, policy=p.get("name"))
        yield from _admin(view, r, list(r["inputs"].get("managedPolicyArns") or []),
                          " (managedPolicyArns)")
    for r in view.of_type(*AWS_IAM_ATTACHMENTS):
        yield from _admin(view, r, [r["inputs"].get("policyArn")], "")
    for r in view.of_type(*AWS_IAM_ATTACHMENT_SETS):
        yield from _admin(view, r, list(r["inputs"].get("policyArns") or []), "")
    for r in view.resources:
        if r["type"].startswith(GCP_IAM_PREFIXES) and r["inputs"].get("role") in GCP_PRIMITIVE:
            yield view.finding(r, f"{r['name']} grants the primitive role "
                               f"{r['inputs']['role']}, which allows nearly every action",
                               role=r["inputs"]["role"])


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.of_type(*AWS_IAM_POLICIES):
        yield view.evidence(r, "policy")
    for r in view.of_type(AWS_IAM_ROLE):
        yield view.evidence(r, "inlinePolicies", "managedPolicyArns")
    for r in view.of_type(*AWS_IAM_ATTACHMENTS):
        yield view.evidence(r, "policyArn")
    for r in view.of_type(*AWS_IAM_ATTACHMENT_SETS):
        yield view.evidence(r, "policyArns")
    for r in view.resources:
        if r["type"].startswith(GCP_IAM_PREFIXES):
            yield view.evidence(r, "role", "member", "members")


RULE = Rule(
    name="security-iam-no-wildcard",
    domain="security",
    severity="critical",
    description="No IAM policy allows every action, or every action of a service, on every "
    "resource: no Allow statement with Action '*', 'service:*' or NotAction on Resource '*' "
    "(in policies and roles' inline policies), no AdministratorAccess, PowerUserAccess or "
    "IAMFullAccess attachment (also through managedPolicyArns), no GCP primitive owner/editor "
    "role.",
    remediation="Grant the actions the role needs on the resources it needs (the AWS "
    "managed policies for EKS nodes, or a scoped policy document; predefined GCP roles).",
    enforcement="mandatory",
    check=check,
    scope="resource",
    evidence=evidence,
)
