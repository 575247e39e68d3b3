"""The lakehouse beyond its buckets, built directly and recorded: the Iceberg catalog on AWS
(Glue, Lake Formation, a role per team) and on GCP (BigLake, grants per namespace), each team's
catalog identity, Argo Workflows with the example pipeline, and the drift watch."""

from __future__ import annotations

import json
import py_compile
from dataclasses import replace
from pathlib import Path

import pytest

from blueprints.errors import ComponentArgsError
from catalog.charts import ARGO_WORKFLOWS
from components.aws.iceberg_catalog import (
    CatalogTeam,
    IcebergCatalog,
    IcebergCatalogArgs,
    team_policy,
)
from components.aws.location import AwsLocation
from components.gcp.iceberg_catalog import GcpIcebergCatalogArgs
from components.gcp.iceberg_catalog import IcebergCatalog as GcpIcebergCatalog
from components.iceberg import CatalogNamespaceArgs, grants
from components.platform.drift import DriftWatch, DriftWatchArgs, alert_groups
from components.platform.lakehouse_access import (
    CatalogConnection,
    LakehouseAccess,
    LakehouseAccessArgs,
    TeamAccess,
)
from components.platform.pipelines import (
    STEPS_DIR,
    ArtifactRepository,
    Pipelines,
    PipelinesArgs,
    PipelineStagesArgs,
    pipelines_values,
)

LOC = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
KEY = "arn:aws:kms:eu-west-2:123456789012:key/k"
NAMESPACES = (
    CatalogNamespaceArgs("raw", "raw", writers=("ingestion",), readers=("data-eng",)),
    CatalogNamespaceArgs("curated", "curated", writers=("data-eng",), readers=("research",)),
    CatalogNamespaceArgs("features", "features", writers=("data-eng",),
                         readers=("research", "applied")),
)
TEAMS = {t: CatalogTeam(namespace=f"team-{t}") for t in ("applied", "data-eng", "ingestion",
                                                          "research")}
IMAGE = "registry.example/pipelines@sha256:" + "a" * 64
PERMISSIONS = "aws:lakeformation/permissions:Permissions"


def aws_args(**kw: object) -> IcebergCatalogArgs:
    args = IcebergCatalogArgs(
        location=LOC, factory="acme-aws", name_prefix="acme-aws-prod",
        zone_buckets={z: f"acme-aws-{z}" for z in ("raw", "curated", "features")},
        kms_key_arn=KEY, namespaces=NAMESPACES, teams=TEAMS,
        oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks/x",
        oidc_issuer="oidc.eks.eu-west-2.amazonaws.com/id/X")
    return replace(args, **kw)  # type: ignore[arg-type]


def test_grants_split_writers_and_readers() -> None:
    assert grants(NAMESPACES) == {
        "applied": {"features": "read"},
        "data-eng": {"curated": "write", "features": "write", "raw": "read"},
        "ingestion": {"raw": "write"},
        "research": {"curated": "read", "features": "read"}}


def test_aws_catalog_databases_in_the_zone_buckets_protected_in_region(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: IcebergCatalog("aws-prod-iceberg-catalog", aws_args()))
    dbs = {r.inputs["name"]: r for r in rec.of_type("aws:glue/catalogDatabase:CatalogDatabase")}
    assert sorted(dbs) == ["acme_aws_curated", "acme_aws_features", "acme_aws_raw"]
    raw = dbs["acme_aws_raw"]
    assert (raw.inputs["locationUri"], raw.inputs["region"], raw.protect) == (
        "s3://acme-aws-raw/raw/", "eu-west-2", True)
    enc = rec.one("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings")
    settings = enc.inputs["dataCatalogEncryptionSettings"]
    assert settings["encryptionAtRest"] == {"catalogEncryptionMode": "SSE-KMS",
                                            "sseAwsKmsKeyId": KEY}
    locations = rec.of_type("aws:lakeformation/resource:Resource")
    assert sorted(r.inputs["arn"] for r in locations) == [
        "arn:aws:s3:::acme-aws-curated/curated", "arn:aws:s3:::acme-aws-features/features",
        "arn:aws:s3:::acme-aws-raw/raw"]
    assert {r.inputs["hybridAccessEnabled"] for r in locations} == {False}
    component = rec.one("aifactory:aws:IcebergCatalog")
    assert component.inputs["endpoint"] == "https://glue.eu-west-2.amazonaws.com/iceberg"


def test_aws_lake_formation_grants_per_team_and_namespace(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: IcebergCatalog("c", aws_args()))
    granted = {r.name: sorted(r.inputs["permissions"]) for r in rec.of_type(PERMISSIONS)}
    assert granted["c-ingestion-raw-tables"] == ["ALTER", "DELETE", "DESCRIBE", "DROP",
                                                 "INSERT", "SELECT"]
    assert granted["c-ingestion-raw-location"] == ["DATA_LOCATION_ACCESS"]
    assert granted["c-data-eng-raw-tables"] == ["DESCRIBE", "SELECT"]
    assert granted["c-data-eng-raw-database"] == ["DESCRIBE"]
    assert "c-data-eng-raw-location" not in granted  # a reader gets no data location
    assert granted["c-applied-features-tables"] == ["DESCRIBE", "SELECT"]
    # nothing granted on what the blueprint does not name
    assert not [n for n in granted if n.startswith(("c-applied-raw", "c-applied-curated",
                                                    "c-research-raw", "c-ingestion-curated"))]
    assert len(granted) == 2 * 7 + 3  # database + tables per grant, a location per writer
    assert {r.inputs["region"] for r in rec.of_type(PERMISSIONS)} == {"eu-west-2"}


def test_aws_team_policy_reaches_only_its_namespaces() -> None:
    policy = json.loads(team_policy(aws_args(), "research", KEY))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert sorted(by_sid) == ["ReadGrantedNamespaces", "VendedTableCredentials"]
    assert by_sid["ReadGrantedNamespaces"]["Resource"] == [
        "arn:aws:glue:eu-west-2:123456789012:catalog",
        "arn:aws:glue:eu-west-2:123456789012:database/acme_aws_curated",
        "arn:aws:glue:eu-west-2:123456789012:table/acme_aws_curated/*",
        "arn:aws:glue:eu-west-2:123456789012:database/acme_aws_features",
        "arn:aws:glue:eu-west-2:123456789012:table/acme_aws_features/*"]
    writer = json.loads(team_policy(aws_args(), "ingestion", KEY))
    write = next(s for s in writer["Statement"] if s["Sid"] == "WriteOwnNamespaces")
    assert write["Resource"] == ["arn:aws:glue:eu-west-2:123456789012:database/acme_aws_raw",
                                 "arn:aws:glue:eu-west-2:123456789012:table/acme_aws_raw/*"]


def test_aws_team_role_trusts_its_namespace_service_account(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: IcebergCatalog("c", aws_args()))
    role = rec.named("c-research-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    cond = trust["Statement"][0]["Condition"]["StringEquals"]
    assert cond["oidc.eks.eu-west-2.amazonaws.com/id/X:sub"] == [
        "system:serviceaccount:team-research:lakehouse"]
    assert role.inputs["name"] == "acme-aws-prod-lakehouse-research"


def test_aws_catalog_refuses_an_unknown_zone_or_team(run) -> None:  # type: ignore[no-untyped-def]
    bad = (CatalogNamespaceArgs("raw", "bronze", writers=("ingestion",)),)
    with pytest.raises(ComponentArgsError, match=r"IcebergCatalog c: namespace 'raw' is in "
                       r"zone 'bronze', which has no bucket \(zones: \['curated', 'features', "
                       r"'raw'\]\)"):
        run(lambda: IcebergCatalog("c", aws_args(namespaces=bad)))
    stranger = (CatalogNamespaceArgs("raw", "raw", writers=("nobody",)),)
    with pytest.raises(ComponentArgsError, match="names team 'nobody'"):
        run(lambda: IcebergCatalog("c", aws_args(namespaces=stranger)))


def gcp_args() -> GcpIcebergCatalogArgs:
    return GcpIcebergCatalogArgs(
        project="acme-ml-eu", project_number="271828182845", catalog_name="acme-eu-lakehouse",
        zone_buckets={z: f"acme-eu-{z}-acme-ml-eu" for z in ("raw", "curated", "features")},
        namespaces=NAMESPACES,
        team_namespaces={t: f"team-{t}" for t in ("applied", "data-eng", "ingestion",
                                                  "research")})


def test_gcp_biglake_catalog_vends_credentials_and_refuses_deletion(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: GcpIcebergCatalog("gcp-eu-iceberg-catalog", gcp_args()))
    cat = rec.one("gcp:biglake/icebergCatalog:IcebergCatalog")
    i = cat.inputs
    assert (i["catalogType"], i["credentialMode"], i["deletionPolicy"], cat.protect) == (
        "CATALOG_TYPE_BIGLAKE", "CREDENTIAL_MODE_VENDED_CREDENTIALS", "PREVENT", True)
    assert i["defaultLocation"] == "gs://acme-eu-raw-acme-ml-eu"
    assert i["restrictedLocationsConfig"]["restrictedLocations"] == [
        "gs://acme-eu-curated-acme-ml-eu", "gs://acme-eu-features-acme-ml-eu"]
    nss = {r.inputs["namespaceId"]: r for r in rec.of_type(
        "gcp:biglake/icebergNamespace:IcebergNamespace")}
    assert nss["curated"].inputs["properties"]["location"] == (
        "gs://acme-eu-curated-acme-ml-eu/curated")
    assert {r.protect for r in nss.values()} == {True}


def test_gcp_grants_per_namespace_to_the_team_identity(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: GcpIcebergCatalog("c", gcp_args()))
    members = sorted((r.inputs["namespaceId"], r.inputs["role"], r.inputs["member"].rsplit(
        "/ns/", 1)[1]) for r in rec.of_type(
        "gcp:biglake/icebergNamespaceIamMember:IcebergNamespaceIamMember"))
    assert members == [
        ("curated", "roles/biglake.editor", "team-data-eng/sa/lakehouse"),
        ("curated", "roles/biglake.viewer", "team-research/sa/lakehouse"),
        ("features", "roles/biglake.editor", "team-data-eng/sa/lakehouse"),
        ("features", "roles/biglake.viewer", "team-applied/sa/lakehouse"),
        ("features", "roles/biglake.viewer", "team-research/sa/lakehouse"),
        ("raw", "roles/biglake.editor", "team-ingestion/sa/lakehouse"),
        ("raw", "roles/biglake.viewer", "team-data-eng/sa/lakehouse"),
    ]
    # the catalog's own service account (credential vending) may use the zone buckets
    assert sorted(r.inputs["bucket"] for r in rec.of_type(
        "gcp:storage/bucketIAMMember:BucketIAMMember")) == [
        "acme-eu-curated-acme-ml-eu", "acme-eu-features-acme-ml-eu", "acme-eu-raw-acme-ml-eu"]


def test_lakehouse_access_service_accounts_and_catalog_connection(run) -> None:  # type: ignore[no-untyped-def]
    connection = CatalogConnection(
        uri="https://glue.eu-west-2.amazonaws.com/iceberg", warehouse="123456789012",
        properties={"rest.sigv4-enabled": "true", "rest.signing-name": "glue",
                    "rest.signing-region": "eu-west-2"})
    rec = run(lambda: LakehouseAccess("a", LakehouseAccessArgs(
        teams=[TeamAccess("research", "team-research",
                          {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"})],
        connection=connection, namespaces={"features": "acme_aws_features"})))
    sa = rec.one("kubernetes:core/v1:ServiceAccount").inputs["metadata"]
    assert (sa["name"], sa["namespace"], sa["annotations"]) == (
        "lakehouse", "team-research", {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"})
    data = rec.one("kubernetes:core/v1:ConfigMap").inputs["data"]
    assert data == {
        "LAKEHOUSE_NAMESPACE_FEATURES": "acme_aws_features",
        "PYICEBERG_CATALOG__LAKEHOUSE__REST__SIGNING_NAME": "glue",
        "PYICEBERG_CATALOG__LAKEHOUSE__REST__SIGNING_REGION": "eu-west-2",
        "PYICEBERG_CATALOG__LAKEHOUSE__REST__SIGV4_ENABLED": "true",
        "PYICEBERG_CATALOG__LAKEHOUSE__TYPE": "rest",
        "PYICEBERG_CATALOG__LAKEHOUSE__URI": "https://glue.eu-west-2.amazonaws.com/iceberg",
        "PYICEBERG_CATALOG__LAKEHOUSE__WAREHOUSE": "123456789012"}


def pipelines_args(**kw: object) -> PipelinesArgs:
    args = PipelinesArgs(
        namespace="team-data-eng", team="data-eng", image=IMAGE,
        artifacts=ArtifactRepository(kind="s3", bucket="acme-aws-curated", region="eu-west-2",
                                     endpoint="s3.eu-west-2.amazonaws.com"),
        stages=PipelineStagesArgs(raw="acme_aws_raw", curated="acme_aws_curated",
                                  features="acme_aws_features", table="events"),
        schedule="0 2 * * *")
    return replace(args, **kw)  # type: ignore[arg-type]


def test_argo_workflows_pinned_one_namespace_sdk_credentials_no_server() -> None:
    values = pipelines_values(pipelines_args())
    assert values["controller"]["workflowNamespaces"] == ["team-data-eng"]
    assert values["server"] == {"enabled": False}
    assert values["useStaticCredentials"] is False
    s3 = values["artifactRepository"]["s3"]
    assert (s3["bucket"], s3["useSDKCreds"], s3["region"]) == (
        "acme-aws-curated", True, "eu-west-2")
    assert s3["keyFormat"].startswith("argo/")
    assert values["controller"]["serviceMonitor"] == {"enabled": True}
    assert values["workflow"]["serviceAccount"] == {"create": False, "name": "lakehouse"}


def test_the_template_is_a_real_workflow_template_admitted_by_the_team_queue(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Pipelines("aws-prod-pipelines", pipelines_args()))
    chart = rec.one("kubernetes:helm.sh/v4:Chart").inputs
    assert (chart["chart"], chart["version"], chart["namespace"]) == (
        "argo-workflows", ARGO_WORKFLOWS.version, "argo")
    t = rec.one("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate").inputs
    spec = t["spec"]
    assert spec["podMetadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "default"
    assert spec["serviceAccountName"] == "lakehouse"
    dag = spec["templates"][0]["dag"]["tasks"]
    assert [(x["name"], x.get("depends")) for x in dag] == [
        ("curate", None), ("features", "curate.Succeeded")]
    curate = spec["templates"][1]["container"]
    assert curate["image"] == IMAGE
    assert curate["command"] == ["python", "/steps/curate.py"]
    env = {e["name"]: e["value"] for e in curate["env"]}
    assert (env["RAW_NAMESPACE"], env["CURATED_NAMESPACE"]) == ("acme_aws_raw",
                                                               "acme_aws_curated")
    cron = rec.one("kubernetes:argoproj.io/v1alpha1:CronWorkflow").inputs["spec"]
    assert cron["schedules"] == ["0 2 * * *"]
    assert cron["workflowSpec"]["workflowTemplateRef"] == {"name": "lakehouse-raw-to-features"}
    steps = rec.one("kubernetes:core/v1:ConfigMap").inputs["data"]
    assert sorted(steps) == ["curate.py", "drift.py", "features.py", "served_drift.py"]


def test_pipelines_refuse_an_unpinned_image(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError, match=r"`image` \('python:3.12'\) is not pinned by "
                       "digest"):
        run(lambda: Pipelines("p", pipelines_args(image="python:3.12")))


@pytest.mark.parametrize("script", sorted(p.name for p in STEPS_DIR.glob("*.py")))
def test_the_steps_scripts_compile(script: str, tmp_path: Path) -> None:
    py_compile.compile(str(STEPS_DIR / script), cfile=str(tmp_path / "x.pyc"), doraise=True)


def drift_args(**kw: object) -> DriftWatchArgs:
    args = DriftWatchArgs(pipelines=pipelines_args(), schedule="0 * * * *",
                          alert_team="applied", threshold=0.3)
    return replace(args, **kw)  # type: ignore[arg-type]


def test_drift_watch_emits_metrics_and_alerts_the_owning_team(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: DriftWatch("aws-prod-drift", drift_args()))
    cron = rec.one("kubernetes:argoproj.io/v1alpha1:CronWorkflow").inputs
    assert cron["metadata"]["namespace"] == "team-data-eng"
    spec = cron["spec"]["workflowSpec"]
    assert spec["podMetadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "default"
    step = spec["templates"][0]
    assert step["container"]["command"] == ["python", "/steps/drift.py"]
    gauges = {m["name"]: m for m in step["metrics"]["prometheus"]}
    assert sorted(gauges) == ["lakehouse_feature_drift_share", "lakehouse_feature_missing_share"]
    assert gauges["lakehouse_feature_drift_share"]["gauge"]["value"] == (
        "{{outputs.parameters.drift_share}}")
    rule = rec.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]
    alerts = {r["alert"]: r for r in rule["groups"][0]["rules"]}
    assert alerts["LakehouseFeatureDrift"]["expr"] == (
        'max(argo_workflows_lakehouse_feature_drift_share{table="events",'
        'namespace_name="acme_aws_features"}) > 0.3')
    assert {r["labels"]["team"] for r in alerts.values()} == {"applied"}


def test_drift_thresholds_are_shares(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError, match=r"`threshold` \(1.5\)"):
        run(lambda: DriftWatch("d", drift_args(threshold=1.5)))
    assert alert_groups(drift_args(threshold=0.5))[0]["rules"][0]["expr"].endswith("> 0.5")


def test_an_unprotected_catalog_database_fails_security_data_protected() -> None:
    from conftest import ROOT

    from policies import BY_NAME, evaluate

    plan = json.loads((ROOT / "tests/golden/cloud-aws.plan.json").read_text(encoding="utf-8"))
    rule = BY_NAME["security-data-protected"]
    assert [v.message for v in evaluate(plan, [rule]).violations] == []
    db = next(r for r in plan["resources"]
              if r["type"] == "aws:glue/catalogDatabase:CatalogDatabase")
    db["protect"] = False
    assert [v.message for v in evaluate(plan, [rule]).violations] == [
        f"CatalogDatabase {db['name']} holds data but is not protected: `pulumi destroy` or a "
        "replacement would delete it"]


def test_the_plan_shows_each_namespace_with_its_zone_and_teams() -> None:
    from conftest import EXAMPLES

    from aifactory.plan.document import plan_blueprint
    from aifactory.plan.format import render
    from blueprints.spec import load

    path = EXAMPLES / "cloud-aws.yaml"
    plan = plan_blueprint(load(path), str(path))
    assert plan["summary"]["catalogNamespaces"] == [
        {"environment": "aws-prod", "namespace": "curated", "zone": "curated",
         "writers": ["data-eng"], "readers": ["research"]},
        {"environment": "aws-prod", "namespace": "features", "zone": "features",
         "writers": ["data-eng"], "readers": ["applied", "research"]},
        {"environment": "aws-prod", "namespace": "raw", "zone": "raw",
         "writers": ["ingestion"], "readers": ["data-eng"]}]
    text = render(plan)
    assert "  aws-prod     features   features  data-eng   applied, research" in text


SITE_ARTIFACTS = ArtifactRepository(
    kind="s3", bucket="acme-sovereign-curated-dc1", region="us-east-1",
    endpoint="minio.lakehouse.svc.cluster.local", credentials="argo-key:argo-s3cr3t",
    ca_secret="cluster-ca")


def test_on_a_site_argo_writes_the_tenant_with_its_own_user_over_verified_tls(run) -> None:  # type: ignore[no-untyped-def]
    from aifactory.plan.recorder import SECRET_MASK

    args = pipelines_args(artifacts=SITE_ARTIFACTS, catalog_secret="lakehouse-catalog-credentials")
    values = pipelines_values(args)
    assert values["useStaticCredentials"] is True
    assert values["artifactRepository"]["s3"] == {
        "bucket": "acme-sovereign-curated-dc1", "endpoint": "minio.lakehouse.svc.cluster.local",
        "region": "us-east-1", "insecure": False,
        "keyFormat": 'argo/{{ "{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}" }}',
        "accessKeySecret": {"name": "argo-artifacts", "key": "accessKey"},
        "secretKeySecret": {"name": "argo-artifacts", "key": "secretKey"},
        "caSecret": {"name": "cluster-ca", "key": "ca.crt"}}
    rec = run(lambda: Pipelines("dc1-pipelines", args))
    keys = rec.named("dc1-pipelines-artifacts-credentials")
    assert keys.inputs["metadata"]["namespace"] == "team-data-eng"
    assert keys.inputs["stringData"] in (SECRET_MASK, {"accessKey": SECRET_MASK,
                                                       "secretKey": SECRET_MASK})
    assert "s3cr3t" not in json.dumps([r.inputs for r in rec.all], default=str)
    curate = rec.one("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate").inputs["spec"][
        "templates"][1]["container"]
    assert curate["env"][-1] == {
        "name": "PYICEBERG_CATALOG__LAKEHOUSE__CREDENTIAL",
        "valueFrom": {"secretKeyRef": {"name": "lakehouse-catalog-credentials",
                                       "key": "credential"}}}


def test_a_site_artifact_store_needs_its_credentials_and_ca(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as err:
        run(lambda: Pipelines("p", pipelines_args(artifacts=replace(SITE_ARTIFACTS,
                                                                    ca_secret=None))))
    assert str(err.value) == ("a site's artifact store needs kind s3, `credentials` and "
                              "`ca_secret`: give all three, or none in a cloud")
