"""A Kubernetes object of a custom kind whose fields are not under `spec`.

`kubernetes.apiextensions.CustomResource` in the Python SDK takes only `metadata` and `spec`;
some kinds keep their fields at the top level (Kueue's WorkloadPriorityClass has `value` and
`description`). The Kubernetes provider handles any `kubernetes:<group>/<version>:<Kind>` type
as a custom resource and sends every given field, as the TypeScript SDK's CustomResource does
with its other fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi


class KubernetesObject(pulumi.CustomResource):
    """A custom resource with arbitrary top-level fields."""

    def __init__(self, resource_name: str, api_version: str, kind: str,
                 metadata: Mapping[str, Any], fields: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        reserved = {"apiVersion", "kind", "metadata"} & set(fields)
        if reserved:
            raise ValueError(f"fields {sorted(reserved)} are set from the arguments of the same "
                             "name: leave them out of `fields`")
        props = {"apiVersion": api_version, "kind": kind, "metadata": dict(metadata),
                 **dict(fields)}
        super().__init__(f"kubernetes:{api_version}:{kind}", resource_name, props, opts)
