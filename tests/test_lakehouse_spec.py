"""The catalog and pipelines sections of the blueprint: each refusal with the whole message a
user sees, the CLI's exit 2 at `file:line: field: message`, and a catalog outside the
jurisdiction refused by the sovereignty rule (exit 1)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, ROOT

from aifactory.cli import main
from blueprints.spec import BlueprintError, load
from policies import BY_NAME, evaluate

CLOUD_AWS = (EXAMPLES / "cloud-aws.yaml").read_text(encoding="utf-8")
FEATURES = "      features: {zone: features, writers: [data-eng], readers: [research, applied]}\n"


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bp.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BlueprintError) as e:
        load(path)
    return [str(p).replace(str(path), "bp.yaml") for p in e.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_examples_declare_catalog_namespaces_and_pipelines() -> None:
    spec = load(EXAMPLES / "cloud-aws.yaml")
    assert spec.lakehouse is not None and spec.lakehouse.catalog is not None
    assert {n: (ns.zone, ns.writers, ns.readers)
            for n, ns in spec.lakehouse.catalog.namespaces.items()} == {
        "raw": ("raw", ["ingestion"], ["data-eng"]),
        "curated": ("curated", ["data-eng"], ["research"]),
        "features": ("features", ["data-eng"], ["research", "applied"])}
    assert spec.pipelines is not None and spec.pipelines.team == "data-eng"
    assert spec.pipelines.drift is not None and spec.pipelines.drift.team == "applied"
    eu = load(EXAMPLES / "sovereign-eu.yaml")
    assert eu.lakehouse is not None and eu.lakehouse.catalog is not None
    assert eu.pipelines is not None and eu.pipelines.environment == "gcp-eu"


def test_a_namespace_granted_to_a_team_that_does_not_exist(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace(FEATURES, FEATURES.replace("applied]", "aplied]"))
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'aplied]')}: lakehouse.catalog.namespaces.features.readers[1]: "
        "'aplied' is not a team: did you mean 'applied'? teams are ['applied', 'data-eng', "
        "'ingestion', 'research'] (queueing.teams)"]


def test_the_cli_exits_2_on_an_unknown_team(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CLOUD_AWS.replace("writers: [ingestion]", "writers: [marketing]"),
                   encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "aifactory.cli", "check", str(bad)],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 2
    assert run.stderr.splitlines()[0] == (
        f"{bad}:{line_of(bad.read_text(), 'marketing')}: lakehouse.catalog.namespaces.raw."
        "writers[0]: 'marketing' is not a team: teams are ['applied', 'data-eng', 'ingestion', "
        "'research'] (queueing.teams)")
    assert "Traceback" not in run.stderr


def test_a_namespace_in_a_zone_the_lakehouse_lacks(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("raw: {zone: raw,", "raw: {zone: bronze,")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'zone: bronze')}: lakehouse.catalog.namespaces.raw.zone: "
        "'bronze' is not a lakehouse zone: zones are ['curated', 'features', 'models', 'raw']"]


def test_a_reader_that_writes_already(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace(FEATURES, FEATURES.replace("readers: [research,",
                                                        "readers: [data-eng,"))
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'readers: [data-eng, applied]')}: "
        "lakehouse.catalog.namespaces.features.readers[0]: 'data-eng' is a writer already "
        "(writers read too): remove it from readers"]


def test_a_namespace_name_engines_would_need_to_quote(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("      curated: {zone: curated,", "      Curated-X: {zone: curated,")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'Curated-X')}: lakehouse.catalog.namespaces.Curated-X: "
        "'Curated-X' is not a namespace name: lower-case letters, digits and '_', starting "
        "with a letter (e.g. curated_events)"]


def test_the_pipelines_team_must_write_what_the_pipeline_writes(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("curated: {zone: curated, writers: [data-eng], readers: [research]}",
                             "curated: {zone: curated, writers: [research], readers: [data-eng]}")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'stages: {raw: raw')}: pipelines.stages.curated: the "
        "pipelines' team 'data-eng' cannot write namespace 'curated': add it to "
        "lakehouse.catalog.namespaces.curated.writers"]


def test_pipelines_run_where_the_teams_queue(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace("pipelines:                       # Argo Workflows in data-eng's "
                             "namespace, admitted by its Kueue queue\n  environment: aws-prod\n"
                             "  team: data-eng",
                             "pipelines:\n  environment: aws-dev\n  team: data-engineering")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'environment: aws-dev')}: pipelines.environment: 'aws-dev' "
        "is not an environment: declared are ['aws-prod']",
        f"bp.yaml:{line_of(text, 'team: data-engineering')}: pipelines.team: 'data-engineering' "
        "is not a team: did you mean 'data-eng'? teams are ['applied', 'data-eng', "
        "'ingestion', 'research'] (queueing.teams)"]


def test_pipelines_need_the_catalog(tmp_path: Path) -> None:
    start = CLOUD_AWS.index("  catalog:")
    end = CLOUD_AWS.index("\nregistry:")
    text = CLOUD_AWS[:start] + CLOUD_AWS[end:]
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'pipelines:')}: pipelines: needs lakehouse.catalog: the "
        "pipeline reads and writes Iceberg tables through it; add lakehouse.catalog.namespaces"]


def _check(data: dict[str, Any], tmp_path: Path,
           capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code = main(["check", str(path)])
    captured = capsys.readouterr()
    assert code != 2, captured.err
    return code, captured.out


def test_a_catalog_outside_the_jurisdiction_fails_the_sovereignty_rule(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """cloud-aws under an EU jurisdiction: its catalog (Glue databases, Lake Formation
    locations and grants) is in London, each resource judged by its own region."""
    data = yaml.safe_load(CLOUD_AWS)
    data["sovereignty"] = {"jurisdiction": "EU"}
    code, out = _check(data, tmp_path, capsys)
    assert code == 1
    [region] = [line.strip() for line in out.splitlines()
                if line.strip().startswith("- sovereignty-resource-region:")]
    flagged = region.removeprefix("- sovereignty-resource-region: ").split(", ")
    catalog = sorted(n for n in flagged if n.startswith("aws-prod-iceberg-catalog"))
    assert catalog[:3] == ["aws-prod-iceberg-catalog-applied-features-database",
                           "aws-prod-iceberg-catalog-applied-features-tables",
                           "aws-prod-iceberg-catalog-curated"]
    assert {"aws-prod-iceberg-catalog-raw", "aws-prod-iceberg-catalog-raw-location",
            "aws-prod-iceberg-catalog-encryption"} <= set(catalog)
    assert len(catalog) == 24  # 3 databases, 3 locations, encryption, 17 grants


GOLDEN_EU = ROOT / "tests" / "golden" / "sovereign-eu.plan.json"
BIGLAKE = "gcp:biglake/icebergCatalog:IcebergCatalog"


def _eu_plan() -> dict[str, Any]:
    return json.loads(GOLDEN_EU.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_a_biglake_catalog_is_where_its_warehouse_bucket_is() -> None:
    rule = BY_NAME["sovereignty-resource-region"]
    plan = _eu_plan()
    assert [v.message for v in evaluate(plan, [rule]).violations] == []
    moved = copy.deepcopy(plan)
    [cat] = [r for r in moved["resources"] if r["type"] == BIGLAKE]
    bucket = cat["inputs"]["defaultLocation"].removeprefix("gs://")
    for r in moved["resources"]:
        if r["type"] == "gcp:storage/bucket:Bucket" and r["inputs"].get("name") == bucket:
            r["inputs"]["location"] = "US-CENTRAL1"
    messages = [v.message for v in evaluate(moved, [rule]).violations]
    assert f"IcebergCatalog {cat['name']} keeps its tables in us-central1 (its warehouse " \
        "bucket), outside EU (allowed: " in " ".join(messages)


def test_a_catalog_on_a_site_needs_its_server_settings(tmp_path: Path) -> None:
    text = (EXAMPLES / "sovereign-onprem.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    del data["lakehouse"]["catalog"]["site"]
    site = data["lakehouse"]["environment"]
    text = yaml.safe_dump(data, sort_keys=False)
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, '  catalog:')}: lakehouse.catalog.site: required: {site!r} is "
        "a site, so its catalog is a Polaris server there; give site with its "
        "root_credentials, token_key, storage_credentials and database"]


def test_a_site_catalogs_settings_are_refused_in_a_cloud(tmp_path: Path) -> None:
    data = yaml.safe_load(CLOUD_AWS)
    data["lakehouse"]["catalog"]["site"] = {
        "root_credentials": "r", "token_key": "t", "storage_credentials": "s",
        "database": {"password": "p"}}
    text = yaml.safe_dump(data, sort_keys=False)
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, '    site:')}: lakehouse.catalog.site: 'aws-prod' is aws: its "
        "catalog is the cloud's (Glue, BigLake); remove site (a site's setting)"]


def test_the_onprem_example_declares_its_site_catalog() -> None:
    spec = load(EXAMPLES / "sovereign-onprem.yaml")
    assert spec.lakehouse is not None and spec.lakehouse.catalog is not None
    c = spec.lakehouse.catalog.site
    assert c is not None and c.namespace == "iceberg-catalog" and c.replicas == 2
    assert {n: (ns.zone, ns.writers, ns.readers)
            for n, ns in spec.lakehouse.catalog.namespaces.items()} == {
        "raw": ("raw", ["research"], []), "curated": ("curated", ["research"], ["applied"]),
        "features": ("features", ["research"], ["applied"])}
    assert "polaris" in spec.platform_charts()


def test_pipelines_on_a_site_name_their_tenant_user(tmp_path: Path) -> None:
    text = (EXAMPLES / "sovereign-onprem.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    del data["pipelines"]["storage_credentials"]
    text = yaml.safe_dump(data, sort_keys=False)
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'pipelines:')}: pipelines.storage_credentials: required: "
        "'dc1' is a site, so Argo writes its artifacts to the site's tenant as a user of its "
        "own; name the stack secret holding its 'access_key:secret_key'"]
    data = yaml.safe_load(CLOUD_AWS)
    data["pipelines"]["storage_credentials"] = "argo-s3"
    text = yaml.safe_dump(data, sort_keys=False)
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'storage_credentials: argo-s3')}: "
        "pipelines.storage_credentials: 'aws-prod' is aws: Argo reaches its bucket through the "
        "workload identity there; remove storage_credentials (a site's setting)"]


WATCH = "    served_models: [assistant]"


def test_cloud_aws_watches_its_served_model() -> None:
    spec = load(EXAMPLES / "cloud-aws.yaml")
    assert spec.pipelines is not None and spec.pipelines.drift is not None
    assert spec.pipelines.drift.served_models == ["assistant"]
    assert spec.pipelines.drift.served_inputs_zone is None


def test_a_served_model_that_is_not_served(tmp_path: Path) -> None:
    assert WATCH in CLOUD_AWS
    text = CLOUD_AWS.replace(WATCH, "    served_models: [asistant]")
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'served_models: [asistant]')}: "
        "pipelines.drift.served_models[0]: 'asistant' is not a served model: did you mean "
        "'assistant'? models are ['assistant'] (serving.models)"]


def test_served_inputs_in_a_zone_the_lakehouse_lacks(tmp_path: Path) -> None:
    text = CLOUD_AWS.replace(WATCH, WATCH + "\n    served_inputs_zone: logs", 1)
    zones = sorted(yaml.safe_load(CLOUD_AWS)["lakehouse"]["zones"])
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'served_inputs_zone: logs')}: "
        f"pipelines.drift.served_inputs_zone: 'logs' is not a lakehouse zone: zones are {zones}"]


def test_watched_models_without_serving(tmp_path: Path) -> None:
    data = yaml.safe_load(CLOUD_AWS)
    del data["serving"]
    text = yaml.safe_dump(data, sort_keys=False)
    assert ("pipelines.drift.served_models: no models are served: declare serving.models or "
            "remove served_models") in "\n".join(problems(tmp_path, text))


def test_watched_models_served_in_another_environment(tmp_path: Path) -> None:
    # sovereign-eu has two environments: serve on aws-eu, run the pipelines on gcp-eu
    eu = (EXAMPLES / "sovereign-eu.yaml").read_text(encoding="utf-8")
    text = eu.replace(
        "serving:                          # KServe (RawDeployment) with vLLM; every image from "
        "the mirror\n  environment: gcp-eu\n",
        "serving:                          # KServe (RawDeployment) with vLLM; every image from "
        "the mirror\n  environment: aws-eu\n")
    assert "environment: aws-eu\n  proxy_subnet_cidr" in text
    found = "\n".join(problems(tmp_path, text))
    assert ("pipelines.drift.served_models: the models are served on 'aws-eu', the pipelines "
            "run on 'gcp-eu': the watch's rules run on the pipelines' cluster, whose Prometheus "
            "scrapes its own vLLM only; set serving.environment: gcp-eu") in found


@pytest.mark.parametrize("example", ["sovereign-eu", "sovereign-onprem"])
def test_where_requests_cannot_be_logged_the_models_are_still_watched(example: str) -> None:
    spec = load(EXAMPLES / f"{example}.yaml")
    assert spec.pipelines is not None and spec.pipelines.drift is not None
    assert spec.pipelines.drift.served_models == ["assistant"]
    from blueprints.compose.lakehouse import request_logs

    assert request_logs(spec) == {}  # vLLM's histograms only


@pytest.mark.parametrize(("example", "why"), [
    ("sovereign-eu", "KServe 0.20's logger writes gs:// only with a service-account key file "
     "(GOOGLE_APPLICATION_CREDENTIALS), never with GKE workload identity, and the factory issues "
     "no keys"),
    ("sovereign-onprem", "KServe 0.20's logger cannot reach a site's tenant: its agent is "
     "handed the tenant's CA path (AWS_CA_BUNDLE) but only the storage initializer mounts the "
     "CA, and the kserve-resources chart declares no logger CA bundle")])
def test_a_zone_for_logged_requests_where_none_are_logged(tmp_path: Path, example: str,
                                                          why: str) -> None:
    data = yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text(encoding="utf-8"))
    data["pipelines"]["drift"]["served_inputs_zone"] = "curated"
    text = yaml.safe_dump(data, sort_keys=False)
    assert problems(tmp_path, text) == [
        f"bp.yaml:{line_of(text, 'served_inputs_zone:')}: pipelines.drift.served_inputs_zone: "
        f"no requests are logged here ({why}): the models' inputs are watched through vLLM's "
        "histograms; remove served_inputs_zone"]


