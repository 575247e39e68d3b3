"""The NVIDIA GPU operator on one cluster: device plugin, GPU feature discovery, DCGM exporter.

The operator never installs the driver here: every substrate's nodes come with one (bare metal:
our cloud-init installs driver and container toolkit on first boot; EKS: the AL2023 NVIDIA AMI
ships both; GKE: its driver installer, `gpu_driver_installation_config`). Its container toolkit
runs only on GKE, whose Container-Optimized OS has none (installed into the driver directory,
with CDI). The DCGM exporter reads a metrics list of ours (a ConfigMap): the upstream default
leaves the ECC double-bit error counters out, and our alerts need them.

GPU sharing of EKS and site pools (gpu_sharing.py) is the operator's too: a mig-parted config of
ours for the MIG manager (mixed strategy) and a device-plugin config per time-sliced pool, both
ConfigMaps in the operator's namespace, selected on each node by a label its pool sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import GPU_OPERATOR
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import (
    NodeTaint,
    Substrate,
    chart,
    namespace,
)
from components.platform.gpu_sharing import (
    DEVICE_PLUGIN_CONFIG_MAP,
    DEVICE_PLUGIN_DEFAULT,
    MIG_CONFIG_MAP,
    MIG_DISABLED,
    PoolSharing,
    device_plugin_configs,
    mig_parted_config,
    mig_strategy,
    validate_sharing,
)
from components.platform.mirror import ImageMirror

DCGM_METRICS_FILE = "dcgm-metrics.csv"
DCGM_METRICS_DIR = "/etc/dcgm-exporter"
# DCGM field, Prometheus type, help: the upstream dcp-metrics-included.csv plus the ECC counters.
DCGM_METRICS: tuple[tuple[str, str, str], ...] = (
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
    ("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Total energy since boot (in mJ)."),
    ("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries."),
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", "Single-bit volatile ECC errors."),
    ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Double-bit volatile ECC errors."),
    ("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", "counter", "Double-bit persistent ECC errors."),
    ("DCGM_FI_DEV_RETIRED_DBE", "counter", "Retired pages due to double-bit errors."),
    ("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "Rows remapped for uncorrectable "
     "errors."),
    ("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed."),
    ("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "counter", "NVLink bandwidth counters, all lanes."),
    ("DCGM_FI_DRIVER_VERSION", "label", "Driver Version"),
    ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "gauge", "Ratio of time the graphics engine is active."),
    ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor pipe is active."),
    ("DCGM_FI_PROF_DRAM_ACTIVE", "gauge", "Ratio of cycles device memory is active."),
)
# Where GKE's driver installer puts the driver on Container-Optimized OS nodes.
GKE_DRIVER_DIR = "/home/kubernetes/bin/nvidia"
# Who installs the driver and the container toolkit on each substrate's GPU nodes.
NODE_IMAGE_SHIPS: dict[str, tuple[str, bool]] = {
    "onprem": ("our cloud-init (driver and container toolkit)", True),
    "aws": ("the EKS AL2023 NVIDIA AMI (driver and container toolkit)", True),
    "gcp": ("GKE's driver installer (driver only)", False),
}
"""substrate -> (what installs the driver, whether it installs the container toolkit too)."""


@dataclass(frozen=True)
class GpuOperatorArgs:
    """Arguments of `GpuOperator`."""

    substrate: Substrate
    """aws, gcp or onprem: decides whether the operator installs the driver."""
    taints: tuple[NodeTaint, ...]
    """Taints of the cluster's GPU pools: the operator's daemon sets tolerate each."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    namespace: str = "gpu-operator"
    """Namespace the operator runs in (created here, privileged: it manages host drivers)."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the chart and its images come from (None: upstream)."""
    sharing: tuple[PoolSharing, ...] = ()
    """GPU sharing of the cluster's pools that the operator applies (not GKE's own)."""


def dcgm_metrics_csv() -> str:
    """The DCGM exporter's metrics list, in its CSV format."""
    lines = ["# DCGM field, Prometheus metric type, help message"]
    lines += [f"{name}, {kind}, {help_}" for name, kind, help_ in DCGM_METRICS]
    return "\n".join(lines) + "\n"


def gpu_operator_values(args: GpuOperatorArgs, metrics_config_map: str) -> dict[str, Any]:
    """Chart values: no driver, toolkit per substrate, DCGM exporter with our metrics list."""
    _, toolkit_shipped = NODE_IMAGE_SHIPS[args.substrate]
    tolerations = [{"key": key, "operator": "Exists", "effect": effect}
                   for key, effect in sorted({(t.key, t.effect) for t in args.taints})]
    values: dict[str, Any] = {
        "driver": {"enabled": False},
        "toolkit": {"enabled": not toolkit_shipped},
        "devicePlugin": {"enabled": True},
        "dcgmExporter": {
            "enabled": True,
            # Scraped through our own ServiceMonitor (GpuTelemetry), which adds the pool label.
            "serviceMonitor": {"enabled": False},
            "config": {"name": metrics_config_map},
            "env": [
                {"name": "DCGM_EXPORTER_LISTEN", "value": ":9400"},
                {"name": "DCGM_EXPORTER_KUBERNETES", "value": "true"},
                {"name": "DCGM_EXPORTER_COLLECTORS",
                 "value": f"{DCGM_METRICS_DIR}/{DCGM_METRICS_FILE}"},
            ],
        },
        "daemonsets": {"tolerations": tolerations},
        "node-feature-discovery": {"worker": {"tolerations": tolerations}},
    }
    if args.substrate == "gcp":
        values["hostPaths"] = {"driverInstallDir": GKE_DRIVER_DIR}
        values["toolkit"]["installDir"] = GKE_DRIVER_DIR
        values["cdi"] = {"enabled": True}  # v26.7.0: CDI is the mode once enabled
    if any(s.strategy == "time-slicing" for s in args.sharing):
        values["devicePlugin"]["config"] = {"name": DEVICE_PLUGIN_CONFIG_MAP,
                                            "default": DEVICE_PLUGIN_DEFAULT}
    if any(s.strategy == "mig" for s in args.sharing):
        values["mig"] = {"strategy": mig_strategy(args.sharing)}
        values["migManager"] = {"enabled": True,
                                "config": {"name": MIG_CONFIG_MAP, "default": MIG_DISABLED}}
    return values


class GpuOperator(FactoryComponent):
    """NVIDIA GPU operator: its namespace, our DCGM metrics list and the pinned chart."""

    def __init__(self, name: str, args: GpuOperatorArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.taints:
            raise ComponentArgsError(
                "`taints` is empty: give the taints of the cluster's GPU pools (at least "
                "nvidia.com/gpu), or leave the GPU operator out of a cluster without GPU pools")
        validate_sharing("sharing", args.sharing)
        if args.sharing and args.substrate == "gcp":
            raise ComponentArgsError(
                f"`sharing` {[s.pool for s in args.sharing]} on GKE: GKE shares GPUs itself "
                "(node pool gpu_sharing_config / gpu_partition_size); leave sharing empty")
        super().__init__("aifactory:platform:GpuOperator", name, {
            "substrate": args.substrate, "namespace": args.namespace,
            "driverFrom": NODE_IMAGE_SHIPS[args.substrate][0],
            "sharing": {sh.pool: f"{sh.strategy}: {sh.per_gpu} x {sh.resource}"
                        for sh in args.sharing},
            "chartVersion": GPU_OPERATOR.version}, opts)

        ns = namespace(child(name, "ns"), args.namespace, args.labels, "privileged",
                       self.child_opts())
        config_map = k8s.core.v1.ConfigMap(
            child(name, "dcgm-metrics"),
            metadata={"name": "dcgm-metrics", "namespace": args.namespace,
                      "labels": dict(args.labels)},
            data={DCGM_METRICS_FILE: dcgm_metrics_csv()},
            opts=self.child_opts(depends_on=[ns]),
        )
        configs: list[pulumi.Resource] = [config_map]
        if any(sh.strategy == "time-slicing" for sh in args.sharing):
            configs.append(k8s.core.v1.ConfigMap(
                child(name, "device-plugin-config"),
                metadata={"name": DEVICE_PLUGIN_CONFIG_MAP, "namespace": args.namespace,
                          "labels": dict(args.labels)},
                data=device_plugin_configs(args.sharing),
                opts=self.child_opts(depends_on=[ns])))
        if any(sh.strategy == "mig" for sh in args.sharing):
            configs.append(k8s.core.v1.ConfigMap(
                child(name, "mig-parted-config"),
                metadata={"name": MIG_CONFIG_MAP, "namespace": args.namespace,
                          "labels": dict(args.labels)},
                data={"config.yaml": mig_parted_config(args.sharing)},
                opts=self.child_opts(depends_on=[ns])))
        values = gpu_operator_values(args, "dcgm-metrics")
        release = chart(child(name, "chart"), GPU_OPERATOR, "gpu-operator", args.namespace,
                        values, self.child_opts(depends_on=[ns, *configs]), args.mirror)

        self.namespace = pulumi.Output.from_input(args.namespace)
        self.driver_enabled = pulumi.Output.from_input(bool(values["driver"]["enabled"]))
        self.toolkit_enabled = pulumi.Output.from_input(bool(values["toolkit"]["enabled"]))
        self.chart = release
        self.register_outputs({"namespace": self.namespace,
                               "driver_enabled": self.driver_enabled,
                               "toolkit_enabled": self.toolkit_enabled})
