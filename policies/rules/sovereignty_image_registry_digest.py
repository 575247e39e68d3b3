"""sovereignty-image-registry-digest: images come from in-jurisdiction registries, by digest."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Evidence, Finding, Rule
from policies.registries import (
    allowed_registries,
    declared_outside,
    registry_cause,
    scanned_images,
)
from policies.view import PlanView


def check(view: PlanView) -> Iterator[Finding]:
    factory = view.factory
    for entry, why in declared_outside(view):
        if factory is not None:
            yield view.finding(factory, f"sovereignty.allowed_registries lists {entry}, {why}: "
                               "images from it are not allowed", subject=entry, registry=entry,
                               spec_path="sovereignty.allowed_registries")
    allowed = allowed_registries(view)
    for r, image in scanned_images(view):
        problems = []
        allowed_here = image.registry_allowed(allowed)
        if not image.pinned:
            problems.append("is not pinned by digest (@sha256:...)")
        if not allowed_here:
            problems.append(f"comes from {image.registry}, not an allowed registry "
                            f"({', '.join(allowed) or 'none declared'})")
        if problems:
            yield view.finding(
                r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']}: image {image.ref} at "
                f"{image.path} {' and '.join(problems)}", image=image.ref, path=image.path,
                spec_path="sovereignty.allowed_registries",
                cause=None if allowed_here else registry_cause(view, image.ref))


def evidence(view: PlanView) -> Iterator[Evidence]:
    images: dict[str, dict[str, str]] = {}
    by_urn = {}
    for r, image in scanned_images(view):
        images.setdefault(r["urn"], {})[image.path] = image.ref
        by_urn[r["urn"]] = r
    for urn, found in images.items():
        yield view.evidence(by_urn[urn], **found)


RULE = Rule(
    name="sovereignty-image-registry-digest",
    domain="sovereignty",
    severity="high",
    description="With a declared jurisdiction, every container image a Kubernetes object or "
    "helm release of the factory runs comes from the factory's own in-jurisdiction registry or "
    "one listed in sovereignty.allowed_registries (which must itself lie in the jurisdiction), "
    "and is pinned by sha256 digest.",
    remediation="Mirror the image into the factory's registry (or an allowed one) and "
    "reference it as registry/repository@sha256:<digest>; in helm values set the chart's "
    "image digest field.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
