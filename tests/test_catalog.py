"""The catalog: generated from the public snapshot, joined with the facts kept in code."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SHARED

import catalog
from aifactory.cli import main
from catalog import cloud
from catalog.charts import CHART_IMAGES, CHARTS, VLLM_RUNTIME

SNAPSHOT = SHARED / "catalog"
needs_snapshot = pytest.mark.skipif(not (SNAPSHOT / "SOURCES.md").exists(),
                                    reason="../shared/catalog (the snapshot) is absent")
needs_charts = pytest.mark.skipif(not (SHARED / "charts").is_dir(),
                                  reason="../shared/charts is absent")


def generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_catalog", ROOT / "scripts" /
                                                  "gen_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_catalog"] = module
    spec.loader.exec_module(module)
    return module


@needs_snapshot
def test_committed_data_is_the_generators_output() -> None:
    expected = generator().render(SNAPSHOT)
    assert (ROOT / "catalog" / "instances.json").read_text(encoding="utf-8") == expected, \
        "catalog/instances.json is not current: run scripts/gen_catalog.py"


@needs_snapshot
def test_every_accelerator_type_of_the_snapshot_is_in_the_catalog() -> None:
    with (SNAPSHOT / "aws-gpu-vms.csv").open() as f:
        aws = {r["InstanceType"] for r in csv.DictReader(f)}
    with (SNAPSHOT / "gcp-gpu-host-vms.csv").open() as f:
        gcp = {r["InstanceType"] for r in csv.DictReader(f)}
    assert len(aws) == 80
    assert {t.name for t in catalog.INSTANCE_TYPES.values() if t.cloud == "aws"} == aws
    assert {t.name for t in catalog.INSTANCE_TYPES.values() if t.cloud == "gcp"} == gcp
    with (SNAPSHOT / "gcp-gpu-vms.csv").open() as f:
        accelerators = {r["AcceleratorName"] for r in csv.DictReader(f)}
    listed = {t.accelerator for t in catalog.INSTANCE_TYPES.values() if t.cloud == "gcp"}
    listed |= set(cloud.load().attachable) | set(cloud.load().tpus)
    assert accelerators <= listed


@needs_snapshot
def test_a_snapshot_row_without_catalog_facts_stops_the_generator(tmp_path: Path) -> None:
    gen = generator()
    for source in SNAPSHOT.iterdir():
        (tmp_path / source.name).write_bytes(source.read_bytes())
    with (tmp_path / "aws-gpu-vms.csv").open("a") as out:
        out.write("x9.48xlarge,Gaudi3,8.0,192.0,2048.0,,10.0,5.0,us-east-1,use1-az1,x86_64\n")
    with pytest.raises(gen.SnapshotError) as e:
        gen.build(tmp_path)
    assert str(e.value) == ("aws-gpu-vms.csv: x9.48xlarge carries 'Gaudi3', which "
                            "catalog/snapshot_map.py does not map to a GPU model")


def test_the_data_names_its_source_and_snapshot_date() -> None:
    source = cloud.load().source
    assert source["repository"] == "skypilot-org/skypilot-catalog"
    assert source["snapshotDate"] == "2026-12-01"
    assert {f["file"] for f in source["files"]} >= {"aws-gpu-vms.csv", "gcp-gpu-vms.csv"}
    assert all(len(f["commit"]) == 40 for f in source["files"])


def test_types_the_examples_name_are_there_with_regions_and_prices() -> None:
    p5 = catalog.instance("p5.48xlarge")
    assert (p5.gpu, p5.gpus, p5.vcpus, p5.memory_gib) == ("h100-sxm5", 8, 192, 2048.0)
    assert {"eu-west-2", "eu-north-1", "us-east-1"} <= p5.regions
    assert "eu-central-1" not in p5.regions
    offer = p5.offer("eu-west-2")
    assert offer is not None
    assert offer.zone_names == ("euw2-az1", "euw2-az2", "euw2-az3")
    assert offer.on_demand_usd_per_hour == 71.552
    assert offer.spot_usd_per_hour == 15.7259  # the median of 15.5259, 15.7259, 16.3251
    a3 = catalog.instance("a3-highgpu-8g")
    # a GCP price is the machine's plus its GPUs': 9.93306 + 101.88413 in europe-west4
    assert a3.price("europe-west4", "on-demand") == 111.81719
    assert cloud.offered_zones(a3, "europe-west4") == ("europe-west4-b", "europe-west4-c")
    for name in ("g6e.12xlarge", "a2-highgpu-1g", "g2-standard-8", "g6.12xlarge"):
        assert catalog.instance(name).regions


def test_quota_classes_and_metrics() -> None:
    assert catalog.instance("p5.48xlarge").quota_keys == ("L-417A185B", "L-7212CCBC")
    assert catalog.instance("g6.xlarge").quota_class == "G"
    assert catalog.instance("trn2.48xlarge").quota_keys == ("L-2C3B7624", "L-6B0D517C")
    assert catalog.instance("inf2.48xlarge").quota_class == "Inf"
    # the snapshot maps p3.2xlarge alone to G; the family counts against P
    assert catalog.instance("p3.2xlarge").quota_class == "P"
    assert catalog.instance("a3-megagpu-8g").quota_keys == (
        "NVIDIA_H100_MEGA_GPUS", "PREEMPTIBLE_NVIDIA_H100_MEGA_GPUS")
    assert catalog.instance("a2-ultragpu-8g").quota_keys == (  # from the snapshot's mapping
        "NVIDIA_A100_80GB_GPUS", "PREEMPTIBLE_NVIDIA_A100_80GB_GPUS")
    metrics = cloud.load().gcp_metrics
    assert {"GPUS_ALL_REGIONS", "NVIDIA_T4_GPUS", "PREEMPTIBLE_NVIDIA_L4_GPUS"} <= metrics


def test_board_power_per_node() -> None:
    assert catalog.instance_board_power_w(catalog.instance("g6.xlarge")) == 72  # 1 x L4
    assert catalog.instance_board_power_w(catalog.instance("g6f.large")) == 9  # 1/8 of an L4
    assert catalog.instance_board_power_w(catalog.instance("p6-b300.48xlarge")) == 8 * 1400
    assert catalog.instance_board_power_w(catalog.instance("trn2.48xlarge")) is None


def test_efa_interfaces_of_aws_types() -> None:
    assert catalog.instance("p5.48xlarge").efa_interfaces == 32
    assert catalog.instance("p5en.48xlarge").efa_interfaces == 16
    assert catalog.instance("p6-b200.48xlarge").efa_interfaces == 8
    assert catalog.instance("g6.xlarge").efa_interfaces is None


def test_newer_hardware_has_its_facts() -> None:
    for model in ("b300", "gb300", "rtx-pro-6000-server", "mi325x", "mi355x", "trainium2"):
        assert catalog.gpu(model).source
    for model in ("dgx-b300", "dgx-gb200", "dgx-gb300", "gb300-nvl72", "rtx-pro-6000-8gpu",
                  "mi355x-8gpu"):
        assert catalog.server_it_load_kw(model, 2000) > 0
    assert catalog.server("mi355x-8gpu").cooling == "liquid"
    assert catalog.instance("p6-b300.48xlarge").gpu == "b300"
    assert catalog.instance("a4-highgpu-8g").gpu == "b200"
    assert catalog.instance("g7e.48xlarge").gpu == "rtx-pro-6000-server"


def test_zones_of_regions() -> None:
    assert cloud.aws_zones("eu-west-3") == ("eu-west-3a", "eu-west-3b", "eu-west-3c")
    assert cloud.aws_zones("ap-northeast-1") == ("ap-northeast-1a", "ap-northeast-1c",
                                                 "ap-northeast-1d")
    assert cloud.gcp_zones("europe-west4") == ("europe-west4-a", "europe-west4-b",
                                               "europe-west4-c")
    assert "us-south1-ai1b" in cloud.gcp_zones("us-south1")  # an AI zone of the snapshot


def test_a_tpu_or_an_attachable_gpu_is_no_pool_type() -> None:
    with pytest.raises(catalog.UnknownCatalogEntryError) as e:
        catalog.instance("tpu-v5p-8")
    assert str(e.value) == ("'tpu-v5p-8' is a TPU slice: pools run GPU machine types "
                            "(a3-highgpu-8g, g2-standard-8, ...); `aifactory catalog instances "
                            "--cloud gcp` lists them")
    with pytest.raises(catalog.UnknownCatalogEntryError) as e:
        catalog.instance("T4")
    assert str(e.value).startswith("'T4' is a GPU GCP attaches to N1 machines")


@needs_charts
def test_chart_image_tags_are_the_charts_own_defaults() -> None:
    from policies.chart_values import default_image, find_chart

    for name, images in CHART_IMAGES.items():
        if name == VLLM_RUNTIME:  # not a chart: the image of our own ServingRuntime
            continue
        ref = CHARTS[name]
        data = find_chart(ref.name, ref.version)
        assert data is not None, name
        for image in images:
            repo, tag = default_image(data, image, ref.version)
            if repo != image.upstream:  # their values at the tag name the staging build
                # MinIO's sidecar, KES and mc are the operator binary's defaults (and its docs'),
                # not values of the chart data: catalog/charts.py names their sources; Envoy
                # Gateway's values template is filled at release (${GatewayImage}), and its
                # proxy image is the controller's built-in default (values leave it empty)
                assert name in ("kueue", "jobset", "lws") or image.upstream in (
                    "quay.io/minio/operator-sidecar", "quay.io/minio/kes", "quay.io/minio/mc",
                    "docker.io/envoyproxy/gateway", "docker.io/envoyproxy/envoy"), image
                continue
            assert tag == image.default_tag, image


# ---------------------------------------------------------------------------------------------
# aifactory catalog


def test_catalog_lists_the_p5_family_with_regions_and_prices(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["catalog", "--cloud", "aws", "--gpu", "h100"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["type", "GPU", "GPUs", "vCPUs", "GiB", "GPU", "kW", "EFA",
                              "region", "zones", "on-demand", "$/h", "spot", "$/h"]
    rows = [line.split() for line in out[1:] if line.startswith("p5")]
    assert {r[0] for r in rows} == {"p5.48xlarge", "p5.4xlarge"}
    assert ["p5.48xlarge", "h100-sxm5", "8", "192", "2048", "5.6", "32", "eu-west-2", "3",
            "71.55", "15.73"] in rows
    assert len([r for r in rows if r[0] == "p5.48xlarge"]) == len(
        catalog.instance("p5.48xlarge").regions)
    assert out[-1].startswith("Prices: USD per hour from the public instance snapshot "
                              "(skypilot-org/skypilot-catalog, read 2026-12-01)")


def test_catalog_gpus_and_servers(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["catalog", "gpus", "--gpu", "l4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["l4", "nvidia", "72", "24", "23"]  # g6, g6f, gr6(f), g2
    assert main(["catalog", "servers", "--gpu", "h100"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["dgx-h100"][:4] == ["dgx-h100", "h100-sxm5", "8", "10.2"]
    assert rows["hgx-h100-8gpu"][3] == "7.6"  # 8 x 700 W + 2 kW overhead


def test_catalog_in_one_region_as_json(capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    assert main(["catalog", "--cloud", "gcp", "--region", "europe-west4", "--gpu", "l4",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    g2 = next(r for r in rows if r["type"] == "g2-standard-8")
    assert g2["zones"] == ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
    assert g2["gpuBoardKw"] == 0.072 and g2["onDemandUsdPerHour"] > 0


def test_catalog_refuses_an_unknown_gpu_or_region(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["catalog", "--gpu", "h1000"]) == 2
    assert capsys.readouterr().err == ("error: --gpu h1000: no GPU model matches; did you "
                                       "mean 'p100'? `aifactory catalog gpus` lists them\n")
    assert main(["catalog", "--cloud", "aws", "--region", "eu-west-9"]) == 2
    assert capsys.readouterr().err == ("error: --region eu-west-9: not a region the catalog "
                                       "knows for aws; did you mean 'eu-west-3'?\n")
