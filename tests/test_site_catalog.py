"""The Iceberg REST catalog on a site (Apache Polaris): its metastore on CloudNativePG, its
Secrets, the chart's values, the bootstrap and setup Jobs and the plan of grants, recorded as
the component registers them; the setup script run against a fake server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import Recorded

from aifactory.plan.recorder import SECRET_MASK
from blueprints.errors import ComponentArgsError
from catalog.charts import POLARIS
from components.iceberg import CatalogNamespaceArgs
from components.platform.postgres_cluster import BackupDestination, PostgresClusterArgs
from components.platform.site_catalog import (
    READER_PRIVILEGES,
    WRITER_PRIVILEGES,
    SiteCatalogArgs,
    SiteIcebergCatalog,
    jdbc_url,
    polaris_values,
    setup_plan,
)

ENDPOINT = "https://minio.lakehouse.svc.cluster.local"


def db(**overrides: Any) -> PostgresClusterArgs:
    base: dict[str, Any] = dict(
        name="catalog-db", namespace="iceberg-catalog", database="polaris", owner="polaris",
        password="pg-s3cr3t", storage_size="20Gi", storage_class="ceph-rbd",
        backup=BackupDestination(endpoint=ENDPOINT, bucket="acme-backups-dc1",
                                 credentials="bk:bs3cr3t", ca_secret="cluster-ca"))
    base.update(overrides)
    return PostgresClusterArgs(**base)


def args(**overrides: Any) -> SiteCatalogArgs:
    base: dict[str, Any] = dict(
        namespace="iceberg-catalog", warehouse="acme",
        zone_buckets={"raw": "acme-raw-dc1", "curated": "acme-curated-dc1",
                      "features": "acme-features-dc1"},
        namespaces=(CatalogNamespaceArgs("raw", "raw", ("research",)),
                    CatalogNamespaceArgs("curated", "curated", ("research",), ("applied",)),
                    CatalogNamespaceArgs("features", "features", ("research",), ("applied",))),
        team_namespaces={"research": "team-research", "applied": "team-applied"},
        s3_endpoint=ENDPOINT, ca_secret="cluster-ca", storage_credentials="pk:ps3cr3t",
        root_credentials="root:r00t-s3cr3t", token_key="k3y-s3cr3t", database=db(),
        admin_image="docker.io/apache/polaris-admin-tool:1.7.0",
        setup_image="docker.io/library/python:3.13.9-slim-trixie",
        labels={"aifactory.io/site": "dc1"})
    base.update(overrides)
    return SiteCatalogArgs(**base)


def test_the_plan_grants_each_team_its_namespaces() -> None:
    plan = setup_plan(args())
    assert plan["storage"] == {
        "storageType": "S3", "endpoint": ENDPOINT, "stsEndpoint": ENDPOINT,
        "pathStyleAccess": True, "region": "us-east-1",
        "allowedLocations": ["s3://acme-curated-dc1/", "s3://acme-features-dc1/",
                             "s3://acme-raw-dc1/"]}
    assert plan["namespaces"] == {"raw": "s3://acme-raw-dc1/raw/",
                                  "curated": "s3://acme-curated-dc1/curated/",
                                  "features": "s3://acme-features-dc1/features/"}
    assert plan["roles"]["raw_writer"] == {"namespace": "raw",
                                           "privileges": list(WRITER_PRIVILEGES)}
    assert plan["roles"]["features_reader"] == {"namespace": "features",
                                                "privileges": list(READER_PRIVILEGES)}
    assert "raw_reader" not in plan["roles"]  # nobody only reads raw
    assert plan["teams"] == {
        "applied": {"namespace": "team-applied", "roles": ["curated_reader", "features_reader"]},
        "research": {"namespace": "team-research",
                     "roles": ["raw_writer", "curated_writer", "features_writer"]}}
    assert "TABLE_WRITE_DATA" not in READER_PRIVILEGES
    assert "s3cr3t" not in json.dumps(plan)


def test_values_name_secrets_never_their_contents() -> None:
    values = polaris_values(args())
    assert values["persistence"] == {"type": "relational-jdbc",
                                     "relationalJdbc": {"secret": {"name": "polaris-metastore"}}}
    assert values["authentication"]["tokenBroker"]["type"] == "symmetric-key"
    assert values["storage"]["secret"]["name"] == "polaris-storage"
    assert values["features"] == {"SUPPORTED_CATALOG_STORAGE_TYPES": ["S3"]}
    assert "s3cr3t" not in json.dumps(values)


def test_the_catalog_its_metastore_secrets_and_jobs(run) -> None:  # type: ignore[no-untyped-def]
    rec: Recorded = run(lambda: SiteIcebergCatalog("dc1-iceberg-catalog", args()))
    component = rec.one("aifactory:platform:SiteIcebergCatalog")
    assert component.inputs["chartVersion"] == POLARIS.version
    cluster = rec.one("kubernetes:postgresql.cnpg.io/v1:Cluster")
    assert cluster.protect
    assert cluster.inputs["spec"]["backup"]["barmanObjectStore"]["destinationPath"] == \
        "s3://acme-backups-dc1/postgres"
    for name in ("metastore", "storage", "token-broker", "root"):
        secret = rec.named(f"dc1-iceberg-catalog-{name}")
        data = secret.inputs["stringData"]
        assert data == SECRET_MASK or set(data.values()) == {SECRET_MASK}, name
    assert jdbc_url(args()) == (
        "jdbc:postgresql://catalog-db-rw.iceberg-catalog.svc.cluster.local:5432/polaris"
        "?sslmode=verify-full&sslrootcert=/cnpg-ca/ca.crt")
    release = rec.one("kubernetes:helm.sh/v4:Chart")
    assert release.inputs["version"] == "1.7.0"
    assert "s3cr3t" not in json.dumps(release.inputs, default=str)
    bootstrap = rec.named("dc1-iceberg-catalog-bootstrap")
    assert bootstrap.inputs["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "bootstrap", "--realm=POLARIS",
        "--credential=POLARIS,$(ROOT_CLIENT_ID),$(ROOT_CLIENT_SECRET)"]
    assert bootstrap.urn in release.dependencies
    setup = rec.named("dc1-iceberg-catalog-setup-job")
    assert setup.inputs["metadata"]["name"].startswith("polaris-setup-")
    assert release.urn in setup.dependencies
    plan = json.loads(rec.named("dc1-iceberg-catalog-setup").inputs["data"]["plan.json"])
    assert plan == setup_plan(args())
    roles = rec.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    assert sorted(r.inputs["metadata"]["namespace"] for r in roles) == ["team-applied",
                                                                        "team-research"]
    assert roles[0].inputs["rules"][1] == {"apiGroups": [""], "resources": ["secrets"],
                                           "resourceNames": ["lakehouse-catalog-credentials"],
                                           "verbs": ["get", "update"]}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"namespaces": (CatalogNamespaceArgs("raw", "bronze", ("research",)),)},
     "namespace 'raw': zone 'bronze' has no bucket (zones are ['curated', 'features', 'raw'])"),
    ({"namespaces": (CatalogNamespaceArgs("raw", "raw", ("ops",)),)},
     "namespace 'raw': team 'ops' has no namespace in `team_namespaces`"),
    ({"database": db(namespace="mlflow")},
     "`database.namespace` ('mlflow') is not the catalog's ('iceberg-catalog'): its metastore "
     "runs there"),
    ({"s3_endpoint": "http://minio"},
     "`s3_endpoint` ('http://minio') is not https://: the tenant is reached over verified TLS"),
])
def test_bad_arguments_are_refused_before_anything_is_made(overrides: dict[str, Any],
                                                            message: str) -> None:
    with pytest.raises(ComponentArgsError) as err:
        SiteIcebergCatalog("c", args(**overrides))
    assert str(err.value) == message


class FakePolaris(BaseHTTPRequestHandler):
    """Just enough of Polaris' API (and the Kubernetes Secrets API) for the setup script."""

    objects: set[str] = set()
    calls: list[tuple[str, str, Any]] = []

    def _reply(self, status: int, body: Any = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw and self.headers["Content-Type"] == "application/json" \
            else raw.decode()
        self.calls.append((method, self.path, body))
        if self.path.endswith("/oauth/tokens"):
            return self._reply(200, {"access_token": "t0k3n"})
        key = f"{method} {self.path} {json.dumps(body, sort_keys=True)}"
        if method == "POST" and self.path.endswith("/principals"):
            if key in self.objects:
                return self._reply(409)
            self.objects.add(key)
            return self._reply(201, {"credentials": {"clientId": "id", "clientSecret": "gen"}})
        if method == "GET":
            return self._reply(200 if key in self.objects else 404)
        if method == "POST" and key in self.objects:
            return self._reply(409)
        self.objects.add(key)
        created = method == "POST" and not self.path.endswith("/namespaces")
        return self._reply(201 if created else 200)

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_GET(self) -> None:
        self._handle("GET")

    def log_message(self, *_: Any) -> None:
        pass


def test_the_setup_script_creates_what_the_plan_names_and_is_idempotent(
        tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    from components.platform.site_catalog import SETUP_SCRIPT

    loaded = importlib.util.spec_from_file_location("catalog_setup", SETUP_SCRIPT)
    assert loaded is not None and loaded.loader is not None
    setup = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(setup)

    server = HTTPServer(("127.0.0.1", 0), FakePolaris)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    plan = setup_plan(args())
    plan["uri"] = f"{base}/api/catalog"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    written: list[tuple[str, str, dict[str, str]]] = []
    monkeypatch.setenv("ROOT_CLIENT_ID", "root")
    monkeypatch.setenv("ROOT_CLIENT_SECRET", "r00t")
    monkeypatch.setattr(setup, "kube_secret", lambda ns, name, data: written.append(
        (ns, name, data)))
    monkeypatch.setattr(setup, "has_kube_secret", lambda ns, name: any(
        w[0] == ns for w in written))
    try:
        setup.main(str(path))
        first = list(FakePolaris.calls)
        setup.main(str(path))
    finally:
        server.shutdown()
    assert ("POST", "/api/management/v1/catalogs", {"catalog": {
        "type": "INTERNAL", "name": "acme",
        "properties": {"default-base-location": "s3://acme-curated-dc1/"},
        "storageConfigInfo": plan["storage"]}}) in first
    assert ("PUT", "/api/management/v1/catalogs/acme/catalog-roles/raw_writer/grants",
            {"grant": {"type": "namespace", "namespace": ["raw"],
                       "privilege": "TABLE_WRITE_DATA"}}) in first
    assert ("PUT", "/api/management/v1/principal-roles/applied/catalog-roles/acme",
            {"catalogRole": {"name": "features_reader"}}) in first
    assert not any(c[1] == "/api/management/v1/principal-roles/applied/catalog-roles/acme"
                   and c[2] == {"catalogRole": {"name": "raw_writer"}} for c in first)
    # each team's credentials written once: the second run finds their Secrets and principals
    assert [(ns, name, data["client_secret"]) for ns, name, data in written] == [
        ("team-applied", "lakehouse-catalog-credentials", "gen"),
        ("team-research", "lakehouse-catalog-credentials", "gen")]
    assert not any(c[1].endswith("/rotate") for c in FakePolaris.calls)
