"""CKV_AIF_4: batch Jobs that use GPUs name a Kueue LocalQueue, so quota admission applies."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check
from gpu_workload import pod_spec, requests_gpus

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"


class GpuJobQueueName(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(name="GPU Jobs carry the kueue.x-k8s.io/queue-name label",
                         id="CKV_AIF_4", categories=(CheckCategories.KUBERNETES,),
                         supported_entities=("Job", "CronJob"))

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        spec = pod_spec(conf, self.entity_type)
        if spec is None or not requests_gpus(spec):
            return CheckResult.UNKNOWN
        if self.entity_type == "CronJob":
            meta = ((conf.get("spec") or {}).get("jobTemplate") or {}).get("metadata") or {}
        else:
            meta = conf.get("metadata") or {}
        labels = meta.get("labels") or {}
        return CheckResult.PASSED if isinstance(labels, dict) and labels.get(QUEUE_LABEL) \
            else CheckResult.FAILED


check = GpuJobQueueName()
