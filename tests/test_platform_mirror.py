"""Sovereign mirror: charts and every chart image come from the mirror, pinned by digest."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from conftest import EXAMPLES, spec_from_yaml

from blueprints.compose.platform import mirror_of, platform_args
from blueprints.errors import ComponentArgsError
from blueprints.spec import load
from catalog.charts import CHART_IMAGES, images_of
from components.platform import ClusterPlatform
from policies.images import images_in

CHART = "kubernetes:helm.sh/v4:Chart"
MIRROR = "europe-west4-docker.pkg.dev/acme-ml-eu/acme-eu-mirror"


def _platforms(spec):  # type: ignore[no-untyped-def]
    def program() -> None:
        for env in ("gcp-eu", "aws-eu"):
            provider = k8s.Provider(f"{env}-k8s", kubeconfig="{}")
            args = platform_args(spec, env, workers={"aws-eu": "kc"}) if env == "gcp-eu" \
                else platform_args(spec, env, api_server="https://aws.example:443")
            ClusterPlatform(f"{env}-platform", args, pulumi.ResourceOptions(providers=[provider]))
    return program


def test_every_chart_and_image_comes_from_the_mirror_by_digest(run) -> None:  # type: ignore[no-untyped-def]
    spec = load(EXAMPLES / "sovereign-eu.yaml")
    rec = run(_platforms(spec))
    charts = rec.of_type(CHART)
    assert len(charts) == 6  # monitoring, gpu-operator, kueue on each of the two clusters
    for chart in charts:
        inputs = chart.inputs
        name = inputs["chart"].rsplit("/", 1)[-1]
        assert inputs["chart"] == f"oci://{MIRROR}/charts/{name}"
        assert "repositoryOpts" not in inputs
        images = list(images_in(inputs["values"]))
        blocks = CHART_IMAGES[name]
        assert len(images) == len(blocks), name
        for image in images:
            assert image.ref.startswith(f"{MIRROR}/"), image
            assert image.pinned, image
    [operator] = [c for c in charts if c.name == "aws-eu-platform-gpu-operator-chart"]
    assert operator.inputs["values"]["devicePlugin"] | {"enabled": True} == {
        "enabled": True, "repository": f"{MIRROR}/nvcr.io/nvidia", "image": "k8s-device-plugin",
        "version": spec.sovereignty.mirror.images[  # type: ignore[union-attr]
            "nvcr.io/nvidia/k8s-device-plugin:v0.20.0"]}
    # v26.7.0: the validator runs the operator's image; operator.initContainer is not read
    digest = spec.sovereignty.mirror.images[  # type: ignore[union-attr]
        "nvcr.io/nvidia/gpu-operator:v26.7.0"]
    for block in ("operator", "validator"):
        assert operator.inputs["values"][block] == {
            "repository": f"{MIRROR}/nvcr.io/nvidia", "image": "gpu-operator",
            "version": digest}
    [monitoring] = [c for c in charts if c.name == "gcp-eu-platform-monitoring-chart"]
    prometheus = monitoring.inputs["values"]["prometheus"]["prometheusSpec"]
    assert prometheus["retention"] == "15d"  # our values stay beside the image
    assert prometheus["image"]["registry"] == MIRROR
    assert prometheus["image"]["repository"] == "quay.io/prometheus/prometheus"
    assert len(prometheus["image"]["sha"]) == 64  # kube-prometheus-stack: bare hex
    [kueue] = [c for c in charts if c.name == "gcp-eu-platform-kueue-chart"]
    image = kueue.inputs["values"]["controllerManager"]["manager"]["image"]
    assert image["repository"] == f"{MIRROR}/registry.k8s.io/kueue/kueue"
    assert image["tag"].startswith("v0.19.2@sha256:")  # the chart takes only a tag


def test_without_a_mirror_charts_come_from_upstream(run, example_spec) -> None:  # type: ignore[no-untyped-def]
    spec = example_spec("cloud-aws")
    assert mirror_of(spec) is None
    env = next(iter(spec.environments))
    rec = run(lambda: ClusterPlatform("p", platform_args(spec, env)))
    assert {c.inputs["chart"] for c in rec.of_type(CHART)} >= {"gpu-operator"}


def _sovereign_with_lock(lock: str) -> str:
    text = (EXAMPLES / "sovereign-eu.yaml").read_text()
    start = text.index("    images:\n")
    end = text.index("\nenvironments:")
    return text[:start] + "    images:\n" + lock + text[end:]


def test_a_missing_lock_entry_fails_at_load_time_naming_image_and_fix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from blueprints.errors import InputError

    text = (EXAMPLES / "sovereign-eu.yaml").read_text()
    path = tmp_path / "eu.yaml"
    path.write_text("\n".join(line for line in text.splitlines()
                              if "quay.io/prometheus/alertmanager:" not in line) + "\n")
    with pytest.raises(InputError) as err:
        load(path)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1)
                if t.strip() == "images:")
    assert str(err.value) == (
        f"{path}:{line}: sovereignty.mirror.images: no entry for quay.io/prometheus/alertmanager "
        "(chart kube-prometheus-stack pulls quay.io/prometheus/alertmanager:v0.28.1): mirror it "
        f"to {MIRROR}/quay.io/prometheus/alertmanager and add "
        "'quay.io/prometheus/alertmanager:v0.28.1: sha256:<digest>' (`aifactory mirror lock` "
        "prints the lock)")


def _retagged(tmp_path, old: str, new: str, extra: str = ""):  # type: ignore[no-untyped-def]
    text = (EXAMPLES / "sovereign-eu.yaml").read_text()
    assert old in text
    text = text.replace(old, new)
    if extra:
        text = text.replace("    images:\n", extra + "    images:\n")
    path = tmp_path / "eu.yaml"
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if new in t)
    return path, line


def test_a_lock_entry_at_another_tag_than_its_chart_pulls_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from blueprints.errors import InputError

    path, line = _retagged(tmp_path, "nvcr.io/nvidia/driver:595.91.07",
                           "nvcr.io/nvidia/driver:580.95.05")
    with pytest.raises(InputError) as err:
        load(path)
    assert str(err.value) == (
        f"{path}:{line}: sovereignty.mirror.images.nvcr.io/nvidia/driver:580.95.05: "
        "nvcr.io/nvidia/driver is locked at 580.95.05, but chart gpu-operator v26.7.0 pulls "
        "595.91.07: mirror nvcr.io/nvidia/driver:595.91.07 and lock that, or name the "
        "repository under sovereignty.mirror.tag_overrides with the reason (`aifactory mirror "
        "lock` prints the lock)")


def test_a_tag_override_on_purpose_is_accepted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = _retagged(tmp_path, "nvcr.io/nvidia/driver:595.91.07",
                        "nvcr.io/nvidia/driver:580.95.05",
                        "    tag_overrides:\n      nvcr.io/nvidia/driver: certified with our "
                        "kernel\n")
    spec = load(path)
    assert spec.sovereignty.mirror.tag_overrides == {  # type: ignore[union-attr]
        "nvcr.io/nvidia/driver": "certified with our kernel"}


def test_a_lock_entry_no_chart_pulls_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from blueprints.errors import InputError

    old = "nvcr.io/nvidia/gpu-operator:v26.7.0: sha256:"
    path, line = _retagged(tmp_path, old, "nvcr.io/nvidia/cuda:13.0.1-base-ubi9: sha256:")
    with pytest.raises(InputError) as err:
        load(path)
    assert f"{path}:{line}: sovereignty.mirror.images.nvcr.io/nvidia/cuda:13.0.1-base-ubi9: " \
        "nvcr.io/nvidia/cuda is not an image the factory's charts (kube-prometheus-stack, " \
        "gpu-operator, kueue, karpenter-crd, karpenter, cert-manager, keda, kserve-crd, " \
        "kserve-resources, vllm-runtime, argo-workflows) and manifests (gpudirect-tcpx) pull: " \
        "remove it from the lock " \
        "(`aifactory mirror lock` prints the lock)" in str(err.value).splitlines()


@pytest.mark.parametrize(("entry", "message"), [
    ("quay.io/prometheus/prometheus: sha256:" + "a" * 64,
     "'quay.io/prometheus/prometheus' has no tag: key the lock by the reference that was "
     "mirrored, e.g. nvcr.io/nvidia/gpu-operator:v26.7.0"),
    ("quay.io/prometheus/prometheus:v3: sha256:abc",
     "quay.io/prometheus/prometheus:v3: digest 'sha256:abc' is not sha256:<64 hex digits>: "
     "give the digest of the mirrored image"),
])
def test_malformed_lock_entries_are_refused(entry, message) -> None:  # type: ignore[no-untyped-def]
    from blueprints.errors import InputError

    with pytest.raises(InputError) as err:
        spec_from_yaml(_sovereign_with_lock(f"      {entry}\n"))
    assert f"sovereignty.mirror.images: {message}" in str(err.value)


def test_a_component_given_no_digest_for_an_image_says_which(run) -> None:  # type: ignore[no-untyped-def]
    from catalog.charts import KUEUE
    from components.platform.mirror import image_mirror, mirrored_values

    mirror = image_mirror("registry.example.eu/m", None, {"quay.io/x/y:v1": "sha256:" + "1" * 64})
    with pytest.raises(ComponentArgsError) as err:
        mirrored_values(KUEUE, {}, mirror)
    assert str(err.value) == (
        "`mirror.images` has no entry for registry.k8s.io/kueue/kueue: mirror it into "
        "registry.example.eu/m/registry.k8s.io/kueue/kueue and add 'registry.k8s.io/kueue/kueue:"
        "<tag>: sha256:<digest>' to sovereignty.mirror.images")


def test_mirror_lock_prints_every_image_and_the_commands(capsys) -> None:  # type: ignore[no-untyped-def]
    from aifactory.cli import main

    assert main(["mirror", "lock", str(EXAMPLES / "sovereign-eu.yaml")]) == 0
    out = capsys.readouterr().out.splitlines()
    copies = [line.split()[2] for line in out if line.startswith("crane copy ")]
    sets = load(EXAMPLES / "sovereign-eu.yaml").platform_image_sets()
    assert sets[-1] == "gpudirect-tcpx"  # the A3 pool's NCCL installer and device injector
    images = [f"{repo}:{tag}" for repo, tag in sorted(
        {(i.upstream, i.default_tag) for name in sets for i in images_of(name)})]
    assert "us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpx/nccl-plugin-gpudirecttcpx-dev:v3.1.8" \
        in images
    # the OCI charts first (kueue, karpenter-crd, karpenter, kserve-crd, kserve-resources), then
    # every image they pull
    assert copies[5:] == images
    assert f"crane copy quay.io/prometheus/prometheus:v3.6.0 {MIRROR}/quay.io/prometheus/" \
        "prometheus:v3.6.0" in out
    assert "helm pull gpu-operator --repo https://helm.ngc.nvidia.com/nvidia --version " \
        "v26.7.0" in out
    assert f'echo "      nvcr.io/nvidia/driver:595.91.07: $(crane digest {MIRROR}/nvcr.io/' \
        'nvidia/driver:595.91.07)"' in out


def test_mirror_lock_works_on_a_stale_lock_and_keeps_known_digests(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from aifactory.cli import main

    text = (EXAMPLES / "sovereign-eu.yaml").read_text().replace(
        "nvcr.io/nvidia/driver:595.91.07", "nvcr.io/nvidia/driver:580.95.05")
    path = tmp_path / "eu.yaml"
    path.write_text(text)
    assert main(["mirror", "lock", str(path), "--format", "yaml"]) == 0
    lock = yaml.safe_load(capsys.readouterr().out)["images"]
    assert lock["nvcr.io/nvidia/driver:595.91.07"] == "sha256:<digest>"  # re-mirror, re-pin
    held = load(EXAMPLES / "sovereign-eu.yaml").sovereignty.mirror.images  # type: ignore[union-attr]
    assert lock["quay.io/prometheus/prometheus:v3.6.0"] == \
        held["quay.io/prometheus/prometheus:v3.6.0"]
