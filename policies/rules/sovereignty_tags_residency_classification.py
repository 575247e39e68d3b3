"""sovereignty-tags-residency-classification: tags say where data lives and what it is."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.kinds import tag_field
from policies.model import Evidence, Finding, Rule
from policies.view import UNKNOWN, PlanView, Resource, decode, dig

REQUIRED = {
    "aws": ("DataResidency", "DataClassification"),
    "gcp": ("data-residency", "data-classification"),
}


def _tags(view: PlanView, r: Resource, field: str) -> Mapping[str, Any] | None:
    """Tags/labels in effect: the provider's defaults overlaid by the resource's own."""
    cloud = r["type"].split(":", 1)[0]
    provider = view.provider_inputs(r)
    if cloud == "aws":
        defaults = dig(decode(provider.get("defaultTags")), "tags", default={}) or {}
    else:
        defaults = decode(provider.get("defaultLabels")) or {}
    own = decode(dig(r["inputs"], *field.split(".")))
    if own == UNKNOWN:
        return None
    return {**defaults, **(own or {})}


def check(view: PlanView) -> Iterator[Finding]:
    j = view.jurisdiction
    assert j is not None
    for r in view.resources:
        cloud = r["type"].split(":", 1)[0]
        if cloud not in REQUIRED or not r.get("custom", True):
            continue
        field = tag_field(r["type"]) or ("tags" if "tags" in r["inputs"] else
                                         "labels" if "labels" in r["inputs"] else None)
        if field is None:
            continue
        tags = _tags(view, r, field)
        if tags is None:
            continue
        residency_key, class_key = REQUIRED[cloud]
        missing = [k for k in (residency_key, class_key) if not tags.get(k)]
        if missing:
            yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']} lacks "
                               f"{' and '.join(missing)} in its {field} (or the provider's "
                               "defaults)", missing=missing)
        elif str(tags[residency_key]).lower() != j.name.lower():
            yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']} says "
                               f"{residency_key}={tags[residency_key]}, but the factory's "
                               f"jurisdiction is {j.name}", residency=tags[residency_key])


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.resources:
        cloud = r["type"].split(":", 1)[0]
        if cloud not in REQUIRED or not r.get("custom", True):
            continue
        field = tag_field(r["type"]) or ("tags" if "tags" in r["inputs"] else
                                         "labels" if "labels" in r["inputs"] else None)
        tags = _tags(view, r, field) if field else None
        if tags is not None:
            yield view.evidence(r, **{f"{field}.{k}": tags.get(k) for k in REQUIRED[cloud]})


RULE = Rule(
    name="sovereignty-tags-residency-classification",
    domain="sovereignty",
    severity="medium",
    description="With a declared jurisdiction, every taggable AWS resource carries "
    "DataResidency (the jurisdiction) and DataClassification tags, and every labelable GCP "
    "resource data-residency and data-classification labels, directly or through the "
    "provider's default_tags / default_labels.",
    remediation="Set the tags on the environment's provider (aws default_tags, gcp "
    "default_labels; blueprints.compose.tagging builds them) so every resource inherits them.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
