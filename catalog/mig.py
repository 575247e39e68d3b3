"""MIG (Multi-Instance GPU) profiles per GPU model: which GPUs can be partitioned, and how.

Each profile is a GPU instance profile as `nvidia-smi mig -lgip` names it (`<slices>g.<memory>gb`)
with the most instances of it one GPU holds. Source: NVIDIA Multi-Instance GPU User Guide,
"Supported MIG Profiles" (A100 SXM4 40GB, A100 SXM4 80GB, H100 SXM5 80GB, H100 PCIe 80GB,
H200 SXM 141GB, B200 180GB tables). The `+me` profiles (one instance with the media engines)
are left out: a pool cuts every GPU into as many instances of one profile as fit, and only one
`+me` instance fits a GPU. A GPU model missing here has no MIG (L4, L40S, A10G, T4: Ada and
Ampere GA10x parts), or its profiles are not verified (GB200): `gpu_sharing` with MIG is
refused for it at load time.

Pure data, no Pulumi import: the blueprint loader validates `gpu_sharing` with it.
"""

from __future__ import annotations

from dataclasses import dataclass

MIG_GUIDE = "NVIDIA Multi-Instance GPU User Guide, Supported MIG Profiles"


@dataclass(frozen=True)
class MigProfile:
    """One MIG GPU instance profile of a GPU model."""

    name: str
    """Profile name, e.g. 1g.10gb (compute slices and memory)."""
    per_gpu: int
    """Most instances of this profile one GPU holds."""
    source: str
    """Where the figure comes from."""


def _profiles(*entries: tuple[str, int]) -> dict[str, MigProfile]:
    return {name: MigProfile(name, count, MIG_GUIDE) for name, count in entries}


MIG_PROFILES: dict[str, dict[str, MigProfile]] = {
    "a100-sxm4-40gb": _profiles(("1g.5gb", 7), ("1g.10gb", 4), ("2g.10gb", 3), ("3g.20gb", 2),
                                ("4g.20gb", 1), ("7g.40gb", 1)),
    "a100-sxm4-80gb": _profiles(("1g.10gb", 7), ("1g.20gb", 4), ("2g.20gb", 3), ("3g.40gb", 2),
                                ("4g.40gb", 1), ("7g.80gb", 1)),
    "h100-sxm5": _profiles(("1g.10gb", 7), ("1g.20gb", 4), ("2g.20gb", 3), ("3g.40gb", 2),
                           ("4g.40gb", 1), ("7g.80gb", 1)),
    "h100-pcie": _profiles(("1g.10gb", 7), ("1g.20gb", 4), ("2g.20gb", 3), ("3g.40gb", 2),
                           ("4g.40gb", 1), ("7g.80gb", 1)),
    "h200-sxm": _profiles(("1g.18gb", 7), ("1g.35gb", 4), ("2g.35gb", 3), ("3g.71gb", 2),
                          ("4g.71gb", 1), ("7g.141gb", 1)),
    "b200": _profiles(("1g.23gb", 7), ("1g.45gb", 4), ("2g.45gb", 3), ("3g.90gb", 2),
                      ("4g.90gb", 1), ("7g.180gb", 1)),
}
"""GPU model (catalog.GPUS key) -> profile name -> profile."""


def mig_gpus() -> list[str]:
    """GPU models that support MIG, sorted."""
    return sorted(MIG_PROFILES)


def profiles(gpu_model: str) -> dict[str, MigProfile]:
    """The MIG profiles of a GPU model ({} when it has no MIG)."""
    return MIG_PROFILES.get(gpu_model, {})


def profile(gpu_model: str, name: str) -> MigProfile | None:
    """One MIG profile of a GPU model, or None when the GPU has no such profile."""
    return MIG_PROFILES.get(gpu_model, {}).get(name)
