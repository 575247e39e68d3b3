"""sovereignty-chart-image-source: helm charts of a sovereign factory come from, and pull
images from, allowed registries.

Mandatory with a declared jurisdiction: a chart that sets no image in its values runs its
upstream defaults, by tag, from registries outside the jurisdiction. The plan sees only what
the values override, so the images a chart does set are judged (registry and digest) by
sovereignty-image-registry-digest; this rule judges where the chart comes from and that it
overrides its images at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

from catalog.charts import CHART_IMAGES
from policies.images import images_in, registry_allowed
from policies.kinds import HELM_TYPES
from policies.model import Evidence, Finding, Rule
from policies.registries import allowed_registries, registry_cause
from policies.view import PlanView, dig


def chart_source(inputs: dict) -> str | None:
    """Where a chart is fetched from: its OCI reference or repository URL, without scheme."""
    chart = str(inputs.get("chart") or "")
    if chart.startswith("oci://"):
        return chart.removeprefix("oci://")
    repo = dig(inputs, "repositoryOpts", "repo")
    if isinstance(repo, str) and repo:
        parsed = urlparse(repo)
        return (parsed.netloc + parsed.path).rstrip("/") if parsed.netloc else repo
    return None


def crds_only(inputs: dict) -> bool:
    """The chart runs no image at all (CRDs only, e.g. karpenter-crd): per the chart
    catalogue, which lists every image each pinned chart runs."""
    name = str(inputs.get("chart") or "").rstrip("/").rsplit("/", 1)[-1]
    return name in CHART_IMAGES and not CHART_IMAGES[name]


def check(view: PlanView) -> Iterator[Finding]:
    allowed = allowed_registries(view)
    for r in view.of_type(*HELM_TYPES):
        problems = []
        source = chart_source(r["inputs"])
        if source and not registry_allowed(source, allowed):
            problems.append(f"is fetched from {source}")
        if not list(images_in(r["inputs"].get("values") or {})) \
                and not crds_only(r["inputs"]):
            problems.append("sets no image in its values, so it runs the chart's default "
                            "images from their upstream registries, by tag")
        if problems:
            yield view.finding(r, f"chart {r['name']} ({r['inputs'].get('chart')}) "
                               f"{' and '.join(problems)}", source=source,
                               spec_path="sovereignty.mirror",
                               cause=registry_cause(view, source)
                               if source and not registry_allowed(source, allowed) else None)


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.of_type(*HELM_TYPES):
        yield view.evidence(r, "chart", "version", source=chart_source(r["inputs"]),
                            images=[i.ref for i in images_in(r["inputs"].get("values") or {})])


RULE = Rule(
    name="sovereignty-chart-image-source",
    domain="sovereignty",
    severity="high",
    description="With a declared jurisdiction, helm charts are fetched from an allowed "
    "registry and override their images, so no upstream registry outside the jurisdiction "
    "serves the factory's software.",
    remediation="Declare sovereignty.mirror (registry: the in-jurisdiction registry, images: "
    "the lock of every image the charts pull, by digest): the platform then fetches each chart "
    "from the mirror and rewrites its images to it. `aifactory mirror lock BLUEPRINT` prints "
    "the images at their chart's tags and the crane commands to mirror and pin them.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
