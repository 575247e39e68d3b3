"""security-instance-imdsv2: instances require IMDSv2 session tokens."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Finding, Rule
from policies.view import PlanView, dig, examine

TYPES = ("aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance")


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.of_type(*TYPES):
        tokens = dig(r["inputs"], "metadataOptions", "httpTokens")
        if tokens != "required":
            yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']} allows IMDSv1 "
                               f"(metadataOptions.httpTokens is {tokens or 'unset'}, not "
                               "required)", httpTokens=tokens)


evidence = examine(TYPES, "metadataOptions.httpTokens")


RULE = Rule(
    name="security-instance-imdsv2",
    domain="security",
    severity="high",
    description="EC2 instances and launch templates require IMDSv2 (session-token) access to "
    "the instance metadata service, which blocks SSRF credential theft.",
    remediation="Set metadata_options.http_tokens='required' (and http_put_response_hop_limit "
    "2 for pods that need the node role) on the launch template.",
    enforcement="mandatory",
    check=check,
    scope="resource",
    evidence=evidence,
)
