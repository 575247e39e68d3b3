"""sovereignty-key-rotation: customer-managed keys rotate automatically, at least yearly."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Evidence, Finding, Rule
from policies.view import UNKNOWN, PlanView, truthy

MAX_ROTATION_DAYS = 365


def _seconds(period: str) -> float | None:
    try:
        return float(period.removesuffix("s"))
    except ValueError:
        return None


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.of_type("aws:kms/key:Key"):
        i = r["inputs"]
        spec = str(i.get("customerMasterKeySpec") or i.get("keySpec") or "SYMMETRIC_DEFAULT")
        if spec != "SYMMETRIC_DEFAULT":
            continue  # AWS rotates only symmetric keys automatically
        if not truthy(i.get("enableKeyRotation", False)):
            yield view.finding(r, f"KMS key {r['name']} does not rotate (enableKeyRotation is "
                               "not true)")
    for r in view.of_type("gcp:kms/cryptoKey:CryptoKey"):
        period = r["inputs"].get("rotationPeriod")
        if period == UNKNOWN:
            continue
        seconds = _seconds(period) if isinstance(period, str) else None
        if seconds is None:
            yield view.finding(r, f"crypto key {r['name']} has no rotationPeriod")
        elif seconds > MAX_ROTATION_DAYS * 86400:
            yield view.finding(r, f"crypto key {r['name']} rotates every {seconds / 86400:g} "
                               f"days, longer than {MAX_ROTATION_DAYS}", rotationPeriod=period)


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.of_type("aws:kms/key:Key"):
        yield view.evidence(r, "enableKeyRotation", "customerMasterKeySpec", "keySpec")
    for r in view.of_type("gcp:kms/cryptoKey:CryptoKey"):
        yield view.evidence(r, "rotationPeriod")


RULE = Rule(
    name="sovereignty-key-rotation",
    domain="sovereignty",
    severity="medium",
    description="With a declared jurisdiction, customer-managed keys rotate automatically: "
    "AWS KMS keys with enableKeyRotation, Cloud KMS keys with a rotationPeriod of at most a "
    "year.",
    remediation="Set enable_key_rotation=True on aws.kms.Key, or rotation_period (e.g. "
    "'7776000s' for 90 days) on gcp.kms.CryptoKey.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
