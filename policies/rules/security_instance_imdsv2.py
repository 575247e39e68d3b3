"""security-instance-imdsv2: instances require IMDSv2 session tokens."""

from __future__ import annotations

from collections.abc import Iterator

from policies.kinds import KARPENTER_NODE_CLASS
from policies.model import Finding, Rule
from policies.view import PlanView, dig, examine

TYPES = ("aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance")


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.of_type(KARPENTER_NODE_CLASS):
        # Karpenter's default (no metadataOptions) is httpTokens: required (its CRD's default)
        tokens = dig(r["inputs"], "spec", "metadataOptions", "httpTokens", default="required")
        if tokens != "required":
            yield view.finding(r, f"EC2NodeClass {r['name']} lets the nodes Karpenter launches "
                               f"use IMDSv1 (spec.metadataOptions.httpTokens is {tokens}, not "
                               "required)", httpTokens=tokens)
    for r in view.of_type(*TYPES):
        tokens = dig(r["inputs"], "metadataOptions", "httpTokens")
        if tokens != "required":
            yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']} allows IMDSv1 "
                               f"(metadataOptions.httpTokens is {tokens or 'unset'}, not "
                               "required)", httpTokens=tokens)


evidence = examine((*TYPES, KARPENTER_NODE_CLASS), "metadataOptions.httpTokens",
                   "spec.metadataOptions.httpTokens")


RULE = Rule(
    name="security-instance-imdsv2",
    domain="security",
    severity="high",
    description="EC2 instances, launch templates and Karpenter's EC2NodeClasses require IMDSv2 "
    "(session-token) access to the instance metadata service, which blocks SSRF credential "
    "theft.",
    remediation="Set metadata_options.http_tokens='required' (and http_put_response_hop_limit "
    "2 for pods that need the node role) on the launch template.",
    enforcement="mandatory",
    check=check,
    scope="resource",
    evidence=evidence,
)
