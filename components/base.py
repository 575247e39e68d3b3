"""What every component of ours shares: child options and protection of data-bearing children."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi


class FactoryComponent(pulumi.ComponentResource):
    """A ComponentResource whose children are parented to it and inherit its providers."""

    def __init__(self, type_token: str, name: str, props: Mapping[str, Any] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token, name, dict(props or {}), opts)

    def child_opts(self, *, protect: bool = False,
                   depends_on: Sequence[pulumi.Resource] | None = None,
                   provider: pulumi.ProviderResource | None = None,
                   ignore_changes: list[str] | None = None) -> pulumi.ResourceOptions:
        """Options for a child: parented to this component; `protect` for data-bearing ones."""
        return pulumi.ResourceOptions(
            parent=self, protect=protect, depends_on=list(depends_on or []),
            provider=provider, ignore_changes=ignore_changes,
        )

    def data_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a data-bearing child (bucket, registry, key, database): protected."""
        return self.child_opts(protect=True, **kwargs)
