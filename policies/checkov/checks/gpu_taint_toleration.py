"""CKV_AIF_2: workloads that use GPUs tolerate the nvidia.com/gpu taint of GPU nodes."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check
from gpu_workload import KINDS, pod_spec, requests_gpus, tolerates_gpu_taint


class GpuTaintToleration(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(name="GPU workloads tolerate the nvidia.com/gpu taint",
                         id="CKV_AIF_2", categories=(CheckCategories.KUBERNETES,),
                         supported_entities=KINDS)

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        spec = pod_spec(conf, self.entity_type)
        if spec is None or not requests_gpus(spec):
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if tolerates_gpu_taint(spec) else CheckResult.FAILED


check = GpuTaintToleration()
