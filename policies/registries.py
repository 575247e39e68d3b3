"""Registries a factory may pull from, and the images its Kubernetes objects and charts run.

Shared by the sovereignty image rules and the checkov runner (which hands the same list to the
CKV_AIF_3 check, or none without a jurisdiction), so the plan and the rendered manifests are
judged against one list. A registry listed in sovereignty.allowed_registries is allowed only
where it lies in the jurisdiction: ECR and Artifact Registry hosts name their region; public
registries (docker.io, nvcr.io, ...) lie outside; any other host is the factory's own mirror.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from blueprints.facts import SITE_REGISTRY
from policies.images import ImageRef, images_in
from policies.kinds import HELM_TYPES
from policies.model import Cause
from policies.residency import region_allowed
from policies.view import UNKNOWN, PlanView, Resource

_SKIP_KINDS = ("ConfigMap", "Secret", "CustomResourceDefinition")
_ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com$")
_AR_HOST = re.compile(r"^([a-z0-9-]+)-docker\.pkg\.dev$")
# Container Registry hosts and where they store images (Container Registry docs: eu.gcr.io
# stores in the EU multi-region; gcr.io, us.gcr.io and asia.gcr.io outside it).
GCR_LOCATIONS = {"eu.gcr.io": "eu"}
# Public registries: served worldwide from outside any jurisdiction the catalog knows.
PUBLIC_REGISTRIES = frozenset({
    "docker.io", "registry-1.docker.io", "index.docker.io", "ghcr.io", "quay.io", "nvcr.io",
    "registry.k8s.io", "k8s.gcr.io", "gcr.io", "public.ecr.aws", "mcr.microsoft.com",
    "registry.gitlab.com", "docker.elastic.co", "cgr.dev", "helm.ngc.nvidia.com",
})


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
    countries = {s["inputs"].get("environment"): s["inputs"].get("country") for s in view.sites}
    for r in view.of_type(SITE_REGISTRY):  # Harbor on a site inside the jurisdiction
        host = r["inputs"].get("hostname")
        country = countries.get(r["inputs"].get("environment"))
        if isinstance(host, str) and host and (j is None or country in j.countries):
            out.add(host)
    return sorted(out)


def registry_place(entry: str) -> tuple[str, str | None]:
    """Where a registry (host, or host/path prefix) serves from: ('aws'|'gcp', region) when
    its host names the region, ('public', None) for a public registry serving from outside
    any jurisdiction we know, ('own', None) for any other host (a mirror the factory runs,
    taken as declared)."""
    host = entry.lower().split("/", 1)[0]
    m = _ECR_HOST.match(host)
    if m:
        return "aws", m.group(1)
    m = _AR_HOST.match(host)
    if m:
        return "gcp", m.group(1)
    if host in GCR_LOCATIONS:
        return "gcp", GCR_LOCATIONS[host]
    if host in PUBLIC_REGISTRIES or host.endswith(".gcr.io"):
        return "public", None
    return "own", None


def declared_outside(view: PlanView) -> list[tuple[str, str]]:
    """(registry, why) of the sovereignty.allowed_registries that lie outside the
    jurisdiction ([] without one)."""
    j = view.jurisdiction
    if j is None:
        return []
    out = []
    for entry in view.settings.get("allowedRegistries") or []:
        cloud, region = registry_place(entry)
        if cloud == "public":
            out.append((entry, f"a public registry serving from outside {j.name}"))
        elif region is not None and not region_allowed(j, cloud, region):
            out.append((entry, f"in {region}, outside {j.name}"))
    return out


def allowed_registries(view: PlanView) -> list[str]:
    """The factory's own in-jurisdiction registries plus those of
    sovereignty.allowed_registries that lie in the jurisdiction."""
    outside = {entry for entry, _ in declared_outside(view)}
    declared = {e for e in view.settings.get("allowedRegistries") or [] if e not in outside}
    return sorted(set(own_registries(view)) | declared)


def image_policy_registries(view: PlanView) -> list[str] | None:
    """What the image checks (the plan rule and CKV_AIF_3) allow: None without a declared
    jurisdiction (the checks do not apply), else the allowed registries (possibly none)."""
    return None if view.jurisdiction is None else allowed_registries(view)


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


def registry_cause(view: PlanView, registry: str) -> Cause | None:
    """The one setting behind images or charts pulled from a registry that is not allowed:
    the region of the environment holding it (a registry moved with its region), or the
    missing mirror (a public registry)."""
    j = view.jurisdiction
    if j is None:
        return None
    cloud, region = registry_place(registry)
    if cloud in ("aws", "gcp"):
        return view.region_cause(cloud, region) or _moved_registry_cause(view, registry)
    if cloud == "own":
        host = registry.lower().split("/", 1)[0]
        for r in view.of_type(SITE_REGISTRY):  # a site's Harbor: the site's country
            if str(r["inputs"].get("hostname", "")).lower() == host:
                return view.country_cause(str(r["inputs"].get("environment")))
        return None
    if cloud == "public":
        host = registry.lower().split("/", 1)[0]
        return Cause(setting="sovereignty.mirror", value=host,
                     problem=f"a public registry serving from outside {j.name}",
                     fix="mirror the charts and images into a registry inside "
                     f"{j.name} and name it in sovereignty.mirror (registry and image lock)")
    return None


def _moved_registry_cause(view: PlanView, registry: str) -> Cause | None:
    """A registry the blueprint names (a mirror) whose repository the factory creates in
    another region: the region it moved to is the cause."""
    host, _, path = registry.lower().partition("/")
    m = _AR_HOST.match(host)
    if m:
        project, _, rest = path.partition("/")
        repo = rest.split("/", 1)[0]
        for r in view.of_type("gcp:artifactregistry/repository:Repository"):
            own = r["inputs"].get("project") or view.provider_inputs(r).get("project")
            if own == project and r["inputs"].get("repositoryId") == repo:
                return view.region_cause("gcp", view.region(r))
        return None
    m = _ECR_HOST.match(host)
    if m:
        account = host.split(".", 1)[0]
        for env in view.aws_environments:
            if str(env["inputs"].get("accountId")) == account:
                return view.region_cause("aws", env["inputs"].get("region"))
    return None
