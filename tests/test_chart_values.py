"""Values passed to upstream charts are ones the charts declare (policies.chart_values)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, SHARED

from aifactory.plan.document import plan_blueprint
from aifactory.render import render_manifests
from blueprints.spec import load
from policies import chart_values
from policies.chart_values import check_releases, find_chart, undeclared

needs_charts = pytest.mark.skipif(not (SHARED / "charts").is_dir(),
                                  reason="../shared/charts is absent")


def rendered(tmp_path: Path, stem: str) -> Path:
    out = tmp_path / stem
    path = EXAMPLES / f"{stem}.yaml"
    render_manifests(plan_blueprint(load(path), str(path)), out)
    return out


@needs_charts
@pytest.mark.parametrize("stem", ["cloud-aws", "cloud-gcp", "hybrid", "sovereign-eu", "pilot"])
def test_every_example_passes_only_values_its_charts_declare(tmp_path: Path, stem: str) -> None:
    report = check_releases(rendered(tmp_path, stem))
    assert report.problems == []
    assert report.missing == []
    assert set(report.sources.values()) == {"../shared/charts"}
    # the platform's three charts per cluster kind, Karpenter's two where EKS pools are elastic,
    # cloud-aws's JobSet and KubeRay operators, and its serving (cert-manager, KEDA, the
    # KServe CRDs and controller, Envoy Gateway), MLflow and JupyterHub; the EFA device plugin
    # where a pool has EFA (cloud-aws, hybrid), the network operator on hybrid's site and the
    # FSx CSI driver of hybrid's training storage;
    # sovereign-eu's serving on GKE (cert-manager, KEDA, the KServe CRDs and controller; GKE's
    # own Gateway controller); Argo Workflows where the blueprint has pipelines (cloud-aws,
    # sovereign-eu)
    assert report.releases == {"cloud-aws": 16, "cloud-gcp": 3, "hybrid": 11,
                               "sovereign-eu": 13, "pilot": 10}[stem]


@needs_charts
def test_a_value_the_chart_does_not_read_is_reported(tmp_path: Path) -> None:
    out = rendered(tmp_path, "cloud-gcp")
    path = out / "manifests/gcp-prod/helm/gcp-prod-platform-gpu-operator-chart.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["releases"][0]["values"][0]["cdi"]["default"] = True  # what v26.7.0 stopped reading
    doc["releases"][0]["values"][0]["node-feature-discovery"]["wroker"] = {}
    path.write_text(yaml.safe_dump(doc))
    report = check_releases(out)
    assert [(p.release, p.kind, p.message) for p in report.problems] == [
        ("gpu-operator", "undeclared", "`cdi.default` is not a value chart gpu-operator-v26.7.0 "
         "declares (in its values.yaml or the paths its templates read): Helm ignores it; "
         "remove or rename it"),
        ("gpu-operator", "undeclared", "`node-feature-discovery.wroker` is not a value chart "
         "gpu-operator-v26.7.0 declares (in its values.yaml or the paths its templates read): "
         "Helm ignores it; remove or rename it")]


def chart_folder(base: Path, values: dict, reads: list[str], version: str = "0.19.2",
                 app: str = "v0.19.2") -> Path:
    d = base / f"kueue-{version}"
    d.mkdir(parents=True)
    (d / "Chart.yaml").write_text(yaml.safe_dump({"name": "kueue", "version": version,
                                                  "appVersion": app}))
    (d / "values.yaml").write_text(yaml.safe_dump(values))
    (d / "template-values-paths.txt").write_text("\n".join(reads) + "\n")
    return d


def release_dir(base: Path, values: dict) -> Path:
    helm = base / "render" / "manifests" / "env" / "helm"
    helm.mkdir(parents=True)
    (helm / "env-platform-kueue-chart.yaml").write_text(yaml.safe_dump({"releases": [{
        "name": "kueue", "chart": "kueue-oci/kueue", "version": "0.19.2",
        "values": [values]}]}))
    return base / "render"


def test_declared_values_free_form_maps_and_template_reads(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(chart_values.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "no-cache"))
    chart_folder(tmp_path / "data", {"controllerManager": {"manager": {"image": {
        "repository": "registry.k8s.io/kueue/kueue", "tag": "v0.19.2"}}},
        "podLabels": {}, "replicas": 1}, ["enablePrometheus", "kueueViz.backend"])
    data = find_chart("kueue", "0.19.2")
    assert data is not None and data.source.startswith(chart_values.DATA_ENV)
    assert undeclared({"podLabels": {"team": "a"},   # free-form below an empty map
                       "enablePrometheus": True,     # read by the templates only
                       "kueueViz": {"backend": {"x": 1}},
                       "global": {"anything": 1},
                       "controllerManager": {"manager": {"image": {"tag": "v1"},
                                                         "imgae": {}}},
                       "replica": 2}, data) == [
        "controllerManager.manager.imgae", "replica"]


def test_the_chart_data_comes_from_the_local_helm_cache(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(chart_values.DATA_ENV, raising=False)
    cache = tmp_path / "helm"
    (cache / "repository").mkdir(parents=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in {
            "kueue/Chart.yaml": "name: kueue\nversion: 0.19.2\nappVersion: v0.19.2\n",
            "kueue/values.yaml": "replicas: 1\nmetrics: {}\n",
            "kueue/templates/deploy.yaml": "replicas: {{ .Values.replicas }}\n"
                                           "{{ if .Values.extra.flag }}x{{ end }}\n",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    (cache / "repository" / "kueue-0.19.2.tgz").write_bytes(buf.getvalue())
    monkeypatch.setenv("HELM_CACHE_HOME", str(cache))
    report = check_releases(release_dir(tmp_path, {"replicas": 2, "extra": {"flag": True},
                                                   "stray": 1}))
    assert report.sources == {"kueue-0.19.2": f"local chart cache ({cache / 'repository'})"}
    assert [p.message.split("`")[1] for p in report.problems
            if p.kind == "undeclared"] == ["stray"]
    assert report.notes[0] == (f"1 helm releases: values checked against the chart data of "
                               f"kueue-0.19.2 from local chart cache ({cache / 'repository'})")


def test_a_chart_default_tag_other_than_the_catalogs_pin_is_reported(tmp_path: Path,
                                                                      monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(chart_values.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "no-cache"))
    chart_folder(tmp_path / "data", {"controllerManager": {"manager": {"image": {
        "repository": "registry.k8s.io/kueue/kueue", "tag": "v0.19.3"}}}}, [])
    report = check_releases(release_dir(tmp_path, {}))
    assert [(p.kind, p.message) for p in report.problems] == [(
        "tag", "registry.k8s.io/kueue/kueue: the chart pulls v0.19.3 by default, but "
        "catalog/charts.py pins v0.19.2 (the tag sovereign mirror locks are held to): set "
        "default_tag to v0.19.3")]


def test_no_chart_data_is_said_plainly(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(chart_values.DATA_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "no-cache"))
    monkeypatch.setattr(chart_values, "SHARED", tmp_path / "none")
    report = check_releases(release_dir(tmp_path, {"x": 1}))
    assert report.problems == [] and report.missing == ["kueue-0.19.2"]
    assert report.notes[-1].startswith("no chart data for kueue-0.19.2: their values are not "
                                       "checked")


@needs_charts
def test_check_manifests_reports_chart_values_by_rule(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from aifactory.cli import main

    out = rendered(tmp_path, "cloud-gcp")
    path = out / "manifests/gcp-prod/helm/gcp-prod-platform-gpu-operator-chart.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["releases"][0]["values"][0]["cdi"]["default"] = True
    path.write_text(yaml.safe_dump(doc))
    code = main(["check", str(EXAMPLES / "cloud-gcp.yaml"), "--manifests", str(out),
                 "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    [v] = [v for v in report["violations"] if v["rule"] == "manifest-chart-values-declared"]
    assert v["message"] == (
        "manifests/gcp-prod/helm/gcp-prod-platform-gpu-operator-chart.yaml: "
        "gpu-operator-v26.7.0: `cdi.default` is not a value chart gpu-operator-v26.7.0 declares "
        "(in its values.yaml or the paths its templates read): Helm ignores it; remove or "
        "rename it")
    assert v["resource"] == "gcp-prod-platform-gpu-operator-chart"
    assert any("values checked against the chart data of gpu-operator-v26.7.0, "
               "kube-prometheus-stack-78.2.1, kueue-0.19.2 from ../shared/charts" in n
               for n in report["notes"])
