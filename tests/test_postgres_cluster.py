"""PostgreSQL on a site: the CloudNativePG operator and a Cluster with its login, its backups to
the site's MinIO tenant and their schedule, recorded as the component registers them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SHARED, Recorded

from aifactory.plan.recorder import SECRET_MASK
from blueprints.errors import ComponentArgsError
from components.platform.mlflow import PostgresConnection
from components.platform.postgres_cluster import (
    BackupDestination,
    PostgresCluster,
    PostgresClusterArgs,
    PostgresOperator,
    PostgresOperatorArgs,
    cluster_spec,
    scheduled_backup_spec,
)

CLUSTER = "postgresql.cnpg.io/v1"


def args(**overrides: Any) -> PostgresClusterArgs:
    base: dict[str, Any] = dict(
        name="mlflow-db", namespace="mlflow", database="mlflow", owner="mlflow",
        password="pg-s3cr3t", storage_size="20Gi", storage_class="ceph-rbd",
        backup=BackupDestination(endpoint="https://minio.lakehouse.svc.cluster.local",
                                 bucket="acme-backups-dc1", credentials="bk:bs3cr3t",
                                 ca_secret="cluster-ca"),
        retention_days=14, schedule="0 30 1 * * *", node_selector={"aifactory.io/role":
                                                                   "management"},
        labels={"aifactory.io/site": "dc1"})
    base.update(overrides)
    return PostgresClusterArgs(**base)


def test_the_cluster_its_login_backups_and_schedule(run) -> None:  # type: ignore[no-untyped-def]
    made: dict[str, PostgresCluster] = {}
    rec: Recorded = run(lambda: made.setdefault("c", PostgresCluster("dc1-mlflow-db", args())))
    component = rec.one("aifactory:platform:PostgresCluster")
    assert component.inputs["backup"] == {"bucket": "acme-backups-dc1", "path": "postgres",
                                          "retentionDays": 14, "schedule": "0 30 1 * * *"}
    cluster = rec.one(f"kubernetes:{CLUSTER}:Cluster")
    assert cluster.protect and cluster.retain_on_delete  # its volumes hold the data
    assert cluster.parent == component.urn
    assert cluster.inputs["metadata"] == {"name": "mlflow-db", "namespace": "mlflow",
                                          "labels": {"aifactory.io/site": "dc1"}}
    spec = cluster.inputs["spec"]
    assert spec["instances"] == 3
    assert spec["imageName"] == "ghcr.io/cloudnative-pg/postgresql:17.8-system-trixie"
    assert spec["storage"] == {"size": "20Gi", "storageClass": "ceph-rbd"}
    assert spec["bootstrap"] == {"initdb": {"database": "mlflow", "owner": "mlflow",
                                            "secret": {"name": "mlflow-db-owner"},
                                            "dataChecksums": True}}
    assert spec["enableSuperuserAccess"] is False
    assert spec["affinity"]["nodeSelector"] == {"aifactory.io/role": "management"}
    assert spec["backup"] == {"retentionPolicy": "14d", "barmanObjectStore": {
        "destinationPath": "s3://acme-backups-dc1/postgres",
        "endpointURL": "https://minio.lakehouse.svc.cluster.local",
        "endpointCA": {"name": "cluster-ca", "key": "ca.crt"},
        "s3Credentials": {
            "accessKeyId": {"name": "mlflow-db-backup", "key": "ACCESS_KEY_ID"},
            "secretAccessKey": {"name": "mlflow-db-backup", "key": "ACCESS_SECRET_KEY"}},
        "wal": {"compression": "gzip", "maxParallel": 2},
        "data": {"compression": "gzip", "jobs": 2}}}
    backup = rec.one(f"kubernetes:{CLUSTER}:ScheduledBackup")
    assert backup.inputs["spec"] == {"schedule": "0 30 1 * * *", "cluster": {"name": "mlflow-db"},
                                     "method": "barmanObjectStore",
                                     "backupOwnerReference": "self", "immediate": True}
    assert cluster.urn in backup.dependencies
    login = rec.named("dc1-mlflow-db-owner")
    assert login.inputs["type"] == "kubernetes.io/basic-auth"
    # a secret value masks the whole map it is in
    assert login.inputs["stringData"] == {"username": SECRET_MASK, "password": SECRET_MASK}
    keys = rec.named("dc1-mlflow-db-backup-credentials")
    assert keys.inputs["stringData"] == {"ACCESS_KEY_ID": SECRET_MASK,
                                         "ACCESS_SECRET_KEY": SECRET_MASK}
    assert {login.urn, keys.urn} <= set(cluster.dependencies)
    text = json.dumps([r.inputs for r in rec.all])
    for plain in ("pg-s3cr3t", "bs3cr3t", "bk:"):
        assert plain not in text
    connection = made["c"].connection
    assert isinstance(connection, PostgresConnection)
    assert (connection.host, connection.database, connection.username, connection.port) == (
        "mlflow-db-rw.mlflow.svc.cluster.local", "mlflow", "mlflow", 5432)
    assert made["c"].app_secret == "mlflow-db-owner"
    assert not rec.of_type("kubernetes:core/v1:Namespace")  # the caller's namespace


def test_the_cluster_can_create_its_namespace(run) -> None:  # type: ignore[no-untyped-def]
    rec: Recorded = run(lambda: PostgresCluster("c", args(create_namespace=True, instances=1)))
    ns = rec.one("kubernetes:core/v1:Namespace")
    assert ns.inputs["metadata"]["name"] == "mlflow"
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ns.urn in rec.one(f"kubernetes:{CLUSTER}:Cluster").dependencies
    assert rec.one(f"kubernetes:{CLUSTER}:Cluster").inputs["spec"]["instances"] == 1


def test_the_operator_chart_is_pinned(run) -> None:  # type: ignore[no-untyped-def]
    rec: Recorded = run(lambda: PostgresOperator("dc1-postgres", PostgresOperatorArgs()))
    chart = rec.one("kubernetes:helm.sh/v4:Chart")
    assert (chart.inputs["chart"], chart.inputs["version"]) == ("cloudnative-pg", "0.29.0")
    assert chart.inputs["repositoryOpts"]["repo"] == "https://cloudnative-pg.github.io/charts"
    assert chart.inputs["namespace"] == "cnpg-system"
    assert chart.inputs["values"] == {
        "replicaCount": 2, "crds": {"create": True},
        "image": {"repository": "ghcr.io/cloudnative-pg/cloudnative-pg", "tag": "1.30.0",
                  "pullPolicy": "IfNotPresent"}}
    assert rec.one("aifactory:platform:PostgresOperator").inputs["chartVersion"] == "0.29.0"


@pytest.mark.parametrize(("overrides", "message"), [
    (dict(name="Harbor_DB"), "`name` ('Harbor_DB') is not a DNS label of at most 50 characters: "
     "use lower-case letters, digits and '-'"),
    (dict(owner="postgres"), "`owner` ('postgres') is the superuser: give the service a role "
     "of its own"),
    (dict(database="my-db"), "`database` ('my-db') is not a PostgreSQL identifier: use "
     "lower-case letters, digits and '_'"),
    (dict(instances=0), "`instances` (0) is below 1: give at least 1 (3 for a primary and two "
     "replicas)"),
    (dict(schedule="0 2 * * *"), "`schedule` ('0 2 * * *') is not a six-field cron expression "
     "(seconds first), e.g. '0 0 2 * * *'"),
    (dict(storage_size="20GB"), "`storage_size` ('20GB') is not a quantity in Mi, Gi or Ti, "
     "e.g. '20Gi'"),
    (dict(retention_days=0), "`retention_days` (0) is outside 1..3650: give the days backups "
     "are kept"),
    (dict(backup=BackupDestination(endpoint="http://minio", bucket="b", credentials="a:b",
                                   ca_secret="ca")),
     "`backup.endpoint` ('http://minio') is not https://: backups reach the tenant over TLS"),
])
def test_arguments_no_cluster_can_be_built_from(run, overrides: dict[str, Any],  # type: ignore[no-untyped-def]
                                                message: str) -> None:
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: PostgresCluster("c", args(**overrides)))
    assert str(e.value) == message


def test_the_objects_are_strict_valid_against_the_upstream_crd(tmp_path: Path) -> None:
    tool = SHARED / "tools" / "validate_crs.py"
    if not tool.exists() or not (SHARED / "crds" / "postgresql.cnpg.io").exists():
        pytest.skip("../shared/tools and ../shared/crds are not here")
    a = args()
    docs = [{"apiVersion": CLUSTER, "kind": "Cluster",
             "metadata": {"name": a.name, "namespace": a.namespace}, "spec": cluster_spec(a)},
            {"apiVersion": CLUSTER, "kind": "ScheduledBackup",
             "metadata": {"name": "mlflow-db-daily", "namespace": a.namespace},
             "spec": scheduled_backup_spec(a)}]
    path = tmp_path / "cnpg.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    out = subprocess.run([sys.executable, str(tool), "--strict", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
    # the ScheduledBackup's CRD is not in ../shared/crds: counted as skipped, not checked
    assert out.stdout.strip() == ("1 custom resources checked, 1 of other kinds skipped, "
                                  "0 errors")
