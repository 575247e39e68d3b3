"""CKV_AIF_1: GPU workloads set nvidia.com/gpu limits (equal to any request)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check
from gpu_workload import KINDS, containers, gpu_amount, pod_spec, requests_gpus, targets_gpu_nodes


class GpuLimits(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(name="GPU workloads set nvidia.com/gpu limits",
                         id="CKV_AIF_1", categories=(CheckCategories.KUBERNETES,),
                         supported_entities=KINDS)

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        spec = pod_spec(conf, self.entity_type)
        # a DaemonSet that claims no GPU is a node agent (the GPUDirect NCCL installer, a
        # device injector): it runs on the GPU nodes without being a GPU workload
        node_agent = self.entity_type == "DaemonSet" and not requests_gpus(spec or {})
        if spec is None or node_agent or not (requests_gpus(spec) or targets_gpu_nodes(spec)):
            return CheckResult.UNKNOWN
        limited = False
        for c in containers(spec):
            limit, request = gpu_amount(c, "limits"), gpu_amount(c, "requests")
            if request is not None and limit != request:
                return CheckResult.FAILED
            limited = limited or bool(limit)
        return CheckResult.PASSED if limited else CheckResult.FAILED


check = GpuLimits()
