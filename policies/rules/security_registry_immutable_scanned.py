"""security-registry-immutable-scanned: registry tags cannot move and images are scanned."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Finding, Rule
from policies.view import PlanView, dig, examine, truthy

ECR_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
HARBOR_PROJECT = "harbor:index/project:Project"
HARBOR_REGISTRY = "harbor:index/registry:Registry"
HARBOR_IMMUTABLE = "harbor:index/immutableTagRule:ImmutableTagRule"


def _harbor(view: PlanView) -> Iterator[Finding]:
    """Harbor projects on a site: each scans what it holds; each that is not a proxy cache
    (those follow their upstream's tags) has an enabled immutable rule over every repository
    and tag (** / **)."""
    rules = view.of_type(HARBOR_IMMUTABLE)
    for r in view.of_type(HARBOR_PROJECT):
        i = r["inputs"]
        label = f"Harbor project {i.get('name', r['name'])}"
        if not truthy(i.get("vulnerabilityScanning", True)):
            yield view.finding(r, f"{label} does not scan images on push "
                               "(vulnerabilityScanning false)", spec_path="registry.scan_on_push")
        proxy = any(view.by_urn.get(d, {}).get("type") == HARBOR_REGISTRY
                    for d in r.get("dependencies") or [])
        if proxy:
            continue
        covered = [x for x in rules if r["urn"] in (x.get("dependencies") or [])
                   and x["inputs"].get("repoMatching") == "**"
                   and x["inputs"].get("tagMatching") == "**"
                   and not truthy(x["inputs"].get("disabled", False))]
        if not covered:
            yield view.finding(r, f"{label} lets tags move: no enabled immutable tag rule "
                               "covers every repository and tag (** / **)",
                               spec_path="registry.immutable_tags")


def check(view: PlanView) -> Iterator[Finding]:
    enhanced = any(str(r["inputs"].get("scanType", "")).upper() == "ENHANCED"
                   for r in view.of_type(ECR_SCANNING))
    for r in view.of_type("aws:ecr/repository:Repository"):
        i = r["inputs"]
        mutability = i.get("imageTagMutability", "MUTABLE")
        if mutability not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "[unknown]"):
            yield view.finding(r, f"ECR repository {r['name']} lets tags move "
                               f"(imageTagMutability {mutability})",
                               spec_path="registry.immutable_tags")
        if not enhanced and not truthy(dig(i, "imageScanningConfiguration", "scanOnPush",
                                           default=False)):
            yield view.finding(r, f"ECR repository {r['name']} does not scan images on push",
                               spec_path="registry.scan_on_push")
    for r in view.of_type("gcp:artifactregistry/repository:Repository"):
        i = r["inputs"]
        if str(i.get("format", "DOCKER")).upper() != "DOCKER":
            continue
        if not truthy(dig(i, "dockerConfig", "immutableTags", default=False)):
            yield view.finding(r, f"Artifact Registry repository {r['name']} lets tags move "
                               "(dockerConfig.immutableTags is not true)",
                               spec_path="registry.immutable_tags")
        if str(dig(i, "vulnerabilityScanningConfig", "enablementConfig", default="")).upper() \
                == "DISABLED":
            yield view.finding(r, f"Artifact Registry repository {r['name']} disables "
                               "vulnerability scanning", spec_path="registry.scan_on_push")
    yield from _harbor(view)


evidence = examine(("aws:ecr/repository:Repository", "gcp:artifactregistry/repository:Repository",
                    HARBOR_PROJECT),
                   "imageTagMutability", "imageScanningConfiguration.scanOnPush", "format",
                   "dockerConfig.immutableTags", "vulnerabilityScanningConfig.enablementConfig",
                   "vulnerabilityScanning")


RULE = Rule(
    name="security-registry-immutable-scanned",
    domain="security",
    severity="medium",
    description="Container repositories keep tags immutable (a tag always names the image "
    "that was reviewed) and scan every pushed image for vulnerabilities.",
    remediation="Keep registry.immutable_tags and registry.scan_on_push true (ECR: "
    "image_tag_mutability IMMUTABLE, image_scanning_configuration.scan_on_push; Artifact "
    "Registry: docker_config.immutable_tags, scanning not DISABLED; Harbor: "
    "vulnerability_scanning on each project, an immutable tag rule ** / ** on each project "
    "that is not a proxy cache).",
    enforcement="mandatory",
    check=check,
    evidence=evidence,
)
