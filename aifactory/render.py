"""Render what the factory puts on machines and clusters, as files a reviewer (and checkov) reads.

Kubernetes objects the project defines itself are recorded in full in the plan, so the manifests
are written from the plan: one file per object, under the environment that holds it. Helm
releases are written beside them (manifests/<environment>/helm/) as helmfile documents: the
chart, its pinned version, the namespace and the values (the chart itself renders in the
provider). Secret data is already masked in the plan and stays masked here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from blueprints.facts import AWS_ENVIRONMENT, GCP_ENVIRONMENT, SITE
from policies.kinds import HELM_TYPES

K8S_PREFIX = "kubernetes:"
_NOT_IN_FILE_NAMES = re.compile(r"[^a-z0-9-]+")


def child(*parts: str) -> str:
    """A file or repository name from resource names: lower case, parts joined by '-'."""
    return "-".join(_NOT_IN_FILE_NAMES.sub("-", p.lower()).strip("-") for p in parts if p)
ENVIRONMENT_TYPES = (AWS_ENVIRONMENT, GCP_ENVIRONMENT, SITE)


def _environment_of(resource: dict[str, Any], index: dict[str, dict[str, Any]]) -> str:
    node: dict[str, Any] | None = resource
    while node is not None:
        if node["type"] in ENVIRONMENT_TYPES:
            return str(node["name"])
        node = index.get(node["parent"]) if node["parent"] else None
    return "factory"


def manifest_of(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The Kubernetes manifest a recorded resource stands for (None for non-objects)."""
    inputs = resource["inputs"]
    if "apiVersion" not in inputs or "kind" not in inputs:
        return None
    doc = {"apiVersion": inputs["apiVersion"], "kind": inputs["kind"]}
    for key in sorted(inputs):
        if key not in doc:
            doc[key] = inputs[key]
    return doc


def _yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=100)


def helm_release(resource: dict[str, Any]) -> dict[str, Any]:
    """A helmfile document for one recorded helm release: the chart (from its https
    repository, or an OCI registry), its pinned version, namespace and values as given to the
    provider. Masked inputs stay '[secret]'."""
    inputs = resource["inputs"]
    chart = str(inputs.get("chart") or "")
    repo_url = (inputs.get("repositoryOpts") or {}).get("repo") \
        if isinstance(inputs.get("repositoryOpts"), dict) else None
    repositories: list[dict[str, Any]] = []
    if chart.startswith("oci://"):
        registry, _, name = chart.removeprefix("oci://").rpartition("/")
        repositories.append({"name": child(name, "oci"), "url": registry, "oci": True})
        chart = f"{child(name, 'oci')}/{name}"
    elif repo_url:
        repositories.append({"name": child(chart), "url": repo_url})
        chart = f"{child(chart)}/{chart}"
    release: dict[str, Any] = {
        "name": inputs.get("name") or resource["name"],
        "namespace": inputs.get("namespace"),
        "chart": chart,
        "version": inputs.get("version"),
        "values": [inputs.get("values") or {}],
    }
    return {"repositories": repositories, "releases": [release]}


def render_manifests(plan: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write every Kubernetes object and helm release of the plan; return the files written."""
    out = Path(out_dir)
    index = {r["urn"]: r for r in plan["resources"]}
    written: list[Path] = []
    for r in plan["resources"]:
        if not r["type"].startswith(K8S_PREFIX):
            continue
        env = _environment_of(r, index)
        # Charts register as components under mocks (custom is False): write them all the same.
        if r["type"] in HELM_TYPES:
            path = out / "manifests" / env / "helm" / f"{child(r['name'])}.yaml"
            body = f"# helm release {r['name']} ({r['type']}), rendered by the Kubernetes " \
                "provider at deploy time\n" + _yaml(helm_release(r))
        elif not r["custom"]:
            continue
        else:
            doc = manifest_of(r)
            if doc is None:
                continue
            kind = str(doc["kind"]).lower()
            path = out / "manifests" / env / f"{kind}-{child(r['name'])}.yaml"
            body = _yaml(doc)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        written.append(path)
    return sorted(written)


OWNED = ".aifactory-render"
"""The list of files a render wrote, in its folder: the next render replaces exactly those."""


def check_output_folder(out_dir: str | Path) -> None:
    """Refuse a file, or a folder holding files an earlier render did not write."""
    from blueprints.errors import InputError

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out_dir}: is a file: name a folder to write the manifests "
                         "into (a new one, or one an earlier render wrote)")
    if out.is_dir() and any(out.iterdir()) and not (out / OWNED).exists():
        raise InputError(f"--out {out_dir}: the folder holds files aifactory render did not "
                         "write: choose a new or empty folder, so stale files of other tools "
                         "are never checked as the factory's")


def clear_output_folder(out_dir: str | Path) -> int:
    """Remove the files an earlier render wrote (per its list); return how many."""
    out = Path(out_dir)
    listing = out / OWNED
    if not listing.exists():
        return 0
    removed = 0
    for rel in listing.read_text(encoding="utf-8").splitlines():
        path = out / rel
        if rel and ".." not in Path(rel).parts and path.is_file():
            path.unlink()
            removed += 1
    for folder in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    listing.unlink()
    return removed


def record_output(out_dir: str | Path, written: list[Path]) -> None:
    """List the files this render wrote, so the next one replaces exactly them."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rels = sorted(p.relative_to(out).as_posix() for p in written)
    (out / OWNED).write_text("".join(f"{r}\n" for r in rels), encoding="utf-8")


def render_files(files: dict[str, str], out_dir: str | Path) -> list[Path]:
    """Write rendered text files (relative path -> content) below `out_dir`."""
    written = []
    for rel, content in sorted(files.items()):
        path = Path(out_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
