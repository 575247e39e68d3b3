"""Registries a factory may pull from, and the images its Kubernetes objects and charts run.

Shared by the sovereignty image rule and the checkov runner (which hands the same list to the
CKV_AIF_3 check), so the plan and the rendered manifests are judged against one list.
"""

from __future__ import annotations

from collections.abc import Iterator

from aifactory.policies.images import ImageRef, images_in
from aifactory.policies.kinds import HELM_TYPES
from aifactory.policies.residency import region_allowed
from aifactory.policies.view import UNKNOWN, PlanView, Resource

_SKIP_KINDS = ("ConfigMap", "Secret", "CustomResourceDefinition")


def own_registries(view: PlanView) -> list[str]:
    """Registry hosts (or host/path prefixes) of the factory's own ECR / Artifact Registry
    repositories that lie inside the jurisdiction (all of them without one)."""
    j = view.jurisdiction
    out: set[str] = set()
    for r in view.of_type("aws:ecr/repository:Repository"):
        env = view.environment(r)
        account = env["inputs"].get("accountId") if env else None
        if not account:
            ids = view.provider_inputs(r).get("allowedAccountIds") or []
            account = ids[0] if ids else None
        region = view.region(r)
        if account and region and (j is None or region_allowed(j, "aws", region)):
            out.add(f"{account}.dkr.ecr.{region}.amazonaws.com")
    for r in view.of_type("gcp:artifactregistry/repository:Repository"):
        region = view.region(r)
        project = r["inputs"].get("project") or view.provider_inputs(r).get("project")
        repo = r["inputs"].get("repositoryId")
        if region and project and repo and repo != UNKNOWN and \
                (j is None or region_allowed(j, "gcp", region)):
            out.add(f"{region}-docker.pkg.dev/{project}/{repo}")
    return sorted(out)


def allowed_registries(view: PlanView) -> list[str]:
    """The factory's own in-jurisdiction registries plus sovereignty.allowed_registries."""
    return sorted(set(own_registries(view)) | set(view.settings.get("allowedRegistries") or []))


def scanned_images(view: PlanView) -> Iterator[tuple[Resource, ImageRef]]:
    """Every image of every Kubernetes object and helm release in the plan."""
    for r in view.resources:
        if not r["type"].startswith("kubernetes:"):
            continue
        inputs = r["inputs"]
        if r["type"] in HELM_TYPES:
            body = inputs.get("values") or {}
        elif inputs.get("kind") in _SKIP_KINDS:
            continue
        else:
            body = {k: v for k, v in inputs.items() if k not in ("metadata", "apiVersion", "kind")}
        for image in images_in(body):
            yield r, image
