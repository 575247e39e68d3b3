"""How the public instance snapshot's names map to the catalog's own: facts the snapshot lacks.

The snapshot (SkyPilot's catalog, read into ../shared/catalog) names accelerators its own way
("H100", "A100-80GB", "RTX PRO Server 6000") and, for GCP, lists each GPU machine type without
its accelerator (the host rows) beside the accelerator prices (rows without a machine type).
scripts/gen_catalog.py joins them with the tables here; a snapshot row these tables do not cover
stops the generator, so a new accelerator never enters the catalog without its facts.

Pure data, no imports of the project: read by the generator and by the catalog.
"""

from __future__ import annotations

import re

# (cloud, snapshot accelerator name, instance family or machine series) -> catalog GPU model.
# The family matters where one snapshot name covers two parts (GCP's "H100" on A3 High and Edge
# is the SXM5 part, as on AWS p5). Source: AWS EC2 accelerated computing instance pages and GCP
# "GPU machine types" (which part each family carries).
ACCELERATOR_MODELS: dict[str, str] = {
    "aws:A100": "a100-sxm4-40gb",          # p4d: 8 x A100 40 GB SXM4
    "aws:A100-80GB": "a100-sxm4-80gb",     # p4de
    "aws:A10G": "a10g",                    # g5
    "aws:B200": "b200",                    # p6-b200
    "aws:B300": "b300",                    # p6-b300
    "aws:H100": "h100-sxm5",               # p5
    "aws:H200": "h200-sxm",                # p5e, p5en
    "aws:Inferentia": "inferentia",        # inf1
    "aws:Inferentia2": "inferentia2",      # inf2
    "aws:L4": "l4",                        # g6, g6f, gr6, gr6f
    "aws:L40S": "l40s",                    # g6e
    "aws:RTX PRO Server 6000": "rtx-pro-6000-server",  # g7e
    "aws:Radeon Pro V520": "radeon-pro-v520",  # g4ad
    "aws:T4": "t4",                        # g4dn
    "aws:T4g": "t4g",                      # g5g (Graviton host)
    "aws:Trainium": "trainium",            # trn1, trn1n
    "aws:Trainium2": "trainium2",          # trn2
    "aws:V100": "v100-sxm2-16gb",          # p3
    "aws:V100-32GB": "v100-sxm2-32gb",     # p3dn
    "gcp:A100": "a100-sxm4-40gb",          # a2-highgpu, a2-megagpu
    "gcp:A100-80GB": "a100-sxm4-80gb",     # a2-ultragpu
    "gcp:B200": "b200",                    # a4-highgpu
    "gcp:H100": "h100-sxm5",               # a3-highgpu, a3-edgegpu
    "gcp:H100-MEGA": "h100-sxm5",          # a3-megagpu (own quota metric and accelerator type)
    "gcp:H200": "h200-sxm",                # a3-ultragpu
    "gcp:L4": "l4",                        # g2-standard
    "gcp:P100": "p100",                    # attached to N1
    "gcp:P4": "p4",                        # attached to N1
    "gcp:T4": "t4",                        # attached to N1
    "gcp:V100": "v100-sxm2-16gb",          # attached to N1
}

# GCP machine series with built-in GPUs -> the snapshot accelerator they carry. The count is the
# `-<n>g` suffix, except for G2 (below). Source: GCP "GPU machine types" (A2, A3, A4, G2).
GCP_SERIES_ACCELERATORS: dict[str, str] = {
    "a2-highgpu": "A100",
    "a2-megagpu": "A100",
    "a2-ultragpu": "A100-80GB",
    "a3-highgpu": "H100",
    "a3-edgegpu": "H100",
    "a3-megagpu": "H100-MEGA",
    "a3-ultragpu": "H200",
    "a4-highgpu": "B200",
}

# G2 machine types and their L4 count. Source: GCP "GPU machine types", G2 table.
G2_L4_COUNTS: dict[str, int] = {
    "g2-standard-4": 1, "g2-standard-8": 1, "g2-standard-12": 1, "g2-standard-16": 1,
    "g2-standard-32": 1, "g2-standard-24": 2, "g2-standard-48": 4, "g2-standard-96": 8,
}

GCP_ATTACHABLE_HOST = "n1"
"""Machine series the snapshot's attachable GPUs (T4, V100, P100, P4) are attached to."""

_SUFFIX = re.compile(r"-(\d+)g(?:-nolssd)?$")


def gcp_series(machine_type: str) -> str:
    """'a3-highgpu-8g' -> 'a3-highgpu'."""
    return "-".join(machine_type.split("-")[:2])


def gcp_machine_accelerator(machine_type: str) -> tuple[str, int] | None:
    """(snapshot accelerator, count) a GCP GPU machine type carries; None if not a GPU type."""
    if machine_type in G2_L4_COUNTS:
        return "L4", G2_L4_COUNTS[machine_type]
    accelerator = GCP_SERIES_ACCELERATORS.get(gcp_series(machine_type))
    found = _SUFFIX.search(machine_type)
    if accelerator is None or found is None:
        return None
    return accelerator, int(found.group(1))


def accelerator_model(cloud: str, accelerator: str) -> str | None:
    """The catalog GPU model of a snapshot accelerator name (None: not mapped)."""
    return ACCELERATOR_MODELS.get(f"{cloud}:{accelerator}")
