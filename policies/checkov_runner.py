"""Runner 3: checkov (with our CKV_AIF checks) and strict schema validation over manifests.

checkov lives in a virtualenv of its own (its releases pin old dependencies that would drag the
Pulumi SDKs back), so it runs as a subprocess: `.venv-checkov/bin/checkov` in the repository,
else the program named by AIFACTORY_CHECKOV. The same files are validated against the official
Kubernetes schemas with kubernetes-validate in strict mode (unknown fields are errors); custom
resources against their upstream CRDs (policies.crd_schemas) where ../shared/crds
holds them, and are reported as skipped, no schema available, where it does not.

This module renders nothing: `aifactory render` (aifactory.render) writes the manifests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from blueprints.errors import InputError
from policies import crd_schemas

ROOT = Path(__file__).resolve().parents[1]
CHECKS_DIR = ROOT / "policies" / "checkov" / "checks"
CUSTOM_PREFIX = "CKV_AIF_"
# Our checks (policies/checkov/checks), reported even when nothing fails them.
CUSTOM_CHECKS = {
    "CKV_AIF_1": "GPU workloads set nvidia.com/gpu limits",
    "CKV_AIF_2": "GPU workloads tolerate the nvidia.com/gpu taint",
    "CKV_AIF_3": "Images come from an allowed registry, pinned by digest",
    "CKV_AIF_4": "GPU Jobs carry the kueue.x-k8s.io/queue-name label",
}
KUBERNETES_VERSION = "1.33"
REGISTRIES_ENV = "AIFACTORY_ALLOWED_REGISTRIES"
REGISTRIES_BY_FOLDER_ENV = "AIFACTORY_ALLOWED_REGISTRIES_BY_FOLDER"
"""JSON {folder: [registries] | null} for one run over several factories' manifests: CKV_AIF_3
judges each file by the list of the folder of the run's root it lies in."""
TIMEOUT_S = 300
SCHEMA_TOOLS = ("kubernetes-validate", "crd-schema")


@dataclass(frozen=True)
class ManifestFinding:
    """One failed check on one Kubernetes object of a manifest file."""

    tool: str
    """'checkov' or 'kubernetes-validate'."""
    check_id: str
    """CKV_AIF_1, CKV_K8S_43, ... or 'schema'."""
    check_name: str
    file: str
    """Path relative to the checked folder."""
    kind: str
    namespace: str
    name: str
    message: str
    line: int = 1

    @property
    def custom(self) -> bool:
        """One of ours (mandatory), not one of checkov's built-in checks (advisory)."""
        return self.check_id.startswith(CUSTOM_PREFIX) or self.tool in SCHEMA_TOOLS


@dataclass
class ManifestChecks:
    """What the manifest runners found."""

    findings: list[ManifestFinding] = field(default_factory=list)
    checked_files: int = 0
    crd_checked: int = 0
    """Custom resources validated against their upstream CRD."""
    crds: str | None = None
    """The folder of upstream CRDs used (None: not available)."""
    skipped: list[str] = field(default_factory=list)
    """Objects not schema-validated (no schema available), as 'file: Kind (apiVersion)'."""
    notes: list[str] = field(default_factory=list)


def checkov_path() -> Path | None:
    """checkov of the repository's .venv-checkov, else the one AIFACTORY_CHECKOV names."""
    local = ROOT / ".venv-checkov" / "bin" / "checkov"
    if local.exists():
        return local
    named = os.environ.get("AIFACTORY_CHECKOV")
    if named and Path(named).exists():
        return Path(named)
    return None


def start_checkov(directory: str | Path, allowed_registries: Sequence[str] | None = None,
                  checks: Sequence[str] | None = None,
                  registries_by_folder: Mapping[str, Sequence[str] | None] | None = None,
                  ) -> subprocess.Popen[str]:
    """Start checkov over `directory` (it runs while the caller validates schemas); read its
    results with `checkov_output`. With `registries_by_folder`, the allowed registries of
    each top-level folder."""
    program = checkov_path()
    if program is None:
        raise InputError("checkov not found: run the setup script (it creates .venv-checkov) "
                         "or set AIFACTORY_CHECKOV to a checkov executable")
    cmd = [str(program), "-d", str(directory), "--framework", "kubernetes",
           "--external-checks-dir", str(CHECKS_DIR), "-o", "json", "--skip-download"]
    if checks:
        cmd += ["--check", ",".join(checks)]
    # unset: no jurisdiction, CKV_AIF_3 does not apply; set (even to ""): the allowed list
    env = {k: v for k, v in os.environ.items()
           if k not in (REGISTRIES_ENV, REGISTRIES_BY_FOLDER_ENV)}
    if allowed_registries is not None:
        env[REGISTRIES_ENV] = ",".join(allowed_registries)
    if registries_by_folder is not None:
        env[REGISTRIES_BY_FOLDER_ENV] = json.dumps(
            {k: None if v is None else list(v) for k, v in registries_by_folder.items()})
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def checkov_output(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """checkov's passed and failed results, each with 'result' added."""
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise InputError(f"checkov did not finish in {TIMEOUT_S} s") from None
    if proc.returncode not in (0, 1):
        raise InputError(f"checkov failed (exit {proc.returncode}): "
                         f"{stderr.strip().splitlines()[-1:] or stdout[:200]}")
    try:
        data = json.loads(stdout) if stdout.strip() else {}
    except ValueError:
        raise InputError(f"checkov printed no JSON: {stdout[:200]!r}") from None
    reports = data if isinstance(data, list) else [data]
    out = []
    for report in reports:
        results = report.get("results") or {}
        for key, verdict in (("passed_checks", "PASSED"), ("failed_checks", "FAILED")):
            for r in results.get(key) or []:
                out.append({**r, "result": verdict})
    return out


def checkov_results(directory: str | Path, allowed_registries: Sequence[str] | None = None,
                    checks: Sequence[str] | None = None,
                    registries_by_folder: Mapping[str, Sequence[str] | None] | None = None,
                    ) -> list[dict[str, Any]]:
    """checkov's passed and failed results over `directory`, each with 'result' added."""
    return checkov_output(start_checkov(directory, allowed_registries, checks,
                                        registries_by_folder))


def _parse_resource(resource: str) -> tuple[str, str, str]:
    kind, _, rest = resource.partition(".")
    namespace, _, name = rest.partition(".")
    return kind, namespace, name


def run_checkov(directory: str | Path, allowed_registries: Sequence[str] | None = None,
                registries_by_folder: Mapping[str, Sequence[str] | None] | None = None,
                running: subprocess.Popen[str] | None = None) -> list[ManifestFinding]:
    """Failed checkov checks (ours and checkov's own) over the manifests in `directory`
    (those of the checkov already `running` over it, if given)."""
    base = Path(directory).resolve()
    out = []
    proc = running or start_checkov(base, allowed_registries,
                                    registries_by_folder=registries_by_folder)
    for r in checkov_output(proc):
        if r["result"] != "FAILED":
            continue
        kind, namespace, name = _parse_resource(r.get("resource", ""))
        path = Path(r.get("file_abs_path") or r.get("file_path", "")).resolve()
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            rel = str(r.get("file_path", "")).lstrip("/")
        line = (r.get("file_line_range") or [1])[0]
        out.append(ManifestFinding(
            tool="checkov", check_id=r["check_id"], check_name=r.get("check_name", ""),
            file=rel, kind=kind, namespace=namespace, name=name, line=int(line or 1),
            message=f"{r['check_id']} {r.get('check_name', '')}",
        ))
    return sorted(out, key=lambda f: (f.file, f.check_id, f.name))


def manifest_files(directory: str | Path) -> list[Path]:
    """YAML files under `directory` holding at least one Kubernetes object."""
    return [p for p, _ in _manifests(directory)]


def _manifests(directory: str | Path) -> list[tuple[Path, list[dict[str, Any]]]]:
    out = []
    for path in sorted(Path(directory).rglob("*.y*ml")):
        objects = _objects(path)
        if objects:
            out.append((path, objects))
    return out


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _objects(path: Path) -> list[dict[str, Any]]:
    try:
        docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER))
    except (OSError, yaml.YAMLError):
        return []
    return [d for d in docs if isinstance(d, dict) and "apiVersion" in d and "kind" in d]


@cache
def _schema(filename: str, version: str) -> Any:
    from kubernetes_validate.utils import schema_contents  # type: ignore[import-untyped]

    return schema_contents(filename, version)


@cache
def _validator(kind: str, api_version: str, version: str) -> Any:
    """kubernetes-validate's strict validator of one kind, built once: its own `validate`
    reads the multi-megabyte definitions file again for every object (8 s of a PR check)."""
    import jsonschema
    import kubernetes_validate
    from kubernetes_validate.utils import all_versions, major_minor
    from referencing import Registry, Resource

    schema_version = [v for v in all_versions() if major_minor(v) <= major_minor(version)][-1]
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = f"kubernetes-json-schema/v{schema_version}-local-strict"
    try:
        schema = _schema(f"{folder}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        raise kubernetes_validate.SchemaNotFoundError(
            version=major_minor(version), kind=kind, api_version=api_version) from None
    registry: Any = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(_schema(f"{folder}/_definitions.json", version)) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def strict_validate(doc: dict[str, Any], version: str = KUBERNETES_VERSION) -> None:
    """What `kubernetes_validate.validate(doc, version, strict=True)` does, with its schemas
    read once: raises its SchemaNotFoundError or ValidationError."""
    import jsonschema
    import kubernetes_validate

    try:
        _validator(str(doc["kind"]), str(doc["apiVersion"]), version).validate(doc)
    except jsonschema.ValidationError as e:
        raise kubernetes_validate.ValidationError(e, version=version) from None


def validate_schemas(directory: str | Path, kubernetes_version: str = KUBERNETES_VERSION,
                     checks: ManifestChecks | None = None) -> ManifestChecks:
    """kubernetes-validate --strict of every Kubernetes object under `directory`."""
    import kubernetes_validate  # type: ignore[import-untyped]

    checks = checks or ManifestChecks()
    crds = crd_schemas.schemas()
    checks.crds = str(crds.directory) if crds is not None else None
    base = Path(directory).resolve()
    for path, objects in _manifests(base):
        rel = path.relative_to(base).as_posix()
        checks.checked_files += 1
        for doc in objects:
            meta = doc.get("metadata") or {}

            def finding(tool: str, check_id: str, name: str, message: str,
                        _rel: str = rel, _doc: dict[str, Any] = doc,
                        _meta: dict[str, Any] = meta) -> ManifestFinding:
                return ManifestFinding(
                    tool=tool, check_id=check_id, check_name=name, file=_rel,
                    kind=str(_doc["kind"]), namespace=str(_meta.get("namespace", "")),
                    name=str(_meta.get("name", "")), message=message)

            try:
                strict_validate(doc, kubernetes_version)
            except kubernetes_validate.SchemaNotFoundError:
                verdict = crds.validate(doc) if crds is not None else None
                if verdict is None or verdict.state == "no-schema":
                    checks.skipped.append(f"{rel}: {doc['kind']} ({doc['apiVersion']})")
                    continue
                checks.crd_checked += 1
                for where, message in verdict.errors:
                    checks.findings.append(finding(
                        "crd-schema", "crd-schema", "valid against its upstream CRD (strict)",
                        f"{where}: {message}"))
            except kubernetes_validate.ValidationError as e:
                where = ".".join(str(p) for p in e.path) or "(root)"
                checks.findings.append(finding(
                    "kubernetes-validate", "schema",
                    f"valid Kubernetes {kubernetes_version} schema (strict)",
                    f"{where}: {e.message}"))
    return checks


def run_manifest_checks(directory: str | Path, allowed_registries: Sequence[str] | None = None,
                        kubernetes_version: str = KUBERNETES_VERSION) -> ManifestChecks:
    """checkov (CKV_AIF checks mandatory, checkov's own advisory) plus strict schema
    validation of the same files."""
    if not Path(directory).is_dir():
        raise InputError(f"{directory}: no such folder of manifests")
    checks = ManifestChecks()
    validate_schemas(directory, kubernetes_version, checks)
    if checks.checked_files == 0:
        checks.notes.append(f"no Kubernetes manifests under {directory}")
        return checks
    checks.findings.extend(run_checkov(directory, allowed_registries))
    _notes(checks)
    return checks


def run_manifest_checks_of_many(root: str | Path,
                                allowed: Mapping[str, Sequence[str] | None],
                                kubernetes_version: str = KUBERNETES_VERSION,
                                ) -> dict[str, ManifestChecks]:
    """The checks of several factories' manifests, each in a folder of `root` named as the
    keys of `allowed` (their allowed registries): schemas per folder, and one checkov run over
    `root` (checkov's start-up is most of its time)."""
    base = Path(root).resolve()
    # checkov (a process of its own, mostly start-up) runs while the schemas are validated here
    running = start_checkov(base, registries_by_folder=allowed)
    out = {name: validate_schemas(base / name, kubernetes_version) for name in allowed}
    if not any(c.checked_files for c in out.values()):
        running.kill()
        running.communicate()
    else:
        for f in run_checkov(base, running=running):
            name, _, rest = f.file.partition("/")
            if name in out:
                out[name].findings.append(replace(f, file=rest))
    for name, checks in out.items():
        if checks.checked_files == 0:
            checks.notes.append(f"no Kubernetes manifests under {base / name}")
        else:
            _notes(checks)
    return out


def _notes(checks: ManifestChecks) -> None:
    if checks.crd_checked:
        checks.notes.append(f"{checks.crd_checked} custom resources validated against their "
                            f"upstream CRDs ({checks.crds})")
    if checks.skipped:
        kinds = sorted({s.split(": ", 1)[1] for s in checks.skipped})
        where = "" if checks.crds else " (upstream CRDs not found: put them at ../shared/crds " \
            f"or name their folder in {crd_schemas.CRDS_ENV})"
        checks.notes.append(f"{len(checks.skipped)} custom resources skipped, no schema "
                            f"available{where}: {', '.join(kinds)}")
