"""CKV_AIF_3: images come from an allowed registry and are pinned by sha256 digest.

The same rule, with the same applicability, as the plan's sovereignty-image-registry-digest:
allowed registries (hosts, or host/path prefixes) come from the environment variable
AIFACTORY_ALLOWED_REGISTRIES (comma-separated), which policies.checkov_runner sets
from the plan (the factory's own in-jurisdiction registries plus the in-jurisdiction entries of
sovereignty.allowed_registries) when the factory declares a jurisdiction.
Unset: no jurisdiction, so the check does not apply (UNKNOWN, not reported). Set but empty: no
registry is allowed, so every image fails. A run over several factories' manifests (one folder
each) names each folder's list instead, in AIFACTORY_ALLOWED_REGISTRIES_BY_FOLDER (JSON).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import PurePosixPath
from typing import Any

from checkov.common.models.enums import CheckResult
from checkov.kubernetes.checks.resource.base_container_check import BaseK8sContainerCheck

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def registry_of(ref: str) -> str:
    first, sep, _ = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def allowed(ref: str, registries: list[str]) -> bool:
    ref_l = ref.lower()
    for a in registries:
        a = a.lower().rstrip("/")
        if ("/" in a and (ref_l == a or ref_l.startswith(a + "/"))) or \
                ("/" not in a and registry_of(ref) == a):
            return True
    return False


class ImageRegistryDigest(BaseK8sContainerCheck):
    def __init__(self) -> None:
        super().__init__(name="Images come from an allowed registry, pinned by digest",
                         id="CKV_AIF_3")

    def scan_container_conf(self, metadata: dict[str, Any], conf: dict[str, Any]) -> CheckResult:
        self.evaluated_container_keys = ["image"]
        registries = self._allowed()
        if registries is None:
            return CheckResult.UNKNOWN
        image = conf.get("image")
        if not isinstance(image, str) or not DIGEST.search(image):
            return CheckResult.FAILED
        return CheckResult.PASSED if allowed(image, registries) else CheckResult.FAILED


    def _allowed(self) -> list[str] | None:
        """The allowed registries for the file being scanned (None: the check does not
        apply). One run over several factories names each folder's list in
        AIFACTORY_ALLOWED_REGISTRIES_BY_FOLDER; checkov's entity path starts with the file."""
        by_folder = os.environ.get("AIFACTORY_ALLOWED_REGISTRIES_BY_FOLDER")
        if by_folder:
            mapping = json.loads(by_folder)
            scanned = self.entity_path.split(":", 1)[0]
            folder = next((p for p in PurePosixPath(scanned).parts if p in mapping), None)
            if folder is None:
                return None
            listed = mapping[folder]
            return None if listed is None else [str(r) for r in listed]
        declared = os.environ.get("AIFACTORY_ALLOWED_REGISTRIES")
        if declared is None:
            return None
        return [r.strip() for r in declared.split(",") if r.strip()]


check = ImageRegistryDigest()
