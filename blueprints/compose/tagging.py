"""Tags (AWS) and labels (GCP, Kubernetes) put on every taggable resource."""

from __future__ import annotations

from blueprints.spec.models import Blueprint
from components.naming import label_value


def aws_tags(spec: Blueprint, **extra: str) -> dict[str, str]:
    """AWS tags: ownership, cost, classification and, with a jurisdiction, residency."""
    tags = {
        "Factory": spec.name,
        "Owner": spec.tags.owner,
        "CostCentre": spec.tags.cost_centre,
        "DataClassification": spec.tags.data_classification,
        "ManagedBy": "ai-factory",
    }
    if spec.sovereignty:
        tags["DataResidency"] = spec.sovereignty.jurisdiction
    tags.update(spec.tags.extra)
    tags.update(extra)
    return tags


def gcp_labels(spec: Blueprint, **extra: str) -> dict[str, str]:
    """GCP labels: the same facts as `aws_tags`, in label syntax (lower case, 63 characters)."""
    labels = {
        "factory": spec.name,
        "owner": spec.tags.owner,
        "cost-centre": spec.tags.cost_centre,
        "data-classification": spec.tags.data_classification,
        "managed-by": "ai-factory",
    }
    if spec.sovereignty:
        labels["data-residency"] = spec.sovereignty.jurisdiction
    labels.update(spec.tags.extra)
    labels.update(extra)
    return {label_value(k): label_value(v) for k, v in labels.items()}


def k8s_labels(spec: Blueprint, **extra: str) -> dict[str, str]:
    """Kubernetes object labels."""
    labels = {
        "app.kubernetes.io/managed-by": "ai-factory",
        "aifactory.io/factory": spec.name,
        "aifactory.io/owner": label_value(spec.tags.owner),
        "aifactory.io/data-classification": spec.tags.data_classification,
    }
    if spec.sovereignty:
        labels["aifactory.io/data-residency"] = spec.sovereignty.jurisdiction.lower()
    labels.update(extra)
    return labels
