"""security-iam-no-wildcard: no IAM grant of every action on every resource."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aifactory.policies.kinds import AWS_IAM_POLICIES
from aifactory.policies.model import Finding, Rule
from aifactory.policies.view import UNKNOWN, PlanView

ADMIN_POLICIES = ("arn:aws:iam::aws:policy/AdministratorAccess",
                  "arn:aws:iam::aws:policy/PowerUserAccess")
ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
               "aws:iam/userPolicyAttachment:UserPolicyAttachment",
               "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
               "aws:iam/policyAttachment:PolicyAttachment")
GCP_IAM_PREFIXES = ("gcp:projects/iAM", "gcp:organizations/iAM", "gcp:folder/iAM")
GCP_PRIMITIVE = ("roles/owner", "roles/editor")


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def wildcard_statements(document: Any) -> list[int]:
    """Indexes of Allow statements granting Action '*' on Resource '*'."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    out = []
    for n, st in enumerate(_as_list(document.get("Statement", []))):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        actions = _as_list(st.get("Action", []))
        resources = _as_list(st.get("Resource", []))
        if any(a in ("*", "*:*") for a in actions) and "*" in resources:
            out.append(n)
    return out


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.of_type(*AWS_IAM_POLICIES):
        doc = r["inputs"].get("policy")
        if doc in (None, UNKNOWN):
            continue
        for n in wildcard_statements(doc):
            yield view.finding(r, f"IAM policy {r['name']} statement {n} allows Action '*' on "
                               "Resource '*'", statement=n)
    for r in view.of_type(*ATTACHMENTS):
        arn = r["inputs"].get("policyArn")
        if arn in ADMIN_POLICIES:
            yield view.finding(r, f"{r['name']} attaches {arn.rsplit('/', 1)[-1]}, which allows "
                               "every action", policyArn=arn)
    for r in view.resources:
        if r["type"].startswith(GCP_IAM_PREFIXES) and r["inputs"].get("role") in GCP_PRIMITIVE:
            yield view.finding(r, f"{r['name']} grants the primitive role "
                               f"{r['inputs']['role']}, which allows nearly every action",
                               role=r["inputs"]["role"])


RULE = Rule(
    name="security-iam-no-wildcard",
    domain="security",
    severity="critical",
    description="No IAM policy allows every action on every resource: no Allow statement "
    "with Action '*' and Resource '*', no AdministratorAccess/PowerUserAccess attachment, no "
    "GCP primitive owner/editor role.",
    remediation="Grant the actions the role needs on the resources it needs (the AWS "
    "managed policies for EKS nodes, or a scoped policy document; predefined GCP roles).",
    enforcement="mandatory",
    check=check,
    scope="resource",
)
