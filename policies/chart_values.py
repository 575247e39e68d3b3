"""Values passed to upstream charts, checked against the charts' own data.

Helm ignores a value a chart does not read, silently: a misspelt or stale key is a setting that
never takes effect. For each helm release `aifactory render` writes (manifests/<env>/helm/), every
values path must be one the pinned chart declares: in its values.yaml, under a default that is
free-form (an empty map, a list, a scalar), among the `.Values` paths its templates read, under
`global`, or in a subchart's own data. And each image the catalog says the chart pulls
(catalog.charts.CHART_IMAGES) must be at the chart's own default tag, since the blueprint's
mirror lock is held to that tag.

Chart data comes from, in this order: the folder AIFACTORY_CHART_DATA names (laid out as
<chart>-<version>/values.yaml, Chart.yaml, template-values-paths.txt, charts/<dependency>/), the
local Helm cache (~/.cache/helm/repository/<chart>-<version>.tgz, or $HELM_CACHE_HOME), then
../shared/charts beside the repository. The check says which it used.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catalog.charts import CHART_IMAGES, CHARTS, ChartImage

ROOT = Path(__file__).resolve().parents[1]
DATA_ENV = "AIFACTORY_CHART_DATA"
SHARED = ROOT.parent / "shared" / "charts"
_VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)")


@dataclass
class ChartData:
    """What a chart declares: its default values, the paths its templates read, subcharts."""

    name: str
    version: str
    app_version: str
    values: dict[str, Any]
    reads: set[str]
    subcharts: dict[str, ChartData] = field(default_factory=dict)
    source: str = ""
    """Where the data was read: 'local chart cache', AIFACTORY_CHART_DATA or ../shared/charts."""


def _yaml(text: str | None) -> Any:
    try:
        return yaml.safe_load(text or "") or {}
    except yaml.YAMLError:
        return {}


def _from_folder(d: Path, source: str) -> ChartData:
    meta = _yaml((d / "Chart.yaml").read_text(encoding="utf-8")
                 if (d / "Chart.yaml").exists() else "")
    paths = d / "template-values-paths.txt"
    reads = {line.strip() for line in paths.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")} if paths.exists() else set()
    subs = {}
    for dep in meta.get("dependencies") or []:
        sub = d / "charts" / str(dep.get("name"))
        if (sub / "values.yaml").exists():
            subs[str(dep.get("alias") or dep["name"])] = _from_folder(sub, source)
    return ChartData(name=str(meta.get("name", d.name)), version=str(meta.get("version", "")),
                     app_version=str(meta.get("appVersion", "")),
                     values=_yaml((d / "values.yaml").read_text(encoding="utf-8")),
                     reads=reads, subcharts=subs, source=source)


def _from_archive(data: bytes, source: str) -> ChartData | None:
    """A packaged chart (.tgz): values.yaml, Chart.yaml, the templates' `.Values` paths, and
    subcharts packaged or unpacked under charts/."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        files = {m.name: m for m in tar.getmembers() if m.isfile()}
        roots = sorted({n.split("/", 1)[0] for n in files if n.endswith("/Chart.yaml")
                        and n.count("/") == 1})
        if not roots:
            return None
        return _archive_chart(tar, files, roots[0], source)


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo | None) -> str:
    if member is None:
        return ""
    f = tar.extractfile(member)
    return f.read().decode("utf-8", "replace") if f else ""


def _archive_chart(tar: tarfile.TarFile, files: Mapping[str, tarfile.TarInfo], root: str,
                   source: str) -> ChartData:
    meta = _yaml(_read(tar, files.get(f"{root}/Chart.yaml")))
    reads: set[str] = set()
    for name, member in files.items():
        if name.startswith(f"{root}/templates/"):
            reads.update(m.group(1)[1:] for m in _VALUES_REF.finditer(_read(tar, member)))
    subs: dict[str, ChartData] = {}
    for dep in meta.get("dependencies") or []:
        dep_name = str(dep.get("name"))
        alias = str(dep.get("alias") or dep_name)
        if f"{root}/charts/{dep_name}/Chart.yaml" in files:
            subs[alias] = _archive_chart(tar, files, f"{root}/charts/{dep_name}", source)
            continue
        packed = next((m for n, m in files.items() if n.startswith(f"{root}/charts/{dep_name}-")
                       and n.endswith(".tgz")), None)
        if packed is not None:
            f = tar.extractfile(packed)
            sub = _from_archive(f.read(), source) if f else None
            if sub is not None:
                subs[alias] = sub
    return ChartData(name=str(meta.get("name", root)), version=str(meta.get("version", "")),
                     app_version=str(meta.get("appVersion", "")),
                     values=_yaml(_read(tar, files.get(f"{root}/values.yaml"))), reads=reads,
                     subcharts=subs, source=source)


def _versions(version: str) -> list[str]:
    return list(dict.fromkeys([version, version.lstrip("v"), "v" + version.lstrip("v")]))


def helm_cache() -> Path:
    """Helm's repository cache (helm pull/repo update put packaged charts there)."""
    base = os.environ.get("HELM_CACHE_HOME") or str(Path.home() / ".cache" / "helm")
    return Path(base) / "repository"


def find_chart(name: str, version: str) -> ChartData | None:
    """The data of chart `name` at `version`, from the first source that has it."""
    named = os.environ.get(DATA_ENV)
    folders = [(Path(named), f"{DATA_ENV} ({named})")] if named else []
    ref = CHARTS.get(name)
    filed = ref.data_name if ref is not None and ref.data_name else name
    for v in _versions(version):
        for base, label in folders:
            for n in dict.fromkeys((name, filed)):
                if (base / f"{n}-{v}" / "values.yaml").exists():
                    return _from_folder(base / f"{n}-{v}", label)
        packed = helm_cache() / f"{name}-{v}.tgz"
        if packed.exists():
            chart = _from_archive(packed.read_bytes(), f"local chart cache ({helm_cache()})")
            if chart is not None:
                return chart
        for n in dict.fromkeys((name, filed)):
            if (SHARED / f"{n}-{v}" / "values.yaml").exists():
                return _from_folder(SHARED / f"{n}-{v}", "../shared/charts")
    return None


# ---------------------------------------------------------------------------------------------
# Declared values


def _read_by_templates(path: str, reads: set[str]) -> bool:
    return any(r == path or r.startswith(path + ".") or path.startswith(r + ".") for r in reads)


def _declared(keys: list[str], defaults: Any) -> bool:
    for k in keys:
        if not isinstance(defaults, dict) or k not in defaults:
            return False
        defaults = defaults[k]
    return True


def undeclared(values: Any, chart: ChartData) -> list[str]:
    """Every path of `values` the chart does not declare (see the module's doc)."""
    return _undeclared(values, chart.values, "", chart.subcharts, chart.reads, "")


def _undeclared(ours: Any, defaults: Any, path: str, subs: Mapping[str, ChartData],
                reads: set[str], prefix: str) -> list[str]:
    if not isinstance(ours, dict):
        return []
    if path and (not isinstance(defaults, dict) or not defaults):
        return []  # free-form below a scalar, a list or an empty map
    missing: list[str] = []
    for key, value in ours.items():
        here = f"{path}.{key}" if path else str(key)
        if not path and key == "global":
            continue
        if not path and key in subs:
            sub = subs[key]
            found = _undeclared(value, sub.values, "", sub.subcharts, sub.reads, f"{key}.")
            # what the parent reads or declares itself (grafana.enabled) is declared too
            missing += [m for m in found if not _read_by_templates(m, reads)
                        and not _declared(m.split("."), defaults)]
            continue
        known = isinstance(defaults, dict) and key in defaults
        if not known and not _read_by_templates(here, reads):
            missing.append(prefix + here)
            continue
        missing += _undeclared(value, defaults.get(key) if known else {}, here, {}, reads,
                               prefix)
    return missing


# ---------------------------------------------------------------------------------------------
# Default image tags


def _image_node(chart: ChartData, image: ChartImage) -> tuple[ChartData, Any]:
    """The chart (or subchart) holding the image's values, and the values block itself."""
    owner, path = chart, list(image.values_path)
    if path and path[0] in chart.subcharts:
        owner, path = chart.subcharts[path[0]], path[1:]
    node: Any = owner.values
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return owner, node


DEVELOPMENT_TAGS = ("main", "master", "latest")
"""Image tags a chart's values hold between releases (its release rewrites them)."""


def default_image(chart: ChartData, image: ChartImage, pinned_version: str) -> tuple[str, str]:
    """(repository, tag) the chart pulls for `image` when the values leave it alone. An empty
    tag is the owning chart's appVersion ("v" added as the chart's templates do); a chart whose
    Chart.yaml still holds development metadata (its version is not the pinned one: the release
    writes both) takes the pinned version as its appVersion, and as the tag where its values
    name that development version too (the release stamps them alike)."""
    owner, node = _image_node(chart, image)
    node = node if isinstance(node, dict) else {}
    if image.style == "nvidia":
        repo = f"{node.get('repository', '')}/{node.get('image', '')}".strip("/")
        tag = str(node.get("version") or "")
    elif image.style == "repository-image-tag":
        repo = f"{node.get('repository', '')}/{node.get('image', '')}".strip("/")
        tag = str(node.get("tag") or "")
    elif image.style == "tagged":
        repo, tag = str(node.get("repository", "")), str(node.get("tag") or "")
        if repo and "." not in repo.split("/", 1)[0]:
            repo = f"docker.io/{repo}"  # a Docker Hub name without its registry (Polaris)
    elif image.style == "jetstack":
        repo = str(node.get("repository") or "") or "/".join(
            str(p) for p in (owner.values.get("imageRegistry"), owner.values.get("imageNamespace"),
                             node.get("name")) if p)
        tag = str(node.get("tag") or "")
    elif image.style == "image-tag":
        repo, tag = str(node.get(image.keys[0]) or ""), str(node.get(image.keys[1]) or "")
        if repo and "." not in repo.split("/", 1)[0]:
            repo = f"docker.io/{repo}"  # a Docker Hub name without its registry
    elif image.style == "reference":
        ref = str(node.get(image.keys[0]) or "")
        repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
    else:
        repo = f"{node.get('registry', '')}/{node.get('repository', '')}".strip("/")
        tag = str(node.get("tag") or "")
    stale = owner is chart and chart.version.lstrip("v") != pinned_version.lstrip("v")
    if stale and tag and (tag in DEVELOPMENT_TAGS or tag.lstrip("v") in (
            chart.version.lstrip("v"), chart.app_version.lstrip("v"))):
        # the values name a development build too (karpenter's at v1.14.1 say 1.13.0, lws's
        # `main`): the release stamps the image tag with the chart's own version
        bare = pinned_version.lstrip("v")
        tag = f"v{bare}" if image.default_tag.startswith("v") else bare
    if not tag:
        app = owner.app_version
        if stale:
            app = pinned_version
        tag = app if app.startswith("v") or not image.default_tag.startswith("v") else f"v{app}"
    return repo, tag


@dataclass(frozen=True)
class ChartProblem:
    """One thing wrong with the values a release passes to its chart."""

    file: str
    release: str
    chart: str
    kind: str
    """'undeclared' (a values path the chart does not read) or 'tag' (an image default)."""
    message: str


@dataclass
class ChartValuesReport:
    """What the chart values check found over a folder of rendered releases."""

    problems: list[ChartProblem] = field(default_factory=list)
    releases: int = 0
    sources: dict[str, str] = field(default_factory=dict)
    """chart-version -> where its data came from."""
    missing: list[str] = field(default_factory=list)
    """chart-version with no data anywhere (not checked)."""
    notes: list[str] = field(default_factory=list)


def _releases(directory: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    for path in sorted(directory.rglob("*.y*ml")):
        if "helm" not in path.parts:
            continue
        doc = _yaml(path.read_text(encoding="utf-8"))
        for release in (doc.get("releases") or []) if isinstance(doc, dict) else []:
            if isinstance(release, dict):
                yield path.relative_to(directory).as_posix(), release


def _image_tags(chart: ChartData, name: str, version: str, file: str,
                release: str) -> tuple[list[ChartProblem], list[str]]:
    problems, notes = [], []
    for image in CHART_IMAGES.get(name, ()):
        repo, tag = default_image(chart, image, version)
        if repo != image.upstream:
            notes.append(f"{name} {version}: the chart data names {repo or 'no image'} at "
                         f"{'.'.join(image.values_path)}, not {image.upstream} (the published "
                         "chart's default is not in the data): its tag is not checked")
            continue
        if tag != image.default_tag:
            problems.append(ChartProblem(
                file, release, f"{name}-{version}", "tag",
                f"{image.upstream}: the chart pulls {tag} by default, but catalog/charts.py "
                f"pins {image.default_tag} (the tag sovereign mirror locks are held to): set "
                f"default_tag to {tag}"))
    return problems, notes


def check_releases(directory: str | Path) -> ChartValuesReport:
    """Every helm release file under `directory` against its chart's data."""
    report = ChartValuesReport()
    seen_notes: set[str] = set()
    for file, release in _releases(Path(directory)):
        report.releases += 1
        chart_ref = str(release.get("chart") or "")
        name = chart_ref.rstrip("/").rsplit("/", 1)[-1]
        version = str(release.get("version") or "")
        key = f"{name}-{version}"
        data = find_chart(name, version)
        if data is None:
            if key not in report.missing:
                report.missing.append(key)
            continue
        report.sources.setdefault(key, data.source)
        label = str(release.get("name") or name)
        for values in release.get("values") or []:
            for path in undeclared(values, data):
                report.problems.append(ChartProblem(
                    file, label, key, "undeclared",
                    f"`{path}` is not a value chart {key} declares (in its values.yaml or "
                    "the paths its templates read): Helm ignores it; remove or rename it"))
        if name in CHARTS:
            problems, notes = _image_tags(data, name, version, file, label)
            report.problems.extend(p for p in problems if p.message not in
                                   {q.message for q in report.problems})
            for note in notes:
                if note not in seen_notes:
                    seen_notes.add(note)
                    report.notes.append(note)
    if report.releases:
        where = sorted(set(report.sources.values()))
        report.notes.insert(0, f"{report.releases} helm releases: values checked against the "
                            f"chart data of {', '.join(sorted(report.sources)) or 'no chart'}"
                            + (f" from {', '.join(where)}" if where else ""))
    if report.missing:
        report.notes.append(f"no chart data for {', '.join(report.missing)}: their values are "
                            f"not checked (put the charts in the local Helm cache, e.g. `helm "
                            f"pull`, or name a folder of chart data in {DATA_ENV})")
    return report
