"""GCP names for the catalog's GPUs and machine series: accelerator types, disks, MIG support.

GKE node pools name their GPUs with Compute Engine accelerator types (`gcloud compute
accelerator-types list`). The A3 Mega series carries its own H100 type; everything else maps
from the GPU model.
"""

from __future__ import annotations

import catalog
from catalog.mig import MIG_PROFILES

# Compute Engine accelerator type per catalog GPU model (GKE "Run GPUs in Standard node pools").
ACCELERATOR_TYPES: dict[str, str] = {
    "h100-sxm5": "nvidia-h100-80gb",
    "h200-sxm": "nvidia-h200-141gb",
    "b200": "nvidia-b200",
    "a100-sxm4-40gb": "nvidia-tesla-a100",
    "a100-sxm4-80gb": "nvidia-a100-80gb",
    "l4": "nvidia-l4",
    "t4": "nvidia-tesla-t4",
}

# Machine series whose GPUs carry a type of their own, whatever the GPU model.
SERIES_ACCELERATOR_TYPES: dict[str, str] = {"a3-megagpu": "nvidia-h100-mega-80gb"}

# Series that boot only from Hyperdisk (A3 Mega/Ultra, A4); the others take Persistent Disk.
HYPERDISK_ONLY_SERIES = ("a3-megagpu", "a3-ultragpu", "a4-highgpu")

# GPUs that can be split into MIG partitions, with the GPU instance profiles a node pool can ask
# for in `gpu_partition_size`: the catalog's MIG profiles (catalog.mig, from NVIDIA's MIG user
# guide; the same names as `nvidia-smi mig -lgip`).
MIG_PARTITIONS: dict[str, frozenset[str]] = {
    gpu: frozenset(profiles) for gpu, profiles in MIG_PROFILES.items()
}


def _series(machine_type: str) -> str:
    return "-".join(machine_type.split("-")[:2])


def accelerator_type(machine_type: str) -> str:
    """Accelerator type of a GPU machine type, e.g. a3-highgpu-8g -> nvidia-h100-80gb."""
    series = _series(machine_type)
    if series in SERIES_ACCELERATOR_TYPES:
        return SERIES_ACCELERATOR_TYPES[series]
    gpu = catalog.instance(machine_type).gpu
    try:
        return ACCELERATOR_TYPES[gpu]
    except KeyError:
        raise ValueError(f"GPU {gpu!r} of {machine_type} has no GCP accelerator type: add it to "
                         "ACCELERATOR_TYPES") from None


def boot_disk_type(machine_type: str) -> str:
    """Boot disk type the machine series supports: hyperdisk-balanced or pd-balanced."""
    return "hyperdisk-balanced" if _series(machine_type) in HYPERDISK_ONLY_SERIES \
        else "pd-balanced"
