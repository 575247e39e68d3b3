"""IAM policy documents as canonical JSON: the same statements always give the same bytes.

Small pure helpers, so that every trust and permission policy of the AWS components is written
one way and tests can read them back with `json.loads`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Statement = dict[str, Any]

IRSA_AUDIENCE = "sts.amazonaws.com"
"""Audience of the web-identity tokens EKS gives service accounts (IRSA)."""


def document(statements: Sequence[Statement]) -> str:
    """A policy document holding `statements`."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(sid: str, actions: Sequence[str], resources: Sequence[str] | str,
          condition: Mapping[str, Any] | None = None) -> Statement:
    """An Allow statement."""
    statement: Statement = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
                            "Resource": resources if isinstance(resources, str)
                            else list(resources)}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def service_trust(principal: str, source_account: str | None = None) -> str:
    """Trust policy letting one AWS service principal assume a role.

    With `source_account`, only on behalf of that account (the confused-deputy guard).
    """
    statement: Statement = {"Sid": "TrustService", "Effect": "Allow",
                            "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
    if source_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return document([statement])


def trust_policy(issuer: str, provider_arn: str, service_accounts: Sequence[str]) -> str:
    """Web-identity trust for exactly these service accounts of this cluster."""
    subjects = sorted(f"system:serviceaccount:{sa}" for sa in service_accounts)
    return document([{
        "Sid": "ServiceAccountsOfTheCluster", "Effect": "Allow",
        "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{issuer}:aud": IRSA_AUDIENCE,
                                       f"{issuer}:sub": subjects}},
    }])


def assert_least_privilege(policy: str) -> None:
    """Raise ValueError if a policy allows every action on every resource.

    Called on every permission policy the components write, so a regression fails at build
    time rather than in review.
    """
    for statement in json.loads(policy)["Statement"]:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if "*" in actions and "*" in resources:
            raise ValueError(f"statement {statement.get('Sid')!r} allows '*' on '*'")
