"""GPU sharing through the NVIDIA GPU operator (EKS and own sites): MIG and time-slicing.

GKE shares GPUs itself (node pool `gpu_sharing_config` / `gpu_partition_size`); everywhere else
the GPU operator does, driven by node labels the pool puts on its nodes:

- MIG: the MIG manager cuts every GPU of a node labelled `nvidia.com/mig.config=<config>` as
  that config of our mig-parted ConfigMap says (`all-<profile>`: as many instances of the
  profile as fit a GPU). The device plugin runs the `mixed` strategy, so each instance is an
  extended resource of its own, `nvidia.com/mig-<profile>` (GPU operator docs, "GPU Operator
  with MIG").
- Time-slicing: the device plugin reads the config named by the node label
  `nvidia.com/device-plugin.config=<pool>` from our ConfigMap and advertises each GPU as
  `replicas` units of `nvidia.com/gpu` (GPU operator docs, "Time-Slicing GPUs in Kubernetes").

Pure values and helpers: the GPU operator component builds its ConfigMaps and chart values from
them, the compositions put the labels on the pools' nodes, and Kueue counts the resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from blueprints.errors import ComponentArgsError

GPU_RESOURCE = "nvidia.com/gpu"
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
"""Node label the MIG manager reads: the mig-parted config to apply to the node's GPUs."""
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
"""Node label the device plugin reads: the config (a key of its ConfigMap) to run with."""
MIG_DISABLED = "all-disabled"
DEVICE_PLUGIN_DEFAULT = "default"
MIG_CONFIG_MAP = "mig-parted-config"
DEVICE_PLUGIN_CONFIG_MAP = "device-plugin-config"


@dataclass(frozen=True)
class PoolSharing:
    """How one pool's GPUs are shared by the GPU operator."""

    pool: str
    """Pool name (the aifactory.io/pool label value)."""
    strategy: Literal["mig", "time-slicing"]
    """mig or time-slicing."""
    mig_profile: str | None = None
    """MIG: the profile every GPU is cut into, e.g. 1g.10gb."""
    per_gpu: int = 1
    """Units each GPU exposes: MIG instances of the profile, or time-slicing replicas."""

    @property
    def resource(self) -> str:
        """The extended resource jobs request on the pool's nodes."""
        if self.strategy == "mig":
            return f"nvidia.com/mig-{self.mig_profile}"
        return GPU_RESOURCE

    @property
    def mig_config(self) -> str:
        """Name of the mig-parted config the pool's nodes are labelled with."""
        return f"all-{self.mig_profile}"

    def node_labels(self) -> dict[str, str]:
        """Labels the pool's nodes carry so the operator shares their GPUs."""
        if self.strategy == "mig":
            return {MIG_CONFIG_LABEL: self.mig_config}
        return {DEVICE_PLUGIN_CONFIG_LABEL: self.pool}


def validate_sharing(field_name: str, sharing: Sequence[PoolSharing]) -> None:
    """Raise ComponentArgsError for a sharing entry the operator cannot apply."""
    seen: set[str] = set()
    for s in sharing:
        if s.pool in seen:
            raise ComponentArgsError(f"`{field_name}` names pool {s.pool!r} twice: give each "
                                     "pool once")
        seen.add(s.pool)
        if s.strategy == "mig" and not s.mig_profile:
            raise ComponentArgsError(f"`{field_name}`: pool {s.pool!r} shares by MIG without a "
                                     "mig_profile: give the profile, e.g. 1g.10gb")
        if s.strategy == "time-slicing" and not 2 <= s.per_gpu <= 48:
            raise ComponentArgsError(f"`{field_name}`: pool {s.pool!r} time-slices each GPU "
                                     f"into {s.per_gpu} replicas: give 2 to 48")
        if s.per_gpu < 1:
            raise ComponentArgsError(f"`{field_name}`: pool {s.pool!r} has per_gpu "
                                     f"{s.per_gpu}: give at least 1")


def mig_strategy(sharing: Sequence[PoolSharing]) -> str:
    """The cluster's MIG strategy: mixed when a pool uses MIG (one resource per profile)."""
    return "mixed" if any(s.strategy == "mig" for s in sharing) else "none"


def mig_parted_config(sharing: Sequence[PoolSharing]) -> str:
    """The MIG manager's config.yaml: all-disabled, and one config per MIG profile in use."""
    configs: dict[str, Any] = {MIG_DISABLED: [{"devices": "all", "mig-enabled": False}]}
    for s in sorted((s for s in sharing if s.strategy == "mig"), key=lambda s: s.mig_config):
        configs[s.mig_config] = [{"devices": "all", "mig-enabled": True,
                                  "mig-devices": {s.mig_profile: s.per_gpu}}]
    return yaml.safe_dump({"version": "v1", "mig-configs": configs}, sort_keys=False)


def device_plugin_configs(sharing: Sequence[PoolSharing]) -> dict[str, str]:
    """The device plugin's ConfigMap data: a default config and one per time-sliced pool."""
    flags = {"migStrategy": mig_strategy(sharing)}
    data = {DEVICE_PLUGIN_DEFAULT: yaml.safe_dump({"version": "v1", "flags": flags},
                                                  sort_keys=False)}
    for s in sorted((s for s in sharing if s.strategy == "time-slicing"), key=lambda s: s.pool):
        data[s.pool] = yaml.safe_dump({
            "version": "v1", "flags": flags,
            "sharing": {"timeSlicing": {
                # Keep the resource name, so jobs and Kueue's quotas ask for nvidia.com/gpu;
                # a job may not ask for more than one replica (it would not get more compute).
                "renameByDefault": False, "failRequestsGreaterThanOne": True,
                "resources": [{"name": GPU_RESOURCE, "replicas": s.per_gpu}]}},
        }, sort_keys=False)
    return data
