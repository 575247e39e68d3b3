"""capacity-volume-class-exists: every volume claim the platform makes names a StorageClass that
exists in its cluster.

A PersistentVolumeClaim whose class does not exist never binds, and its pod never starts
(Prometheus waits forever); one that names no class takes the cluster's default class, and a
cluster may have none (EKS creates no default class; a site's cluster may not either).

Claims are read wherever the plan holds them: PersistentVolumeClaim objects, the
volumeClaimTemplates of StatefulSets and of any other object, and the `volumeClaimTemplate(s)`
in helm chart values (kube-prometheus-stack's Prometheus storage). Classes are the StorageClass
objects of the same cluster, and the existing classes a site's ClusterStorage declares.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from blueprints.facts import CLUSTER_STORAGE, TRAINING_VOLUMES
from policies.model import Evidence, Finding, Rule
from policies.view import UNKNOWN, PlanView, Resource, dig

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def _claims(value: Any, path: str = "") -> Iterator[tuple[str, str | None]]:
    """(path, storageClassName or None) of every volume claim template in nested inputs."""
    if isinstance(value, Mapping):
        for key, v in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if key == "volumeClaimTemplate" and isinstance(v, Mapping):
                yield sub, dig(v, "spec", "storageClassName")
            elif key == "volumeClaimTemplates" and isinstance(v, list):
                for i, t in enumerate(v):
                    if isinstance(t, Mapping):
                        yield f"{sub}[{i}]", dig(t, "spec", "storageClassName")
            else:
                yield from _claims(v, sub)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _claims(v, f"{path}[{i}]")


def classes_by_cluster(view: PlanView) -> dict[str, dict[str, bool]]:
    """Per cluster: StorageClass name -> whether it is the default class."""
    out: dict[str, dict[str, bool]] = defaultdict(dict)
    for r in view.of_type(STORAGE_CLASS):
        name = dig(r["inputs"], "metadata", "name")
        if isinstance(name, str) and name:
            default = dig(r["inputs"], "metadata", "annotations", DEFAULT_ANNOTATION)
            out[view.cluster_name(r)][name] = str(default).lower() == "true"
    for r in view.of_type(CLUSTER_STORAGE, TRAINING_VOLUMES):
        for name in r["inputs"].get("existingClasses") or []:
            out[view.cluster_name(r)].setdefault(str(name), False)
    return out


def claims(view: PlanView) -> Iterator[tuple[Resource, str, str | None]]:
    """(resource, where, class or None) of every claim in the plan."""
    for r in view.resources:
        if not r["type"].startswith("kubernetes:"):
            continue
        if r["type"] == PVC:
            yield r, "spec.storageClassName", dig(r["inputs"], "spec", "storageClassName")
            continue
        for path, cls in _claims(r["inputs"]):
            yield r, path, cls


def check(view: PlanView) -> Iterator[Finding]:
    classes = classes_by_cluster(view)
    for r, path, cls in claims(view):
        if cls == UNKNOWN:
            continue
        cluster = view.cluster_name(r)
        known = classes.get(cluster, {})
        listing = ", ".join(sorted(known)) or "none"
        if cls:
            if cls in known:
                continue
            message = (f"{r['name']} claims a volume ({path}) of StorageClass {cls!r}, which "
                       f"does not exist in cluster {cluster} (classes there: {listing}): the "
                       "claim would never bind")
        else:
            if any(known.values()):
                continue
            message = (f"{r['name']} claims a volume ({path}) without a StorageClass, and "
                       f"cluster {cluster} has no default class the plan knows of (classes "
                       f"there: {listing}): the claim would never bind")
        yield view.finding(r, message, subject=f"{cluster}/{r['name']}",
                           spec_path=f"environments.{cluster}", cluster=cluster, claim=path,
                           storageClass=cls, classes=sorted(known))


def evidence(view: PlanView) -> Iterator[Evidence]:
    classes = classes_by_cluster(view)
    for r, path, cls in claims(view):
        cluster = view.cluster_name(r)
        yield Evidence(urn=r["urn"], subject=f"{cluster}/{r['name']}", inputs={
            "claim": path, "storageClassName": cls,
            "clusterClasses": sorted(classes.get(cluster, {})),
            "defaultClass": sorted(n for n, d in classes.get(cluster, {}).items() if d)})


RULE = Rule(
    name="capacity-volume-class-exists",
    domain="capacity",
    severity="high",
    description="Every PersistentVolumeClaim and volume claim template the platform creates "
    "(objects and chart values) names a StorageClass that exists in its cluster, or the "
    "cluster has a default class.",
    remediation="On a site, name the cluster's existing class in environments.<site>.cluster."
    "storage_class; on EKS and GKE the platform creates its default class: keep the claims on "
    "it.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: any(True for _ in claims(view)),
    evidence=evidence,
)
