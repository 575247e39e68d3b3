"""A factory that needs no cloud: host roles and storage in the site's inventory and power, the
site's object storage (MinIO operator, Tenant with KES, buckets), Harbor on the site, and the
sovereign on-prem example end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, SHARED, Recorded

from aifactory.cli import main
from aifactory.plan.recorder import SECRET_MASK
from blueprints.spec import BlueprintError, load
from components.platform.object_store import (
    BucketUser,
    BucketZone,
    SiteObjectStore,
    SiteObjectStoreArgs,
    TenantImages,
    TenantKms,
    bucket_script,
    lifecycle,
)
from components.platform.site_registry import (
    RegistryDatabase,
    RegistryStorage,
    SiteRegistry,
    SiteRegistryArgs,
    proxy_project,
)
from policies.rules import KNOWN_RULES

EXAMPLE = EXAMPLES / "sovereign-onprem.yaml"


def example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return data


def problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    path = tmp_path / "bp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(BlueprintError) as e:
        load(path, rules=KNOWN_RULES)
    return [str(p).replace(str(path), "bp.yaml").split(":", 2)[2].strip()
            for p in e.value.problems]


def check(data: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str],
          *extra: str) -> tuple[int, str]:
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code = main(["check", str(path), *extra])
    captured = capsys.readouterr()
    assert code != 2, captured.err
    return code, captured.out


# ---------------------------------------------------------------------------------------------
# The blueprint: roles, drives, object storage, the registry on a site


def test_storage_host_roles_and_errors(tmp_path: Path) -> None:
    data = example()
    hosts = data["environments"]["dc1"]["hosts"]
    storage = next(h for h in hosts if h.get("role") == "storage")
    del storage["drives"]
    gpu = next(h for h in hosts if h.get("role", "gpu") == "gpu")
    gpu["role"] = "management"
    registry = next(h for h in hosts if h.get("role") == "registry")
    registry["role"] = "gpu"
    found = problems(tmp_path, data)
    assert found == [
        "environments.dc1.hosts[0].role: dgx-b200 is a GPU server (8 x b200): a management host "
        "is a server without GPUs (`aifactory catalog servers` lists them)",
        "environments.dc1.hosts[8].drives: a storage host needs its data drives (count, "
        "size_tb): they are the site's storage capacity",
        "environments.dc1.hosts[12].role: dell-r660 has no GPUs: give the host role storage, "
        "registry or management, or a GPU server model",
    ]


def test_a_pool_cannot_hold_a_storage_host(tmp_path: Path) -> None:
    data = example()
    data["pools"]["dc1-b200"]["hosts"] = ["dc1-dgx01", "dc1-st01"]
    data["pools"]["dc1-b200"].update(min_nodes=1, max_nodes=1)
    data["queueing"]["teams"]["research"]["quotas"]["dc1-b200"]["nominal"] = 4
    data["queueing"]["teams"]["applied"]["quotas"]["dc1-b200"]["nominal"] = 4
    assert problems(tmp_path, data) == [
        "pools.dc1-b200.hosts[1]: 'dc1-st01' is a storage host: a GPU pool runs on gpu hosts"]


def test_object_storage_needs_equal_storage_hosts_and_enough_drives(tmp_path: Path) -> None:
    data = example()
    site = data["environments"]["dc1"]
    site["hosts"][8]["drives"] = {"count": 12, "size_tb": 7.68}
    site["object_storage"]["hosts"] = ["dc1-st01", "dc1-st02", "dc1-reg01", "dc1-nope"]
    assert problems(tmp_path, data) == [  # in the order of their lines
        "environments.dc1.object_storage.hosts: the tenant's pool needs servers with the same "
        "drives, but its hosts have 12 x 7.68 TB, 24 x 15.36 TB: list hosts of one kind",
        "environments.dc1.object_storage.hosts[2]: 'dc1-reg01' is a registry host: the tenant "
        "runs on storage hosts (role: storage)",
        "environments.dc1.object_storage.hosts[3]: 'dc1-nope' is not in the site's inventory",
    ]
    data = example()
    data["environments"]["dc1"]["object_storage"].update(hosts=["dc1-st01"], parity=8)
    data["environments"]["dc1"]["hosts"][8]["drives"]["count"] = 12
    assert problems(tmp_path, data) == [
        "environments.dc1.object_storage.parity: parity 8 needs at least 16 drives, the pool "
        "has 12: lower parity or add storage hosts"]


def test_a_site_lakehouse_and_registry_need_the_sites_object_storage(tmp_path: Path) -> None:
    data = example()
    del data["environments"]["dc1"]["object_storage"]
    data["lakehouse"]["zones"]["raw"]["archive_after_days"] = 90
    data["lakehouse"]["replication"] = {"region": "eu-west-1"}
    assert problems(tmp_path, data) == [
        "environments.dc1.object_storage: required: the PostgreSQL backups of Harbor, MLflow "
        "and Polaris go to the site's object storage; give the MinIO tenant on its storage "
        "hosts",
        "lakehouse.environment: 'dc1' is a site without object storage: give "
        "environments.dc1.object_storage (the MinIO tenant on its storage hosts) to hold the "
        "lakehouse there",
        "lakehouse.zones.raw.archive_after_days: a site's tenant has no archive tier: remove "
        "archive_after_days",
        "lakehouse.replication: a site's tenant does not replicate to a region: remove "
        "replication (site-to-site replication is not built)",
        "registry.site: Harbor on 'dc1' keeps its images in the site's object storage: give "
        "environments.dc1.object_storage (the MinIO tenant on its storage hosts)",
    ]


def test_registry_site_is_required_on_a_site_and_refused_in_a_cloud(tmp_path: Path) -> None:
    data = example()
    del data["registry"]["site"]
    assert problems(tmp_path, data) == [
        "registry.site: required: 'dc1' is a site, so the registry is Harbor on its registry "
        "hosts; give site.hostname, address, tls_secret and the secrets"]
    data = example()
    data["environments"]["aws-eu"] = {
        "kind": "aws", "account_id": "123456789012", "region": "eu-central-1",
        "availability_zones": ["eu-central-1a", "eu-central-1b"]}
    data["registry"]["environment"] = "aws-eu"
    assert problems(tmp_path, data) == [
        "registry.site: 'aws-eu' is aws: its registry is the cloud's own (site describes Harbor "
        "on a site); remove site (a site's setting)"]


def test_the_examples_site_inventory_carries_roles_and_drives() -> None:
    spec = load(EXAMPLE)
    site = spec.environments["dc1"]
    roles = [h.role for h in site.hosts]  # type: ignore[union-attr]
    assert roles.count("gpu") == 8 and roles.count("storage") == 4
    assert roles.count("registry") == 2 and roles.count("management") == 3
    assert [h.drives.raw_tb for h in site.hosts_of("storage")  # type: ignore[union-attr]
            if h.drives] == [368.64] * 4
    # the pool without `hosts` holds the GPU hosts only
    assert spec.pools["dc1-b200"].hosts is None
    assert [h.hostname for h in site.gpu_hosts] == [  # type: ignore[union-attr]
        f"dc1-dgx{i:02d}" for i in range(1, 9)]


# ---------------------------------------------------------------------------------------------
# The object store component


def store_args(**overrides: Any) -> SiteObjectStoreArgs:
    base: dict[str, Any] = dict(
        tenant="acme-dc1", namespace="lakehouse", servers=("st-01", "st-02", "st-03", "st-04"),
        environment="dc1", volumes_per_server=24, drive_tb=15.36,
        storage_class="directpv-min-io",
        parity=4, root_credentials="root:s3cr3t-root",
        kms=TenantKms(kind="vault", endpoint="https://vault.dc1:8200", key_name="acme-lake",
                      credentials="role-id:secret-id", prefix="acme", tls_secret="vault-ca"),
        zones=(BucketZone("raw", "acme-raw-dc1", retention_days=1095),
               BucketZone("curated", "acme-curated-dc1"),
               BucketZone("registry", "acme-registry-dc1", noncurrent_retention_days=7)),
        images=TenantImages(minio="quay.io/minio/minio:RELEASE.2025-04-08T15-41-24Z",
                            kes="quay.io/minio/kes:2025-03-12T09-35-18Z",
                            mc="quay.io/minio/mc:RELEASE.2024-10-02T08-27-28Z"),
        users=(BucketUser("harbor", "acme-registry-dc1", "harbor-key:harbor-s3cr3t"),),
        node_labels={"aifactory.io/role": "storage"})
    base.update(overrides)
    return SiteObjectStoreArgs(**base)


def test_object_store_registers_the_tenant_with_kes_and_its_buckets(run) -> None:  # type: ignore[no-untyped-def]
    rec: Recorded = run(lambda: SiteObjectStore("dc1-object-storage", store_args()))
    store = rec.one("aifactory:platform:SiteObjectStore")
    assert (store.inputs["erasureSetDrives"], store.inputs["usableTb"]) == (16, 1105.92)
    tenant = rec.one("kubernetes:minio.min.io/v2:Tenant")
    assert tenant.protect  # it holds the data
    spec = tenant.inputs["spec"]
    [pool] = spec["pools"]
    assert (pool["servers"], pool["volumesPerServer"]) == (4, 24)
    assert pool["volumeClaimTemplate"]["spec"]["storageClassName"] == "directpv-min-io"
    assert pool["volumeClaimTemplate"]["spec"]["resources"] == {
        "requests": {"storage": "15360G"}}
    assert pool["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == [
            "st-01", "st-02", "st-03", "st-04"]
    assert spec["requestAutoCert"] is True
    assert spec["buckets"] == [{"name": "acme-raw-dc1", "objectLock": True},
                               {"name": "acme-curated-dc1", "objectLock": False},
                               {"name": "acme-registry-dc1", "objectLock": False}]
    assert spec["kes"]["keyName"] == "acme-lake"
    assert spec["kes"]["kesSecret"] == {"name": "acme-dc1-kes-configuration"}
    assert spec["kes"]["clientCertSecret"] == {"name": "vault-ca", "type": "Opaque"}
    assert spec["configuration"] == {"name": "acme-dc1-env-configuration"}
    chart = rec.one("kubernetes:helm.sh/v4:Chart")
    assert (chart.inputs["chart"], chart.inputs["version"]) == ("operator", "7.1.1")
    # every credential is a secret: masked in what was recorded
    text = json.dumps([r.inputs for r in rec.all])
    for plain in ("s3cr3t-root", "secret-id", "harbor-s3cr3t", "harbor-key"):
        assert plain not in text
    env = rec.one("kubernetes:core/v1:Secret", "dc1-object-storage-env-configuration")
    assert env.inputs["stringData"] == {"config.env": SECRET_MASK}
    kes = rec.one("kubernetes:core/v1:Secret", "dc1-object-storage-kes-configuration")
    assert kes.inputs["stringData"] == {"server-config.yaml": SECRET_MASK}
    job = rec.one("kubernetes:batch/v1:Job")
    pod = job.inputs["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert [v["name"] for v in pod["volumes"]] == ["config", "secrets", "cluster-ca", "tmp"]
    assert pod["containers"][0]["env"] == [{"name": "HOME", "value": "/tmp"}]


def test_bucket_job_sets_versioning_lock_lifecycle_and_the_bucket_user() -> None:
    args = store_args()
    assert bucket_script(args.zones, args.users).splitlines()[6:] == [
        "export MC_HOST_lake",
        "until mc --config-dir /tmp/.mc ready lake; do sleep 10; done",
        "mc --config-dir /tmp/.mc mb --ignore-existing --with-lock lake/acme-raw-dc1",
        "mc --config-dir /tmp/.mc version enable lake/acme-raw-dc1",
        "mc --config-dir /tmp/.mc retention set --default GOVERNANCE 1095d lake/acme-raw-dc1",
        "mc --config-dir /tmp/.mc ilm import lake/acme-raw-dc1 < "
        "/config/acme-raw-dc1.lifecycle.json",
        "mc --config-dir /tmp/.mc mb --ignore-existing lake/acme-curated-dc1",
        "mc --config-dir /tmp/.mc version enable lake/acme-curated-dc1",
        "mc --config-dir /tmp/.mc ilm import lake/acme-curated-dc1 < "
        "/config/acme-curated-dc1.lifecycle.json",
        "mc --config-dir /tmp/.mc mb --ignore-existing lake/acme-registry-dc1",
        "mc --config-dir /tmp/.mc version enable lake/acme-registry-dc1",
        "mc --config-dir /tmp/.mc ilm import lake/acme-registry-dc1 < "
        "/config/acme-registry-dc1.lifecycle.json",
        "mc --config-dir /tmp/.mc admin policy create lake harbor-rw "
        "/config/harbor-rw.policy.json",
        'mc --config-dir /tmp/.mc admin user add lake "$(cat /secrets/USER_HARBOR_ACCESS_KEY)" '
        '"$(cat /secrets/USER_HARBOR_SECRET_KEY)"',
        'mc --config-dir /tmp/.mc admin policy attach lake harbor-rw --user '
        '"$(cat /secrets/USER_HARBOR_ACCESS_KEY)" || mc --config-dir /tmp/.mc admin policy '
        'entities lake --user "$(cat /secrets/USER_HARBOR_ACCESS_KEY)" | grep -q harbor-rw',
    ]
    assert lifecycle(args.zones[0]) == {"Rules": [
        {"ID": "expire-after-retention", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Expiration": {"Days": 1095}},
        {"ID": "expire-noncurrent", "Status": "Enabled", "Filter": {"Prefix": ""},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
        {"ID": "abort-incomplete-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]}


@pytest.mark.parametrize(("overrides", "message"), [
    (dict(servers=("st-01", "st-01")), "`servers` (['st-01', 'st-01']) repeats a host: list "
     "each storage host once"),
    (dict(servers=("st-01",), volumes_per_server=4, parity=4), "`parity` (4) needs 8 drives, "
     "the pool has 4: lower parity or add drives"),
    (dict(users=(BucketUser("harbor", "nope", "a:b"),)), "`users`: harbor is allowed bucket "
     "'nope', which the tenant does not have (['acme-curated-dc1', 'acme-raw-dc1', "
     "'acme-registry-dc1'])"),
    (dict(users=(BucketUser("argo", "acme-curated-dc1", "a:b", prefix="/"),)), "`users`: argo "
     "has prefix '/': a prefix is a non-empty key prefix of its one bucket (no `also`)"),
    (dict(users=(BucketUser("argo", "acme-curated-dc1", "a:b", also=("acme-raw-dc1",),
                            prefix="argo"),)), "`users`: argo has prefix 'argo': a prefix is a "
     "non-empty key prefix of its one bucket (no `also`)"),
])
def test_object_store_refuses_bad_arguments(run, overrides: dict[str, Any],  # type: ignore[no-untyped-def]
                                            message: str) -> None:
    from blueprints.errors import ComponentArgsError

    with pytest.raises(ComponentArgsError) as e:
        run(lambda: SiteObjectStore("s", store_args(**overrides)))
    assert str(e.value) == message


# ---------------------------------------------------------------------------------------------
# Harbor


def registry_args(**overrides: Any) -> SiteRegistryArgs:
    base: dict[str, Any] = dict(
        environment="dc1", hostname="registry.dc1.example", address="10.30.0.50",
        namespace="registry", tls_secret="registry-tls", token_secret="registry-token",
        ca_bundle_secret="cluster-ca",
        admin_password="admin-s3cr3t", secret_key="0123456789abcdef",
        database=RegistryDatabase(host="pg.dc1.example", port=5432, name="registry",
                                  username="harbor", password="db-s3cr3t",
                                  sslmode="verify-full"),
        storage=RegistryStorage(endpoint="https://minio.lakehouse.svc.cluster.local",
                                bucket="acme-registry-dc1", credentials="hk:hs3cr3t"),
        storage_class="ceph-rbd", vulnerability_db="registry.dc1.example/mirror/trivy-db",
        projects=("training", "mirror"), proxy_cache=("docker.io", "nvcr.io"))
    base.update(overrides)
    return SiteRegistryArgs(**base)


def test_harbor_values_projects_and_proxy_caches(run) -> None:  # type: ignore[no-untyped-def]
    rec: Recorded = run(lambda: SiteRegistry("dc1-registry", registry_args()))
    chart = rec.one("kubernetes:helm.sh/v4:Chart")
    values = chart.inputs["values"]
    assert (chart.inputs["chart"], chart.inputs["version"]) == ("harbor", "1.19.1")
    assert values["persistence"]["imageChartStorage"] == {
        "type": "s3", "disableredirect": True, "caBundleSecretName": "cluster-ca",
        "s3": {"region": "us-east-1", "bucket": "acme-registry-dc1",
               "regionendpoint": "https://minio.lakehouse.svc.cluster.local",
               "existingSecret": "harbor-storage", "secure": True, "skipverify": False,
               "v4auth": True}}
    assert values["database"] == {"type": "external", "external": {
        "host": "pg.dc1.example", "port": "5432", "username": "harbor",
        "coreDatabase": "registry", "existingSecret": "harbor-database-login",
        "sslmode": "verify-full"}}
    assert values["trivy"]["offlineScan"] is True
    assert values["trivy"]["dbRepository"] == ["registry.dc1.example/mirror/trivy-db"]
    assert values["existingSecretAdminPassword"] == "harbor-admin"
    assert "harborAdminPassword" not in values  # never the chart's public default
    projects = {r.inputs["name"]: r for r in rec.of_type("harbor:index/project:Project")}
    assert sorted(projects) == ["mirror", "proxy-docker-io", "proxy-nvcr-io", "training"]
    assert all(p.protect and p.inputs["vulnerabilityScanning"] for p in projects.values())
    assert len(rec.of_type("harbor:index/immutableTagRule:ImmutableTagRule")) == 2
    upstreams = {r.inputs["name"]: r.inputs["providerName"]
                 for r in rec.of_type("harbor:index/registry:Registry")}
    assert upstreams == {"docker.io": "docker-hub", "nvcr.io": "docker-registry"}
    text = json.dumps([r.inputs for r in rec.all])
    for plain in ("admin-s3cr3t", "0123456789abcdef", "db-s3cr3t", "hs3cr3t"):
        assert plain not in text
    assert proxy_project("registry.k8s.io") == "proxy-registry-k8s-io"


def test_harbor_refuses_a_project_named_like_a_proxy_cache(run) -> None:  # type: ignore[no-untyped-def]
    from blueprints.errors import ComponentArgsError

    with pytest.raises(ComponentArgsError) as e:
        run(lambda: SiteRegistry("r", registry_args(projects=("proxy-docker-io",))))
    assert str(e.value) == ("`projects` ['proxy-docker-io'] clash with proxy-cache projects: "
                            "rename them")


# ---------------------------------------------------------------------------------------------
# The example end to end


def test_the_example_plans_with_its_storage_next_to_its_gpus(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    # 96 drives in erasure sets of 16 at EC:4 keep 12/16 of 1474.56 TB raw
    assert ("Site dc1 (DE): 17 hosts, 64 GPUs, 1474.56 TB raw storage on 4 storage hosts "
            "(1105.92 TB usable in its object storage); 3 management, 2 registry hosts") in out
    assert ("IT load 127.8 kW hosts + 9.0 kW other equipment = 136.8 kW x PUE 1.25 = facility "
            "load 171.0 kW of 220.0 kW budget") in out


def test_the_example_checks_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(example(), tmp_path, capsys)
    assert code == 0, out
    assert "PASSED: 0 mandatory violations, 0 advisories" in out


def test_the_lakehouse_moved_to_a_cloud_fails_the_own_site_rule(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example()
    data["environments"]["aws-eu"] = {
        "kind": "aws", "account_id": "123456789012", "region": "eu-central-1",
        "availability_zones": ["eu-central-1a", "eu-central-1b"]}
    data["lakehouse"]["environment"] = "aws-eu"
    data["model_registry"]["environment"] = "aws-eu"  # MLflow's artifacts follow the lakehouse
    assert problems(tmp_path, data) == [
        "lakehouse.catalog: the teams' namespaces are in queueing.environment 'dc1' (onprem), "
        "the lakehouse in 'aws-eu' (aws): the catalog grants the teams' cloud identities "
        "(IRSA, Workload Identity); queue in the lakehouse's cloud",
        "lakehouse.catalog.site: 'aws-eu' is aws: its catalog is the cloud's (Glue, BigLake); "
        "remove site (a site's setting)",
        "model_registry.storage_credentials: 'aws-eu' is aws: MLflow reaches its bucket "
        "through its workload identity there; remove storage_credentials (a site's setting)",
        "serving.environment: 'dc1' is a site, the lakehouse is in 'aws-eu': a site's models "
        "are read from that site's tenant; serve where the lakehouse is",
        "pipelines.environment: 'dc1' is onprem, the lakehouse is aws: run the pipelines in "
        "the lakehouse's cloud (they reach the catalog through the workload's identity)",
        "pipelines.storage_credentials: 'aws-eu' is aws: Argo reaches its bucket through the "
        "workload identity there; remove storage_credentials (a site's setting)"]
    del data["model_registry"]["storage_credentials"]  # in a cloud: its workload identity
    del data["lakehouse"]["catalog"]  # Glue's would grant cloud identities of the teams
    del data["pipelines"]  # they need the catalog, and run where it is
    # the site's serving reads the site's tenant, which moved away: drop it, and its images
    # from the lock (which names exactly the images the factory pulls)
    del data["serving"]
    from catalog.charts import (
        ARGO_WORKFLOWS,
        CERT_MANAGER,
        ENVOY_GATEWAY,
        KEDA,
        KSERVE,
        POLARIS,
        VLLM_RUNTIME,
        images_of,
    )

    # and the catalog's and the pipelines' images with them
    served = {f"{i.upstream}:{i.default_tag}" for n in (CERT_MANAGER.name, ENVOY_GATEWAY.name,
                                                        KEDA.name, KSERVE.name, VLLM_RUNTIME,
                                                        POLARIS.name, ARGO_WORKFLOWS.name)
              for i in images_of(n)}
    lock = data["sovereignty"]["mirror"]["images"]
    data["sovereignty"]["mirror"]["images"] = {k: v for k, v in lock.items() if k not in served}
    code, out = check(data, tmp_path, capsys)
    assert code == 1
    failed = [line.strip() for line in out.splitlines() if line.strip().startswith("FAILED")]
    assert failed == [
        "FAILED   [high] sovereignty-environment-own-site: environment aws-eu is a cloud "
        "environment (aws eu-central-1) in a factory that keeps everything on its own sites "
        "(sovereignty.own_sites_only); it holds a cluster, the lakehouse: move what it holds "
        "to a site, or drop own_sites_only"]


def test_the_site_moved_out_of_the_eu_is_one_cause(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example()
    data["environments"]["dc1"]["country"] = "CH"
    code, out = check(data, tmp_path, capsys)
    assert code == 1
    lines = [line.strip() for line in out.splitlines()]
    assert [line for line in lines if line.startswith(("CAUSE", "FAILED"))] == [
        "CAUSE    [critical] environments.dc1.country = CH: outside EU (88 violations of 3 "
        "rules)"]
    rules = [line.split(":")[0] for line in lines if line.startswith("- sovereignty-")]
    assert rules == ["- sovereignty-resource-region", "- sovereignty-image-registry-digest",
                     "- sovereignty-chart-image-source"]
    digest = next(line for line in lines if line.startswith("- sovereignty-image-registry"))
    assert "dc1-registry-chart" in digest and "dc1-object-storage-tenant" in digest


def test_the_render_is_strict_valid_and_declares_every_chart_value(tmp_path: Path) -> None:
    tools = SHARED / "tools"
    if not (tools / "validate_crs.py").exists() or not (SHARED / "crds" / "minio.min.io").exists():
        pytest.skip("../shared/tools and ../shared/crds are not here")
    out = tmp_path / "render"
    assert main(["render", str(EXAMPLE), "--out", str(out)]) == 0
    tenant = next(out.rglob("tenant-*.yaml"))
    crs = subprocess.run([sys.executable, str(tools / "validate_crs.py"), "--strict", str(out)],
                         capture_output=True, text=True)
    assert crs.returncode == 0, crs.stdout + crs.stderr
    assert crs.stdout.strip().endswith(", 0 errors"), crs.stdout
    one = subprocess.run([sys.executable, str(tools / "validate_crs.py"), "--strict",
                          str(tenant)], capture_output=True, text=True)
    assert "1 custom resources checked" in one.stdout and ", 0 errors" in one.stdout, one.stdout
    # the shared tool finds chart data by the chart's name; MinIO's operator chart is named
    # `operator` but filed as minio-operator-7.1.1: point a copy at that name
    release = next(out.rglob("*object-storage-operator.yaml"))
    copy_dir = tmp_path / "renamed"
    (copy_dir / "helm").mkdir(parents=True)
    for f in out.rglob("helm/*.yaml"):
        text = f.read_text()
        if f == release:
            text = text.replace("/operator\n", "/minio-operator\n")
        (copy_dir / "helm" / f.name).write_text(text)
    values = subprocess.run([sys.executable, str(tools / "check_chart_values.py"),
                             str(copy_dir)], capture_output=True, text=True)
    assert "15 releases checked, 0 undeclared values, 0 charts without data" in values.stdout, \
        values.stdout
    # no stack secret, nor a secret derived from one (Harbor's internal ones), in plain text
    from components.platform.site_registry import INTERNAL_SECRETS, derived_secret

    plain = ["offline-placeholder", derived_secret("offline-placeholder", "registry-password",
                                                   32)]
    plain += [derived_secret("offline-placeholder", p, n)
              for p, (_, _, n) in INTERNAL_SECRETS.items()]
    for f in out.rglob("*.yaml"):
        text = f.read_text()
        assert not [p for p in plain if p in text], f
    plan = tmp_path / "plan.json"
    assert main(["plan", str(EXAMPLE), "--format", "json", "--out", str(plan)]) == 0
    text = plan.read_text()
    assert not [p for p in plain if p in text]
    assert text.count('"[secret]"') > 50
    # serving's storage initializer reads the tenant as its read-only user, masked
    reader = yaml.safe_load(next(out.rglob("secret-dc1-serving-reader-s3.yaml")).read_text())
    assert reader["stringData"] == {"AWS_ACCESS_KEY_ID": "[secret]",
                                    "AWS_SECRET_ACCESS_KEY": "[secret]"}
    assert reader["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"] == \
        "minio.lakehouse.svc.cluster.local"
    buckets = yaml.safe_load(next(out.rglob("configmap-dc1-object-storage-buckets.yaml"))
                             .read_text())["data"]
    assert json.loads(buckets["serving-ro.policy.json"])["Statement"][0]["Action"] == [
        "s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"]
    assert "admin policy attach lake serving-ro --user" in buckets["setup.sh"]
    # Argo's tenant user reaches its artifacts under argo/ only, never the zone's tables
    argo = json.loads(buckets["argo-rw.policy.json"])["Statement"]
    assert [(st["Action"], st["Resource"]) for st in argo] == [
        (["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
         ["arn:aws:s3:::acme-sovereign-curated-dc1"]),
        (["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts"], ["arn:aws:s3:::acme-sovereign-curated-dc1/argo/*"])]


def test_mirror_lock_lists_the_site_services_images(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mirror", "lock", str(EXAMPLE), "--format", "yaml"]) == 0
    out = capsys.readouterr().out
    for ref in ("quay.io/minio/minio:RELEASE.2025-04-08T15-41-24Z",
                "quay.io/minio/kes:2025-03-12T09-35-18Z",
                "quay.io/minio/mc:RELEASE.2024-10-02T08-27-28Z",
                "quay.io/minio/operator-sidecar:v7.0.1", "docker.io/goharbor/harbor-core:v2.15.1",
                "docker.io/envoyproxy/gateway:v1.9.0",
                "docker.io/envoyproxy/envoy:distroless-v1.39.0"):
        assert ref in out, out



# ---------------------------------------------------------------------------------------------
# The rules on the example's plan


@pytest.fixture(scope="module")
def onprem_plan() -> dict[str, Any]:
    from aifactory.plan.document import plan_blueprint

    return plan_blueprint(load(EXAMPLE), str(EXAMPLE))


def test_own_site_rule_passes_on_a_factory_without_a_cloud(onprem_plan: dict[str, Any]) -> None:
    from datetime import date

    from policies import BY_NAME, evaluate

    result = evaluate(onprem_plan, [BY_NAME["sovereignty-environment-own-site"]],
                      today=date(2026, 12, 1))
    assert [o.state for o in result.outcomes] == ["passed"]
    assert list(result.violations) == []


def test_own_site_rule_does_not_apply_unless_declared(onprem_plan: dict[str, Any]) -> None:
    from datetime import date

    from policies import BY_NAME, evaluate

    plan = json.loads(json.dumps(onprem_plan))
    factory = next(r for r in plan["resources"] if r["type"] == "aifactory:factory:Factory")
    factory["inputs"]["ownSitesOnly"] = False
    result = evaluate(plan, [BY_NAME["sovereignty-environment-own-site"]],
                      today=date(2026, 12, 1))
    assert [o.state for o in result.outcomes] == ["not-applicable"]


def test_the_site_registry_is_the_factorys_own_inside_the_jurisdiction(
        onprem_plan: dict[str, Any]) -> None:
    from policies.registries import allowed_registries
    from policies.view import PlanView

    assert allowed_registries(PlanView(onprem_plan["resources"])) == ["registry.dc1.acme.internal"]
    plan = json.loads(json.dumps(onprem_plan))
    site = next(r for r in plan["resources"] if r["type"] == "aifactory:baremetal:Site")
    site["inputs"]["country"] = "US"
    assert allowed_registries(PlanView(plan["resources"])) == []


def test_mirror_script_copies_the_trivy_databases_and_not_the_tenant_chart(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mirror", "lock", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == [
        "# 4. Trivy's vulnerability databases, for the site registry's offline scans (refresh "
        "them as often as the scans should be current)",
        "oras copy ghcr.io/aquasecurity/trivy-db:2 "
        "registry.dc1.acme.internal/mirror/aquasecurity/trivy-db:2",
        "oras copy ghcr.io/aquasecurity/trivy-java-db:1 "
        "registry.dc1.acme.internal/mirror/aquasecurity/trivy-java-db:1"]
    assert "helm pull operator --repo https://operator.min.io --version 7.1.1" in out
    assert not [line for line in out if line.startswith("helm pull tenant")]


def _evaluate(plan: dict[str, Any], rule: str) -> list[str]:
    from datetime import date

    from policies import BY_NAME, evaluate

    return [v.message for v in evaluate(plan, [BY_NAME[rule]],
                                        today=date(2026, 12, 1)).violations]


def test_harbor_projects_pass_immutable_and_scanned(onprem_plan: dict[str, Any]) -> None:
    assert _evaluate(onprem_plan, "security-registry-immutable-scanned") == []
    assert _evaluate(onprem_plan, "security-data-protected") == []


def test_a_harbor_project_without_its_rule_or_scanning_fails(
        onprem_plan: dict[str, Any]) -> None:
    plan = json.loads(json.dumps(onprem_plan))
    resources = plan["resources"]
    plan["resources"] = [r for r in resources
                         if r["name"] != "dc1-registry-training-immutable"]
    serving = next(r for r in plan["resources"] if r["name"] == "dc1-registry-serving")
    serving["inputs"]["vulnerabilityScanning"] = False
    # a proxy cache follows its upstream's tags: it needs no immutable rule, but it scans
    proxy = next(r for r in plan["resources"] if r["name"] == "dc1-registry-proxy-quay-io")
    proxy["inputs"]["vulnerabilityScanning"] = False
    assert _evaluate(plan, "security-registry-immutable-scanned") == [
        "Harbor project proxy-quay-io does not scan images on push (vulnerabilityScanning "
        "false)",
        "Harbor project serving does not scan images on push (vulnerabilityScanning false)",
        "Harbor project training lets tags move: no enabled immutable tag rule covers every "
        "repository and tag (** / **)"]


def test_an_unprotected_tenant_or_project_fails(onprem_plan: dict[str, Any]) -> None:
    plan = json.loads(json.dumps(onprem_plan))
    for r in plan["resources"]:
        if r["name"] in ("dc1-object-storage-tenant", "dc1-registry-mirror"):
            r["protect"] = False
    assert _evaluate(plan, "security-data-protected") == [
        "Tenant dc1-object-storage-tenant holds data but is not protected: `pulumi destroy` "
        "or a replacement would delete it",
        "Project dc1-registry-mirror holds data but is not protected: `pulumi destroy` or a "
        "replacement would delete it"]


def test_a_tenant_without_kes_is_not_encrypted_at_rest(onprem_plan: dict[str, Any]) -> None:
    assert _evaluate(onprem_plan, "security-storage-encryption-at-rest") == []
    plan = json.loads(json.dumps(onprem_plan))
    tenant = next(r for r in plan["resources"] if r["name"] == "dc1-object-storage-tenant")
    del tenant["inputs"]["spec"]["kes"]
    assert _evaluate(plan, "security-storage-encryption-at-rest") == [
        "Tenant dc1-object-storage-tenant has no KES (spec.kes): its objects are not encrypted "
        "with the site's KMS"]


def test_storage_hosts_join_with_their_role_and_no_gpu_taint() -> None:
    from blueprints.compose import firstboot

    spec = load(EXAMPLE)
    storage = yaml.safe_load(firstboot.render_user_data(spec, "dc1", "dc1-st01"))
    gpu = yaml.safe_load(firstboot.render_user_data(spec, "dc1", "dc1-dgx01"))

    def kubelet(doc: dict[str, Any]) -> str:
        return next(f["content"] for f in doc["write_files"]
                    if "KUBELET_EXTRA_ARGS" in f["content"])

    assert "aifactory.io/role=storage" in kubelet(storage)
    assert "aifactory.io/gpu=" not in kubelet(storage)
    assert "--register-with-taints" not in kubelet(storage)
    assert "--register-with-taints=nvidia.com/gpu=present:NoSchedule" in kubelet(gpu)


def test_kes_configuration_logs_in_to_vault_and_trusts_its_ca() -> None:
    from components.platform.object_store import kes_config

    kms = store_args().kms
    config = json.loads(kes_config(kms, "role-id:secret-id"))
    assert config["keystore"] == {"vault": {
        "endpoint": "https://vault.dc1:8200", "engine": "kv", "version": "v2", "prefix": "acme",
        "approle": {"id": "role-id", "secret": "secret-id", "retry": "15s"},
        "status": {"ping": "10s"}, "tls": {"ca": "/tmp/kes/ca.crt"}}}
    assert config["policy"]["minio"]["identities"] == ["${MINIO_KES_IDENTITY}"]


def test_harbors_internal_secrets_are_ours_stable_and_masked(run) -> None:  # type: ignore[no-untyped-def]
    import bcrypt

    from components.platform.site_registry import derived_secret, htpasswd_line

    rec: Recorded = run(lambda: SiteRegistry("dc1-registry", registry_args()))
    values = rec.one("kubernetes:helm.sh/v4:Chart").inputs["values"]
    assert {k: v for k, v in values["core"].items() if k != "nodeSelector"} == {
        "existingSecret": "harbor-core-internal", "secretName": "registry-token",
        "existingXsrfSecret": "harbor-core-xsrf", "existingXsrfSecretKey": "CSRF_KEY"}
    assert values["jobservice"]["existingSecret"] == "harbor-jobservice-internal"
    assert values["registry"]["existingSecret"] == "harbor-registry-internal"
    assert values["registry"]["credentials"] == {"username": "harbor_registry_user",
                                                 "existingSecret": "harbor-registry-credentials"}
    secrets = {r.inputs["metadata"]["name"]: r.inputs["stringData"]
               for r in rec.of_type("kubernetes:core/v1:Secret")}
    assert secrets["harbor-core-internal"] == {"secret": SECRET_MASK}
    assert secrets["harbor-registry-credentials"] == {"REGISTRY_PASSWD": SECRET_MASK,
                                                      "REGISTRY_HTPASSWD": SECRET_MASK}
    # derived: the same on every render, a different value per purpose, the length Harbor wants
    core = derived_secret("0123456789abcdef", "core", 16)
    assert core == derived_secret("0123456789abcdef", "core", 16)
    assert core != derived_secret("0123456789abcdef", "jobservice", 16)
    assert core != derived_secret("fedcba9876543210", "core", 16)
    assert len(core) == 16 and core.isalnum()
    assert len(derived_secret("k", "xsrf", 32)) == 32
    line = htpasswd_line("harbor_registry_user", "pw", "k")
    assert line == htpasswd_line("harbor_registry_user", "pw", "k")
    user, _, hashed = line.partition(":")
    assert user == "harbor_registry_user" and hashed.startswith("$2b$10$")
    assert bcrypt.checkpw(b"pw", hashed.encode())
    assert not bcrypt.checkpw(b"other", hashed.encode())


def test_harbors_database_on_cloudnative_pg(run) -> None:  # type: ignore[no-untyped-def]
    from components.platform.postgres_cluster import BackupDestination, PostgresClusterArgs

    cluster = PostgresClusterArgs(
        name="harbor-db", namespace="registry", database="registry", owner="harbor",
        password="db-s3cr3t", storage_size="20Gi", storage_class="ceph-rbd",
        backup=BackupDestination(endpoint="https://minio.lakehouse.svc.cluster.local",
                                 bucket="acme-backups-dc1", credentials="pk:ps3cr3t",
                                 ca_secret="cluster-ca"))
    rec: Recorded = run(lambda: SiteRegistry("dc1-registry", registry_args(database=cluster)))
    chart = rec.one("kubernetes:helm.sh/v4:Chart")
    assert chart.inputs["values"]["database"] == {"type": "external", "external": {
        "host": "harbor-db-rw.registry.svc.cluster.local", "port": "5432",
        "username": "harbor", "coreDatabase": "registry",
        "existingSecret": "harbor-database-login", "sslmode": "require"}}
    pg = rec.one("kubernetes:postgresql.cnpg.io/v1:Cluster")
    assert pg.protect and pg.inputs["metadata"]["namespace"] == "registry"
    assert pg.urn in chart.dependencies  # Harbor starts once its database exists
    ns = rec.one("kubernetes:core/v1:Namespace")
    assert ns.urn in pg.dependencies
    text = json.dumps([r.inputs for r in rec.all])
    assert "db-s3cr3t" not in text and "ps3cr3t" not in text
    from blueprints.errors import ComponentArgsError

    with pytest.raises(ComponentArgsError) as e:
        run(lambda: SiteRegistry("r", registry_args(database=PostgresClusterArgs(
            **{**cluster.__dict__, "namespace": "databases"}))))
    assert str(e.value) == ("`database.namespace` ('databases') is not the registry's "
                            "('registry'): Harbor's cluster runs in its namespace")


def test_mlflow_on_a_site_and_its_database_errors(tmp_path: Path) -> None:
    data = example()
    reg = data["model_registry"]
    reg["database"]["instance_class"] = "db.t4g.medium"
    del reg["storage_credentials"]
    del data["environments"]["dc1"]["databases"]
    data["registry"]["site"]["database"]["sslmode"] = "verify-full"
    assert problems(tmp_path, data) == [
        "registry.site.database.sslmode: 'verify-full' needs the server's CA, and "
        "CloudNativePG's own CA signs its certificate: use require, or give `host` for a "
        "server of the site's",
    ]
    del data["registry"]["site"]["database"]["sslmode"]
    assert problems(tmp_path, data) == [
        "environments.dc1.databases: required: Harbor, MLflow and Polaris keep their "
        "PostgreSQL on 'dc1' (CloudNativePG); give databases.backup_credentials and "
        "databases.ca_bundle_secret (backups go to the site's object storage)",
        "model_registry.storage_credentials: required: 'dc1' is a site, so MLflow writes the "
        "models zone as a user of the site's tenant; name the stack secret holding its "
        "'access_key:secret_key'",
        "model_registry.database.instance_class: 'dc1' is a site: its database is a "
        "CloudNativePG cluster, which has no instance class; remove instance_class",
    ]


def test_harbor_keeps_an_external_database_when_it_names_a_host(tmp_path: Path) -> None:
    data = example()
    data["registry"]["site"]["database"]["host"] = "pg.dc1.acme.internal"
    path = tmp_path / "bp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "plan.json"
    assert main(["plan", str(path), "--format", "json", "--out", str(out)]) == 0
    resources = json.loads(out.read_text())["resources"]
    harbor = next(r for r in resources if r["type"] == "aifactory:platform:SiteRegistry")
    assert harbor["inputs"]["database"] == {"host": "pg.dc1.acme.internal", "port": 5432,
                                            "name": "registry", "sslmode": "verify-full",
                                            "kind": "external"}
    # MLflow's and the catalog's databases are still clusters of ours, with their backups
    assert [r["inputs"]["metadata"]["name"] for r in resources
            if r["type"] == "kubernetes:postgresql.cnpg.io/v1:Cluster"] == [
                "catalog-db", "mlflow-db"]


def test_serving_on_a_site_and_its_tenant_user_errors(tmp_path: Path) -> None:
    data = example()
    del data["serving"]["storage_credentials"]
    assert problems(tmp_path, data) == [
        "serving.storage_credentials: required: 'dc1' is a site, so KServe reads the models "
        "zone as a user of the site's tenant; name the stack secret holding its "
        "'access_key:secret_key'"]
    data = example()
    data["environments"]["aws-eu"] = {
        "kind": "aws", "account_id": "123456789012", "region": "eu-central-1",
        "availability_zones": ["eu-central-1a", "eu-central-1b"]}
    data["pools"]["aws-l4"] = {"environment": "aws-eu", "instance_type": "g6.xlarge",
                               "min_nodes": 0, "max_nodes": 2}
    data["serving"]["environment"] = "aws-eu"
    del data["serving"]["gateway_addresses"]
    data["serving"]["models"]["assistant"]["pool"] = "aws-l4"
    assert problems(tmp_path, data) == [
        "serving.environment: 'aws-eu' is aws, the lakehouse is onprem: serve in the "
        "lakehouse's cloud (weights are read through the workload's identity)",
        "serving.storage_credentials: 'aws-eu' is aws: KServe reads the weights through the "
        "workload's identity there; remove storage_credentials (a site's setting)",
        # the example watches assistant's inputs from the site's pipelines
        "pipelines.drift.served_models: the models are served on 'aws-eu', the pipelines run "
        "on 'dc1': the watch's rules run on the pipelines' cluster, whose Prometheus scrapes "
        "its own vLLM only; set serving.environment: dc1"]


def test_serving_on_the_site_reads_the_tenant_as_its_reader(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    assert main(["plan", str(EXAMPLE), "--format", "json", "--out", str(out)]) == 0
    resources = json.loads(out.read_text())["resources"]
    serving = next(r for r in resources if r["type"] == "aifactory:platform:Serving")
    assert (serving["inputs"]["substrate"], serving["inputs"]["gateway"]) == (
        "onprem", "envoy-gateway")
    isvcs = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"]["predictor"]
             for r in resources if r["type"].endswith(":InferenceService")}
    assert {n: (p["serviceAccountName"], p["model"]["storageUri"])
            for n, p in isvcs.items()} == {
        "assistant-v1": ("model-reader", "s3://acme-sovereign-models-dc1/assistant/v1"),
        "assistant-v2": ("model-reader", "s3://acme-sovereign-models-dc1/assistant/v2")}
    gateway = next(r for r in resources if r["type"].endswith("v1:Gateway"))
    assert gateway["inputs"]["spec"]["addresses"] == [{"type": "IPAddress",
                                                       "value": "10.30.0.60"}]
    charts = {r["inputs"]["name"]: r["inputs"]["chart"] for r in resources
              if r["type"] == "kubernetes:helm.sh/v4:Chart"}
    assert charts["envoy-gateway"] == "oci://registry.dc1.acme.internal/mirror/charts/gateway-helm"
