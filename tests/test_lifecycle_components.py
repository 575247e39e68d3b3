"""The lifecycle's components, built directly and recorded: serving (KServe, its gateway, the
models with canary and rollback), alert routing, Grafana, MLflow with its database, notebooks."""

from __future__ import annotations

import json
from dataclasses import replace

import pulumi
import pytest

from aifactory.plan.recorder import SECRET_MASK
from blueprints.errors import ComponentArgsError
from catalog.charts import CERT_MANAGER, ENVOY_GATEWAY, KEDA, KSERVE, MLFLOW
from components.aws.database import PostgresDatabase, PostgresDatabaseArgs
from components.aws.location import AwsLocation
from components.platform.alerts import (
    AlertReceiver,
    AlertRouteArgs,
    AlertRouting,
    AlertRoutingArgs,
    route_spec,
)
from components.platform.common import NodeTaint
from components.platform.mlflow import ArtifactStore, Mlflow, MlflowArgs, PostgresConnection
from components.platform.monitoring import Monitoring, MonitoringArgs, monitoring_values
from components.platform.notebooks import NotebookProfile, Notebooks, NotebooksArgs
from components.platform.served_model import Revision, ServedModelArgs, deployed_revisions
from components.platform.serving import Serving, ServingArgs, SiteModelStore

CHART = "kubernetes:helm.sh/v4:Chart"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
SECRET = "kubernetes:core/v1:Secret"


def model(**kw: object) -> ServedModelArgs:
    base = ServedModelArgs(
        model="chat", namespace="", pool="infer-l4", runtime="", gateway="",
        service_account="", prometheus_url="", current=Revision("v3", "s3://models/chat/3"),
        last_good=Revision("v2", "s3://models/chat/2"), canary_percent=10,
        gpus_per_replica=2, min_replicas=1, max_replicas=8, team="applied",
        taints=(NodeTaint("nvidia.com/gpu", "present"),))
    return replace(base, **kw)  # type: ignore[arg-type]


def serving(substrate: str = "aws", **kw: object) -> ServingArgs:
    args = ServingArgs(substrate=substrate,  # type: ignore[arg-type]
                       namespace="serving", models=(model(),),
                       identity={"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"})
    return replace(args, **kw)  # type: ignore[arg-type]


# -- served models: canary, rollback ---------------------------------------------------------


def test_a_canary_runs_both_revisions_sized_by_their_share() -> None:
    d = deployed_revisions(model())
    assert [(x.revision.revision, x.min_replicas, x.max_replicas, x.weight) for x in d] == [
        ("v2", 1, 8, 90), ("v3", 1, 1, 10)]
    d = deployed_revisions(model(canary_percent=50))
    assert [(x.revision.revision, x.max_replicas, x.weight) for x in d] == [
        ("v2", 8, 50), ("v3", 4, 50)]


def test_rollback_serves_the_last_good_revision_only() -> None:
    d = deployed_revisions(model(rollback=True))
    assert [(x.revision.revision, x.max_replicas, x.weight) for x in d] == [("v2", 8, 100)]


def test_without_canary_the_new_revision_serves_everything() -> None:
    d = deployed_revisions(model(canary_percent=0))
    assert [(x.revision.revision, x.weight) for x in d] == [("v3", 100)]


def test_serving_on_eks(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Serving("aws-prod-serving", serving()))
    charts = {r.inputs["chart"]: r.inputs for r in rec.of_type(CHART)}
    assert sorted(charts) == sorted([CERT_MANAGER.chart, KEDA.chart, KSERVE.chart,
                                     "oci://ghcr.io/kserve/charts/kserve-crd",
                                     ENVOY_GATEWAY.chart])
    kserve = charts[KSERVE.chart]
    assert kserve["version"] == "v0.20.0"
    assert kserve["values"]["kserve"]["controller"]["deploymentMode"] == "RawDeployment"
    assert kserve["values"]["kserve"]["certManager"] == {"enabled": True}
    assert charts[CERT_MANAGER.chart]["values"] == {"crds": {"enabled": True}}
    gateway = rec.one(GATEWAY).inputs["spec"]
    assert gateway["gatewayClassName"] == "envoy-gateway"
    assert gateway["infrastructure"]["annotations"][
        "service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"
    cls = rec.one("kubernetes:gateway.networking.k8s.io/v1:GatewayClass").inputs
    assert cls["spec"] == {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"}
    reader = rec.one("kubernetes:core/v1:ServiceAccount").inputs["metadata"]
    assert reader["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"}
    runtime = rec.one("kubernetes:serving.kserve.io/v1alpha1:ServingRuntime").inputs["spec"]
    assert runtime["containers"][0]["image"] == "docker.io/vllm/vllm-openai:v0.11.0"

    services = {r.inputs["metadata"]["name"]: r.inputs for r in rec.of_type(ISVC)}
    assert sorted(services) == ["chat-v2", "chat-v3"]
    v3 = services["chat-v3"]
    assert v3["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    predictor = v3["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 1)
    assert predictor["nodeSelector"] == {"aifactory.io/pool": "infer-l4"}
    assert predictor["model"]["resources"]["limits"] == {"nvidia.com/gpu": "2"}
    assert predictor["model"]["storageUri"] == "s3://models/chat/3"
    assert predictor["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal",
                                         "value": "present", "effect": "NoSchedule"}]
    route = rec.one(ROUTE).inputs["spec"]
    assert route["parentRefs"] == [{"name": "serving"}]
    assert route["rules"][0]["backendRefs"] == [
        {"name": "chat-v2-predictor", "port": 80, "weight": 90},
        {"name": "chat-v3-predictor", "port": 80, "weight": 10}]
    rules = rec.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]
    alerts = {r["alert"]: r for r in rules["groups"][0]["rules"]}
    assert sorted(alerts) == ["ServingErrorRatioHigh", "ServingLatencyP95High",
                              "ServingQueueDeep"]
    assert alerts["ServingLatencyP95High"]["labels"] == {"severity": "warning",
                                                         "model": "chat", "team": "applied"}
    monitor = rec.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs["spec"]
    assert monitor["selector"]["matchExpressions"] == [
        {"key": "serving.kserve.io/inferenceservice", "operator": "In",
         "values": ["chat-v2", "chat-v3"]}]


def test_serving_on_gke_uses_the_gke_gateway_controller(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Serving("gcp-eu-serving", serving("gcp", identity={})))
    assert ENVOY_GATEWAY.chart not in {r.inputs["chart"] for r in rec.of_type(CHART)}
    assert rec.one(GATEWAY).inputs["spec"]["gatewayClassName"] == "gke-l7-rilb"
    assert rec.of_type("kubernetes:gateway.networking.k8s.io/v1:GatewayClass") == []


TENANT = SiteModelStore(endpoint="https://minio.lakehouse.svc.cluster.local",
                        credentials=pulumi.Output.secret("serving-user:reader-secret-123"))


def test_serving_on_a_site_announces_its_addresses(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Serving("dc1-serving", serving("onprem", identity={}, site_store=TENANT,
                                                     gateway_addresses=("10.0.0.50",))))
    assert rec.one(GATEWAY).inputs["spec"]["addresses"] == [
        {"type": "IPAddress", "value": "10.0.0.50"}]
    with pytest.raises(ComponentArgsError, match="a site's Gateway needs the addresses"):
        run(lambda: Serving("dc1-serving", serving("onprem", identity={}, site_store=TENANT)))


def test_serving_on_a_site_reads_the_tenant_as_kserve_documents(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Serving("dc1-serving", serving("onprem", identity={}, site_store=TENANT,
                                                     gateway_addresses=("10.0.0.50",))))
    secret = rec.one(SECRET).inputs
    assert secret["metadata"]["name"] == "model-reader-s3"
    assert secret["metadata"]["annotations"] == {
        "serving.kserve.io/s3-endpoint": "minio.lakehouse.svc.cluster.local",
        "serving.kserve.io/s3-usehttps": "1", "serving.kserve.io/s3-verifyssl": "1",
        "serving.kserve.io/s3-region": "us-east-1",
        "serving.kserve.io/s3-useanoncredential": "false",
        "serving.kserve.io/s3-cabundle-configmap": "kube-root-ca.crt",
        "serving.kserve.io/s3-cabundle": "/etc/ssl/custom-certs/ca.crt"}
    assert secret["stringData"] == {"AWS_ACCESS_KEY_ID": SECRET_MASK,
                                    "AWS_SECRET_ACCESS_KEY": SECRET_MASK}
    reader = rec.one("kubernetes:core/v1:ServiceAccount").inputs
    assert (reader["metadata"]["name"], reader["secrets"]) == (
        "model-reader", [{"name": "model-reader-s3"}])
    isvc = rec.of_type(ISVC)[0].inputs["spec"]["predictor"]
    assert isvc["serviceAccountName"] == "model-reader"
    dump = json.dumps([r.inputs for r in rec.all])
    assert "reader-secret-123" not in dump and "serving-user" not in dump


def test_serving_on_a_site_needs_its_tenant(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: Serving("dc1-serving", serving("onprem", identity={},
                                                   gateway_addresses=("10.0.0.50",))))
    assert str(e.value) == ("`site_store` is None: a site has no workload identity; give the "
                            "tenant (endpoint, credentials) the weights are read from")
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: Serving("s", serving(site_store=TENANT)))
    assert str(e.value) == ("`site_store` on aws: a cloud reads the weights through "
                            "`identity`; leave site_store out")
    plain = replace(TENANT, endpoint="http://minio.lakehouse.svc.cluster.local")
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: Serving("dc1-serving", serving("onprem", identity={}, site_store=plain,
                                                   gateway_addresses=("10.0.0.50",))))
    assert str(e.value) == ("`site_store.endpoint` ('http://minio.lakehouse.svc.cluster.local')"
                            " is not https://: the credentials never cross plain HTTP")


def test_mirrored_serving_on_a_site_pulls_envoy_from_the_mirror(run) -> None:  # type: ignore[no-untyped-def]
    from catalog.charts import images_of
    from components.platform.mirror import image_mirror

    names = [ENVOY_GATEWAY.name, CERT_MANAGER.name, KEDA.name, KSERVE.name, "vllm-runtime"]
    lock = {f"{i.upstream}:{i.default_tag}": "sha256:" + "ab" * 32
            for n in names for i in images_of(n)}
    mirror = image_mirror("registry.dc1.example/mirror", None, lock)
    rec = run(lambda: Serving("dc1-serving", serving(
        "onprem", identity={}, site_store=TENANT, gateway_addresses=("10.0.0.50",),
        mirror=mirror)))
    envoy = next(r for r in rec.of_type(CHART) if r.inputs["chart"].endswith("gateway-helm"))
    images = envoy.inputs["values"]["global"]["images"]
    digest = "@sha256:" + "ab" * 32
    assert images == {
        "envoyGateway": {"image": "registry.dc1.example/mirror/docker.io/envoyproxy/gateway:"
                                  "v1.9.0" + digest},
        "envoyProxy": {"image": "registry.dc1.example/mirror/docker.io/envoyproxy/envoy:"
                                "distroless-v1.39.0" + digest},
        "ratelimit": {"image": "registry.dc1.example/mirror/docker.io/envoyproxy/ratelimit:"
                               "17b1956c" + digest}}
    assert envoy.inputs["chart"].startswith("oci://registry.dc1.example/mirror/")


def test_large_weights_are_cached_on_the_pool(run) -> None:  # type: ignore[no-untyped-def]
    args = serving(models=(model(cache_node_group="cache-infer-l4", weights_gb=80),),
                   cache_gb={"infer-l4": 200})
    rec = run(lambda: Serving("aws-prod-serving", args))
    group = rec.one("kubernetes:serving.kserve.io/v1alpha1:LocalModelNodeGroup").inputs
    assert group["spec"]["storageLimit"] == "200Gi"
    caches = rec.of_type("kubernetes:serving.kserve.io/v1alpha1:LocalModelCache")
    assert sorted(c.inputs["spec"]["sourceModelUri"] for c in caches) == [
        "s3://models/chat/2", "s3://models/chat/3"]
    assert {c.inputs["spec"]["nodeGroups"][0] for c in caches} == {"cache-infer-l4"}
    kserve = next(r for r in rec.of_type(CHART) if r.inputs["chart"] == KSERVE.chart)
    assert kserve.inputs["values"]["kserve"]["localmodel"] == {"enabled": True}


def test_serving_refuses_a_model_twice(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError, match="`models` names 'chat' twice"):
        run(lambda: Serving("s", serving(models=(model(), model()))))


# -- alerts and Grafana ----------------------------------------------------------------------


def routing(**kw: object) -> AlertRoutingArgs:
    args = AlertRoutingArgs(
        receivers=(AlertReceiver("applied-slack", "slack", "https://hooks.example/T0/B0/x",
                                 channel="#applied"),
                   AlertReceiver("pager", "pagerduty", "routing-key-123")),
        routes=(AlertRouteArgs("applied-slack", team="applied", severities=("critical",)),
                AlertRouteArgs("pager")),
        team_queues={"applied": "acme-applied"})
    return replace(args, **kw)  # type: ignore[arg-type]


def test_alert_routes_by_team_and_severity(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: AlertRouting("aws-prod-alerts", routing()))
    config = rec.one("kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig").inputs
    assert config["metadata"]["labels"]["aifactory.io/alerts"] == "true"
    assert config["spec"]["route"]["receiver"] == "pager"
    assert config["spec"]["route"]["routes"] == [{"receiver": "applied-slack", "matchers": [
        {"name": "team", "value": "applied", "matchType": "="},
        {"name": "severity", "value": "critical", "matchType": "=~"}]}]
    receivers = {r["name"]: r for r in config["spec"]["receivers"]}
    assert receivers["applied-slack"]["slackConfigs"][0]["apiURL"] == {
        "name": "alert-receivers", "key": "applied-slack"}
    assert receivers["pager"]["pagerdutyConfigs"][0]["routingKey"] == {
        "name": "alert-receivers", "key": "pager"}
    secret = rec.one(SECRET).inputs
    assert secret["stringData"] == {"applied-slack": SECRET_MASK, "pager": SECRET_MASK}
    dump = json.dumps([r.inputs for r in rec.all])
    assert "hooks.example" not in dump and "routing-key-123" not in dump
    queue = rec.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs
    rule = queue["spec"]["groups"][0]["rules"][0]
    assert (rule["alert"], rule["labels"]) == ("TeamQueueBacklog",
                                               {"severity": "warning", "team": "applied"})


def test_alert_routing_refuses_routes_that_drop_alerts(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError, match="the last route must take every alert"):
        run(lambda: AlertRouting("a", routing(routes=(AlertRouteArgs("pager", team="x"),))))
    with pytest.raises(ComponentArgsError, match=r"receivers \['nobody'\]"):
        run(lambda: AlertRouting("a", routing(routes=(AlertRouteArgs("nobody"),))))


def test_route_spec_groups_by_team_pool_and_model() -> None:
    assert route_spec(routing())["groupBy"] == ["alertname", "team", "pool", "model"]


def test_grafana_needs_its_admin_password(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError, match="never the chart's public default"):
        run(lambda: Monitoring("m", MonitoringArgs(grafana=True)))
    rec = run(lambda: Monitoring("m", MonitoringArgs(
        grafana=True, grafana_admin_password="hunter2", alert_routing=True)))
    values = rec.one(CHART).inputs["values"]
    assert values["grafana"]["enabled"] is True
    assert values["grafana"]["admin"]["existingSecret"] == "grafana-admin"
    assert values["alertmanager"]["alertmanagerSpec"]["alertmanagerConfigMatcherStrategy"] == {
        "type": "None"}
    assert rec.one(SECRET).inputs["stringData"]["admin-password"] == SECRET_MASK
    boards = sorted(r.inputs["metadata"]["name"] for r in
                    rec.of_type("kubernetes:core/v1:ConfigMap"))
    assert boards == ["aifactory-gpus", "aifactory-queues", "aifactory-serving"]
    assert "hunter2" not in json.dumps([r.inputs for r in rec.all])


def test_grafana_stays_off_by_default() -> None:
    assert monitoring_values(MonitoringArgs())["grafana"] == {"enabled": False}


# -- MLflow and its database -----------------------------------------------------------------


def mlflow_args(**kw: object) -> MlflowArgs:
    args = MlflowArgs(
        namespace="mlflow",
        database=PostgresConnection(host="db.internal", database="mlflow", username="mlflow",
                                    password="db-pass-1"),
        artifacts=ArtifactStore(kind="s3", bucket="acme-models"),
        identity={"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/mlflow"},
        oidc_issuer="https://login.example/realms/ml", oidc_client_id="mlflow",
        oidc_client_secret="oidc-secret-1")
    return replace(args, **kw)  # type: ignore[arg-type]


def test_mlflow_with_oidc_login(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Mlflow("aws-prod-mlflow", mlflow_args()))
    chart = rec.one(CHART).inputs
    assert (chart["chart"], chart["version"]) == (MLFLOW.chart, "1.11.5")
    values = chart["values"]
    assert values["backendStore"]["postgres"] == {
        "enabled": True, "host": "db.internal", "port": 5432, "database": "mlflow",
        "user": "mlflow"}
    assert values["backendStore"]["existingDatabaseSecret"]["name"] == "mlflow-database"
    assert values["artifactRoot"]["s3"] == {"enabled": True, "bucket": "acme-models",
                                            "path": "mlflow"}
    assert values["oidcAuth"]["discoveryUrl"] == (
        "https://login.example/realms/ml/.well-known/openid-configuration")
    assert "auth" not in values
    assert {r.inputs["metadata"]["name"]: r.inputs["stringData"] for r in rec.of_type(SECRET)} \
        == {"mlflow-database": {"username": SECRET_MASK, "password": SECRET_MASK},
            "mlflow-login": {"OIDC_CLIENT_SECRET": SECRET_MASK}}
    dump = json.dumps([r.inputs for r in rec.all])
    assert "db-pass-1" not in dump and "oidc-secret-1" not in dump


def test_mlflow_with_basic_auth_and_never_open(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Mlflow("m", mlflow_args(oidc_issuer=None, oidc_client_id=None,
                                              oidc_client_secret=None,
                                              basic_auth_password="admin-pass")))
    assert rec.one(CHART).inputs["values"]["auth"]["enabled"] is True
    with pytest.raises(ComponentArgsError, match="MLflow would be open"):
        run(lambda: Mlflow("m", mlflow_args(oidc_issuer=None, oidc_client_secret=None)))


def test_postgres_on_rds_is_private_keyed_and_protected(run) -> None:  # type: ignore[no-untyped-def]
    loc = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
    args = PostgresDatabaseArgs(
        location=loc, identifier="acme-mlflow", database="mlflow", username="mlflow",
        password="db-pass-2", vpc_id="vpc-1", vpc_cidr="10.40.0.0/16",
        subnet_ids=["subnet-a", "subnet-b"], kms_key_arn="arn:aws:kms:eu-west-2:1:key/k",
        backup_retention_days=14)
    rec = run(lambda: PostgresDatabase("aws-prod-mlflow-db", args))
    db = rec.one("aws:rds/instance:Instance")
    assert db.protect is True
    i = db.inputs
    assert (i["engine"], i["storageEncrypted"], i["kmsKeyId"], i["publiclyAccessible"]) == (
        "postgres", True, "arn:aws:kms:eu-west-2:1:key/k", False)
    assert (i["backupRetentionPeriod"], i["deletionProtection"], i["password"]) == (
        14, True, SECRET_MASK)
    assert i["performanceInsightsKmsKeyId"] == "arn:aws:kms:eu-west-2:1:key/k"
    sg = rec.one("aws:ec2/securityGroup:SecurityGroup").inputs
    assert sg["ingress"][0]["cidrBlocks"] == ["10.40.0.0/16"]
    params = rec.one("aws:rds/parameterGroup:ParameterGroup").inputs
    assert [(p["name"], p["value"]) for p in params["parameters"]] == [("rds.force_ssl", "1")]
    with pytest.raises(ComponentArgsError, match="must lie between 1 and 35"):
        run(lambda: PostgresDatabase("d", replace(args, backup_retention_days=40)))


# -- notebooks -------------------------------------------------------------------------------


def test_notebooks_profiles_per_team_and_pool(run) -> None:  # type: ignore[no-untyped-def]
    profiles = (NotebookProfile("research", "team-research", "infer-l4"),
                NotebookProfile("applied", "team-applied", "infer-l4", gpus=2))
    args = NotebooksArgs(namespace="jupyterhub", issuer="https://login.example/realms/ml",
                         client_id="jupyterhub", client_secret="hub-secret-1",
                         profiles=profiles, idle_cull_minutes=30)
    rec = run(lambda: Notebooks("aws-prod-notebooks", args))
    values = rec.one(CHART).inputs["values"]
    entries = values["singleuser"]["profileList"]
    assert [e["slug"] for e in entries] == ["research-infer-l4", "applied-infer-l4"]
    assert entries[1]["kubespawner_override"]["namespace"] == "team-applied"
    assert entries[1]["kubespawner_override"]["extra_resource_limits"] == {
        "nvidia.com/gpu": "2"}
    assert values["cull"] == {"enabled": True, "timeout": 1800, "every": 300}
    assert values["proxy"]["service"]["type"] == "ClusterIP"
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "generic-oauth"
    assert rec.one(SECRET).inputs["stringData"] == {"client-secret": SECRET_MASK}
    bindings = rec.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert sorted(b.inputs["metadata"]["namespace"] for b in bindings) == [
        "team-applied", "team-research"]
    assert "hub-secret-1" not in json.dumps([r.inputs for r in rec.all])
    off = replace(args, idle_cull_minutes=None)
    rec = run(lambda: Notebooks("n", off))
    assert rec.one(CHART).inputs["values"]["cull"] == {"enabled": False}


def test_notebooks_refuse_no_profiles(run) -> None:  # type: ignore[no-untyped-def]
    args = NotebooksArgs(namespace="jupyterhub", issuer="https://login.example",
                         client_id="c", client_secret=pulumi.Output.secret("s"), profiles=())
    with pytest.raises(ComponentArgsError, match="`profiles` is empty"):
        run(lambda: Notebooks("n", args))


# -- GCP: Cloud SQL, the proxy-only subnet, and serving in a whole GCP plan ------------------


def test_cloud_sql_is_private_keyed_backed_up_in_region(run) -> None:  # type: ignore[no-untyped-def]
    from components.gcp.database import CloudSqlPostgres, CloudSqlPostgresArgs

    args = CloudSqlPostgresArgs(
        project="acme-ml", region="europe-west4", instance_name="acme-mlflow",
        database="mlflow", username="mlflow", password="db-pass-3",
        network_id="projects/acme-ml/global/networks/vpc", kms_key_id="projects/p/k/databases",
        backup_retention_days=14)
    rec = run(lambda: CloudSqlPostgres("gcp-mlflow-db", args))
    db = rec.one("gcp:sql/databaseInstance:DatabaseInstance")
    assert db.protect is True
    i = db.inputs
    assert (i["region"], i["encryptionKeyName"], i["deletionProtection"]) == (
        "europe-west4", "projects/p/k/databases", True)
    assert i["settings"]["ipConfiguration"] == {
        "ipv4Enabled": False, "privateNetwork": "projects/acme-ml/global/networks/vpc",
        "sslMode": "ENCRYPTED_ONLY"}
    backups = i["settings"]["backupConfiguration"]
    assert (backups["location"], backups["backupRetentionSettings"]["retainedBackups"]) == (
        "europe-west4", 14)
    assert rec.one("gcp:compute/globalAddress:GlobalAddress").inputs["addressType"] == "INTERNAL"
    assert rec.one("gcp:sql/user:User").inputs["password"] == SECRET_MASK
    with pytest.raises(ComponentArgsError, match="not a Cloud SQL tier"):
        run(lambda: CloudSqlPostgres("d", replace(args, tier="db.t4g.micro")))


def test_proxy_subnet(run) -> None:  # type: ignore[no-untyped-def]
    from components.gcp.proxy_subnet import ProxySubnet, ProxySubnetArgs

    rec = run(lambda: ProxySubnet("gcp-proxies", ProxySubnetArgs(
        network_id="vpc", region="europe-west4", cidr="10.38.0.0/26")))
    subnet = rec.one("gcp:compute/subnetwork:Subnetwork").inputs
    assert (subnet["purpose"], subnet["role"], subnet["ipCidrRange"]) == (
        "REGIONAL_MANAGED_PROXY", "ACTIVE", "10.38.0.0/26")
    with pytest.raises(ComponentArgsError, match="smaller than a /26"):
        run(lambda: ProxySubnet("p", ProxySubnetArgs(network_id="vpc", region="europe-west4",
                                                     cidr="10.38.0.0/28")))


GCP_SERVING = """
serving:
  environment: gcp-prod
  proxy_subnet_cidr: 10.38.0.0/26
  models:
    chat:
      pool: infer-l4
      revision: v1
      source: {public: meta-llama/Llama-3.1-8B-Instruct}
      max_replicas: 4
model_registry:
  environment: gcp-prod
  database: {password_secret: mlflow-db-password, backup_retention_days: 14}
  basic_auth_secret: mlflow-admin
"""


def test_serving_and_mlflow_in_a_gcp_plan() -> None:
    from conftest import EXAMPLES, spec_from_yaml

    from aifactory.plan.document import run_program

    text = (EXAMPLES / "cloud-gcp.yaml").read_text(encoding="utf-8").replace(
        "\nregistry:\n", "    models: {}\n\nregistry:\n", 1) + GCP_SERVING
    regs = run_program(spec_from_yaml(text))
    cluster = next(r for r in regs if r.type == "gcp:container/cluster:Cluster")
    assert cluster.inputs["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}
    assert any(r.type == "gcp:compute/subnetwork:Subnetwork"
               and r.inputs.get("purpose") == "REGIONAL_MANAGED_PROXY" for r in regs)
    grants = {(r.inputs["bucket"], r.inputs["member"].rsplit("/ns/", 1)[-1]) for r in regs
              if r.type == "gcp:storage/bucketIAMMember:BucketIAMMember"
              and "models" in str(r.inputs["bucket"])}
    # the teams' training jobs (every zone), the model server and MLflow
    assert grants == {("acme-gcp-models-acme-ml-prod", "serving/sa/model-reader"),
                      ("acme-gcp-models-acme-ml-prod", "mlflow/sa/mlflow"),
                      ("acme-gcp-models-acme-ml-prod", "team-applied/sa/training"),
                      ("acme-gcp-models-acme-ml-prod", "team-research/sa/training")}
    mlflow = next(r for r in regs if r.type == "kubernetes:helm.sh/v4:Chart"
                  and r.inputs["chart"] == "mlflow")
    assert mlflow.inputs["values"]["artifactRoot"]["gcs"] == {
        "enabled": True, "bucket": "acme-gcp-models-acme-ml-prod", "path": "mlflow"}
    keys = {r.name for r in regs if r.type == "gcp:kms/cryptoKey:CryptoKey"}
    assert "gcp-prod-kms-databases" in keys


def test_node_series_of_a_pool_carry_its_owning_team() -> None:
    values = monitoring_values(MonitoringArgs(pool_teams={"infer-l4": "applied"}))
    monitor = values["prometheus-node-exporter"]["prometheus"]["monitor"]
    assert monitor["attachMetadata"] == {"node": True}
    assert monitor["relabelings"][1] == {
        "action": "replace", "sourceLabels": ["__meta_kubernetes_node_label_aifactory_io_pool"],
        "regex": "infer-l4", "targetLabel": "team", "replacement": "applied"}
    assert "prometheus-node-exporter" not in monitoring_values(MonitoringArgs())


def test_mlflow_on_a_site_keeps_its_database_on_cloudnative_pg_and_artifacts_in_the_tenant(
        run) -> None:  # type: ignore[no-untyped-def]
    from components.platform.postgres_cluster import BackupDestination, PostgresClusterArgs

    cluster = PostgresClusterArgs(
        name="mlflow-db", namespace="mlflow", database="mlflow", owner="mlflow",
        password="db-pass-1", storage_size="50Gi", storage_class="ceph-rbd",
        backup=BackupDestination(endpoint="https://minio.lakehouse.svc.cluster.local",
                                 bucket="acme-backups-dc1", credentials="pk:pg-backup-1",
                                 ca_secret="cluster-ca"))
    store = ArtifactStore(kind="s3", bucket="acme-models-dc1",
                          endpoint="https://minio.lakehouse.svc.cluster.local",
                          credentials="mk:minio-key-1", ca_secret="cluster-ca")
    rec = run(lambda: Mlflow("dc1-mlflow", mlflow_args(database=cluster, artifacts=store,
                                                        identity={})))
    chart = rec.one("kubernetes:helm.sh/v4:Chart")
    values = chart.inputs["values"]
    assert values["backendStore"]["postgres"]["host"] == "mlflow-db-rw.mlflow.svc.cluster.local"
    assert values["artifactRoot"]["s3"] == {
        "enabled": True, "bucket": "acme-models-dc1", "path": "mlflow",
        "existingSecret": {"name": "mlflow-artifact-store",
                           "keyOfAccessKeyId": "AWS_ACCESS_KEY_ID",
                           "keyOfSecretAccessKey": "AWS_SECRET_ACCESS_KEY"}}
    assert values["extraEnvVars"] == {
        "MLFLOW_S3_ENDPOINT_URL": "https://minio.lakehouse.svc.cluster.local",
        "AWS_CA_BUNDLE": "/etc/ssl/aifactory/ca.crt"}
    assert values["extraVolumes"] == [{"name": "tenant-ca", "secret": {
        "secretName": "cluster-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]
    pg = rec.one("kubernetes:postgresql.cnpg.io/v1:Cluster")
    assert pg.protect and pg.retain_on_delete
    assert pg.inputs["metadata"]["namespace"] == "mlflow"
    assert pg.urn in chart.dependencies
    assert rec.one("kubernetes:core/v1:Namespace").urn in pg.dependencies
    store_secret = rec.named("dc1-mlflow-artifact-store")
    assert store_secret.inputs["stringData"] == {"AWS_ACCESS_KEY_ID": SECRET_MASK,
                                                 "AWS_SECRET_ACCESS_KEY": SECRET_MASK}
    text = json.dumps([r.inputs for r in rec.all])
    for plain in ("db-pass-1", "pg-backup-1", "minio-key-1", "mk:"):
        assert plain not in text


def test_mlflow_refuses_a_site_store_without_its_credentials(run) -> None:  # type: ignore[no-untyped-def]
    store = ArtifactStore(kind="s3", bucket="b", endpoint="https://minio.lakehouse.svc")
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: Mlflow("m", mlflow_args(artifacts=store)))
    assert str(e.value) == ("`artifacts.endpoint` needs kind s3, `credentials` and "
                            "`ca_secret`: give all three for a site's tenant")
