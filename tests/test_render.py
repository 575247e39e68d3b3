"""`aifactory render`: manifests of our own objects and, beside them, every helm release."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES

from aifactory.render import helm_release, render_manifests


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    from aifactory.plan.document import plan_blueprint
    from blueprints.spec import load

    path = EXAMPLES / "hybrid.yaml"
    out = tmp_path_factory.mktemp("render")
    render_manifests(plan_blueprint(load(path), str(path)), out)
    return out


def test_every_chart_is_written_as_a_helmfile_release(rendered) -> None:  # type: ignore[no-untyped-def]
    files = sorted(p.relative_to(rendered).as_posix()
                   for p in rendered.glob("manifests/*/helm/*.yaml"))
    assert files == [
        "manifests/aws-burst/helm/aws-burst-efa-device-plugin-chart.yaml",
        "manifests/aws-burst/helm/aws-burst-fsx-csi-driver-chart.yaml",
        "manifests/aws-burst/helm/aws-burst-karpenter-chart.yaml",
        "manifests/aws-burst/helm/aws-burst-karpenter-crd-chart.yaml",
        "manifests/aws-burst/helm/aws-burst-platform-gpu-operator-chart.yaml",
        "manifests/aws-burst/helm/aws-burst-platform-kueue-worker-chart.yaml",
        "manifests/aws-burst/helm/aws-burst-platform-monitoring-chart.yaml",
        "manifests/dc1/helm/dc1-network-operator-chart.yaml",
        "manifests/dc1/helm/dc1-platform-gpu-operator-chart.yaml",
        "manifests/dc1/helm/dc1-platform-kueue-chart.yaml",
        "manifests/dc1/helm/dc1-platform-monitoring-chart.yaml",
    ]
    doc = yaml.safe_load((rendered / files[8]).read_text())
    mirror = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/acme-hybrid/mirror"
    assert doc["repositories"] == [{"name": "gpu-operator-oci", "url": f"{mirror}/charts",
                                    "oci": True}]
    [release] = doc["releases"]
    assert {k: release[k] for k in ("name", "namespace", "chart", "version")} == {
        "name": "gpu-operator", "namespace": "gpu-operator",
        "chart": "gpu-operator-oci/gpu-operator", "version": "v26.7.0"}
    [values] = release["values"]
    assert values["driver"]["enabled"] is False and values["toolkit"]["enabled"] is False
    # v26.7.0's validator runs the operator's own image
    assert (values["validator"]["repository"], values["validator"]["image"]) == (
        f"{mirror}/nvcr.io/nvidia", "gpu-operator")


def test_helm_files_are_not_taken_for_kubernetes_objects(rendered) -> None:  # type: ignore[no-untyped-def]
    for path in rendered.glob("manifests/*/helm/*.yaml"):
        doc = yaml.safe_load(path.read_text())
        assert "apiVersion" not in doc and "kind" not in doc, path


def test_secrets_stay_masked_in_rendered_files(rendered) -> None:  # type: ignore[no-untyped-def]
    secret = yaml.safe_load(
        (rendered / "manifests/dc1/secret-dc1-platform-kueue-kubeconfig-aws-burst.yaml")
        .read_text())
    assert secret["stringData"] == {"kubeconfig": "[secret]"}  # keys kept, values masked
    for path in rendered.rglob("*.yaml"):
        text = path.read_text()
        assert "offline-placeholder" not in text and "token:" not in text, path


def test_a_chart_from_an_https_repository() -> None:
    resource = {"name": "mon-chart", "type": "kubernetes:helm.sh/v4:Chart", "inputs": {
        "chart": "kube-prometheus-stack", "version": "78.2.1", "namespace": "monitoring",
        "name": "kube-prometheus-stack",
        "repositoryOpts": {"repo": "https://prometheus-community.github.io/helm-charts"},
        "values": {"grafana": {"enabled": False}, "adminPassword": "[secret]"}}}
    assert helm_release(resource) == {
        "repositories": [{"name": "kube-prometheus-stack",
                          "url": "https://prometheus-community.github.io/helm-charts"}],
        "releases": [{"name": "kube-prometheus-stack", "namespace": "monitoring",
                      "chart": "kube-prometheus-stack/kube-prometheus-stack",
                      "version": "78.2.1",
                      "values": [{"grafana": {"enabled": False}, "adminPassword": "[secret]"}]}]}


def test_render_into_a_file_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from aifactory.cli import main

    target = tmp_path / "out.yaml"
    target.write_text("x")
    assert main(["render", str(EXAMPLES / "cloud-aws.yaml"), "--out", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"error: --out {target}: is a file: name a folder to write the manifests into (a new "
        "one, or one an earlier render wrote)\n")


def test_render_refuses_a_folder_it_did_not_write(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from aifactory.cli import main

    (tmp_path / "notes.txt").write_text("mine")
    assert main(["render", str(EXAMPLES / "cloud-aws.yaml"), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: --out {tmp_path}: the folder holds files aifactory render did not write: "
        "choose a new or empty folder, so stale files of other tools are never checked as the "
        "factory's\n")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_second_render_leaves_no_stale_file(tmp_path: Path) -> None:
    from aifactory.cli import main

    out = tmp_path / "render"
    assert main(["render", str(EXAMPLES / "hybrid.yaml"), "--out", str(out)]) == 0
    firstboot = out / "firstboot"
    assert firstboot.is_dir()
    assert main(["render", str(EXAMPLES / "cloud-aws.yaml"), "--out", str(out)]) == 0
    assert not firstboot.exists() and not (out / "manifests" / "dc1").exists()
    listed = (out / ".aifactory-render").read_text().splitlines()
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                     if p.is_file() and p.name != ".aifactory-render")
    assert listed == on_disk and listed


def test_rendered_secrets_are_strict_valid(rendered) -> None:  # type: ignore[no-untyped-def]
    from policies.checkov_runner import validate_schemas

    secrets = [p for p in rendered.rglob("secret-*.yaml")]
    assert len(secrets) > 30  # BMC credentials, seeds and the MultiKueue kubeconfig
    findings = validate_schemas(rendered).findings
    assert [f for f in findings if f.kind == "Secret"] == []
