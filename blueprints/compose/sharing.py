"""Blueprint -> GPU sharing the GPU operator applies (EKS and site pools; GKE shares itself)."""

from __future__ import annotations

from blueprints.compose.facts import pool_sharing
from blueprints.spec.models import Blueprint, GpuPool
from components.platform.gpu_sharing import PoolSharing


def operator_sharing(spec: Blueprint, name: str, pool: GpuPool) -> PoolSharing | None:
    """How the cluster's GPU operator shares the pool's GPUs (None: unshared, or on GKE)."""
    if pool.gpu_sharing is None or spec.environment_of(pool).kind == "gcp":
        return None
    _, units, strategy = pool_sharing(spec, name, pool)
    if strategy == "mig":
        return PoolSharing(pool=name, strategy="mig", mig_profile=pool.gpu_sharing.profile,
                           per_gpu=units)
    return PoolSharing(pool=name, strategy="time-slicing", per_gpu=units)
