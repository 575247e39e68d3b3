"""Resource names: small pure helpers, the one place names are made.

Pulumi logical names must be unique within a stack; physical names must fit each cloud's rules.
"""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-z0-9-]+")


def _clean(part: str) -> str:
    return _INVALID.sub("-", part.lower()).strip("-")


def child(*parts: str) -> str:
    """Logical name of a child resource: the parts joined by '-', e.g. child('prod', 'vpc')."""
    return "-".join(_clean(p) for p in parts if p)


def fit(name: str, limit: int) -> str:
    """`name` cut to `limit` characters; a cut name ends in a short hash so it stays unique."""
    name = _clean(name)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{digest}"


def bucket_name(factory: str, zone: str, scope: str) -> str:
    """Globally unique object-storage bucket name (S3 and GCS: 3-63 characters)."""
    return fit(child(factory, zone, scope), 63)


def cluster_name(factory: str, environment: str) -> str:
    """Kubernetes cluster name (EKS: 100 characters, GKE: 40)."""
    return fit(child(factory, environment), 40)


def iam_role_name(factory: str, environment: str, purpose: str) -> str:
    """IAM role name (AWS: 64 characters)."""
    return fit(child(factory, environment, purpose), 64)


def gcp_service_account_id(factory: str, purpose: str) -> str:
    """GCP service account id (6-30 characters, starts with a letter)."""
    return fit(child(factory, purpose), 30)


def label_value(value: str) -> str:
    """A value valid as a GCP or Kubernetes label value (63 characters, [a-z0-9_-])."""
    return fit(value.replace("_", "-"), 63)


def catalog_namespace(factory: str, namespace: str) -> str:
    """An Iceberg namespace's name in a catalog shared by the account or project (a Glue
    database, a BigLake namespace): the factory's name first, '_' for '-', 100 characters."""
    name = f"{factory}_{namespace}".lower().replace("-", "_")
    if len(name) <= 100:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[:93].rstrip('_')}_{digest}"
