"""What the CKV_AIF checks share: the pod spec of a workload, and whether it uses GPUs.

Not a check (it registers none); checkov puts this folder on sys.path, so checks import it.
"""

from __future__ import annotations

from typing import Any

GPU = "nvidia.com/gpu"
# node labels that select GPU nodes (NVIDIA GPU feature discovery, GKE, EKS, ours)
GPU_NODE_LABELS = ("nvidia.com/gpu", "cloud.google.com/gke-accelerator",
                   "k8s.amazonaws.com/accelerator", "aifactory.io/gpu")
TEMPLATE_KINDS = ("Deployment", "DaemonSet", "Job", "ReplicaSet", "ReplicationController",
                  "StatefulSet")
KINDS = ("Pod", "PodTemplate", "CronJob") + TEMPLATE_KINDS


def pod_spec(conf: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The pod spec of a workload of `kind`, or None."""
    try:
        if kind == "Pod":
            spec = conf["spec"]
        elif kind == "PodTemplate":
            spec = conf["template"]["spec"]
        elif kind == "CronJob":
            spec = conf["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        else:
            spec = conf["spec"]["template"]["spec"]
    except (KeyError, TypeError):
        return None
    return spec if isinstance(spec, dict) else None


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Containers and init containers."""
    out: list[dict[str, Any]] = []
    for key in ("containers", "initContainers"):
        items = spec.get(key) or []
        if isinstance(items, list):
            out.extend(c for c in items if isinstance(c, dict))
    return out


def gpu_amount(container: dict[str, Any], which: str) -> int | None:
    """nvidia.com/gpu in the container's limits or requests (None when absent)."""
    res = container.get("resources") or {}
    block = res.get(which) if isinstance(res, dict) else None
    if not isinstance(block, dict) or GPU not in block:
        return None
    try:
        return int(str(block[GPU]))
    except ValueError:
        return None


def requests_gpus(spec: dict[str, Any]) -> bool:
    """Some container asks for nvidia.com/gpu (limits or requests)."""
    return any(gpu_amount(c, w) for c in containers(spec) for w in ("limits", "requests"))


def targets_gpu_nodes(spec: dict[str, Any]) -> bool:
    """The pod selects GPU nodes (node selector, node affinity) or tolerates the GPU taint."""
    selector = spec.get("nodeSelector") or {}
    if isinstance(selector, dict) and any(k.startswith(GPU_NODE_LABELS) for k in selector):
        return True
    terms = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
             .get("requiredDuringSchedulingIgnoredDuringExecution") or {}) \
        .get("nodeSelectorTerms") or []
    for term in terms if isinstance(terms, list) else []:
        for expr in (term or {}).get("matchExpressions") or []:
            if str((expr or {}).get("key", "")).startswith(GPU_NODE_LABELS):
                return True
    return any(isinstance(t, dict) and t.get("key") == GPU for t in spec.get("tolerations") or [])


def tolerates_gpu_taint(spec: dict[str, Any]) -> bool:
    """A toleration matches the taint nvidia.com/gpu:NoSchedule."""
    for t in spec.get("tolerations") or []:
        if not isinstance(t, dict):
            continue
        effect_ok = t.get("effect") in (None, "", "NoSchedule")
        if t.get("operator") == "Exists" and not t.get("key") and effect_ok:
            return True
        if t.get("key") == GPU and effect_ok and t.get("operator", "Equal") in ("Exists",
                                                                                 "Equal"):
            return True
    return False
