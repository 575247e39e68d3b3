"""The model lifecycle, built on the platform layer: spec -> MLflow (with its database),
serving, notebooks, alert routing, and the monitoring settings (Grafana) of every cluster.

The database and the artifact store are chosen per substrate here: RDS and S3 (through IRSA)
on AWS; Cloud SQL and CloudNativePG plug into the same `PostgresConnection` and
`ArtifactStore` of components.platform.mlflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from blueprints.compose.blame import blame
from blueprints.compose.secrets import OFFLINE_SECRET, full_key, stack_secret
from blueprints.compose.tagging import k8s_labels
from blueprints.errors import ComponentArgsError
from blueprints.spec.lifecycle import MODELS_ZONE, ServedModel, secret_refs
from blueprints.spec.models import Blueprint
from components import naming
from components.platform.alerts import AlertReceiver, AlertRouteArgs, AlertRouting, AlertRoutingArgs
from components.platform.common import ENVIRONMENT_LABEL, GpuPoolCapacity
from components.platform.monitoring import MonitoringArgs
from components.platform.notebooks import NotebookProfile, Notebooks, NotebooksArgs
from components.platform.served_model import Revision, ServedModelArgs
from components.platform.serving import (
    SERVICE_ACCOUNT,
    Serving,
    ServingArgs,
    SiteModelStore,
    needs_cache,
)
from components.platform.team_queues import team_queue_name

if TYPE_CHECKING:
    from blueprints.compose import Built, EnvironmentBuild
    from components.platform.cluster_platform import ClusterPlatform

MLFLOW_SERVICE_ACCOUNT = "mlflow"
"""The chart's service account (release mlflow: its fullname)."""


def offline_config(spec: Blueprint) -> dict[str, str]:
    """Masked stand-ins for every stack secret the lifecycle sections name."""
    return {full_key(k): OFFLINE_SECRET for k in secret_refs(spec)}


def pool_teams(spec: Blueprint, capacities: list[GpuPoolCapacity]) -> dict[str, str]:
    """The owning team of each pool: the team with the largest nominal quota on it."""
    from blueprints.compose.platform import queue_teams

    best: dict[str, tuple[int, str]] = {}
    for team in queue_teams(spec, capacities):
        for q in team.quotas:
            if q.nominal > 0 and (q.pool not in best or (-q.nominal, team.team)
                                  < (-best[q.pool][0], best[q.pool][1])):
                best[q.pool] = (q.nominal, team.team)
    return {pool: team for pool, (_, team) in sorted(best.items())}


def monitoring_args(spec: Blueprint) -> MonitoringArgs:
    """Grafana (its admin password a stack secret) and alert routing, on every cluster."""
    grafana = spec.monitoring.grafana
    return MonitoringArgs(
        grafana=grafana is not None,
        grafana_admin_password=(stack_secret(grafana.admin_password_secret)
                                if grafana is not None else None),
        alert_routing=spec.alerts is not None)


def _labels(spec: Blueprint, env_name: str) -> dict[str, str]:
    return k8s_labels(spec, **{ENVIRONMENT_LABEL: env_name})


def _opts(env_build: EnvironmentBuild) -> pulumi.ResourceOptions:
    assert env_build.kubernetes is not None  # only clusters have a platform
    return pulumi.ResourceOptions(parent=env_build.component, providers=[env_build.kubernetes])


def _after(platform: ClusterPlatform) -> list[pulumi.Resource]:
    return [platform.monitoring.chart, *(t.namespace_resource for t in platform.team_namespaces)]


def models_bucket(spec: Blueprint, built: Built) -> tuple[str, str]:
    """(scheme, bucket name) of the lakehouse's models zone."""
    lake = spec.lakehouse
    assert lake is not None  # the spec requires it with serving and the model registry
    env = spec.environments[lake.environment]
    build = built.environments[lake.environment]
    if env.kind == "aws":
        from components.aws.lakehouse import bucket_names
        from components.aws.location import AwsLocation

        loc = AwsLocation(partition=env.partition, region=env.region,  # type: ignore[union-attr]
                          account_id=env.account_id)  # type: ignore[union-attr]
        del build
        return "s3", bucket_names(spec.name, [MODELS_ZONE], loc)[MODELS_ZONE]
    if env.kind == "onprem":  # the site tenant's bucket of the zone (blueprints.compose.onprem)
        return "s3", naming.bucket_name(spec.name, MODELS_ZONE, lake.environment)
    return "gs", naming.bucket_name(spec.name, MODELS_ZONE, env.project)  # type: ignore[union-attr]


def _aws_reader(spec: Blueprint, built: Built, env_name: str, purpose: str, namespace: str,
                service_account: str, *, read_only: bool,
                write_prefixes: tuple[tuple[str, str], ...] = (),
                ) -> dict[str, pulumi.Input[str]]:
    """An IRSA role of the service account on the models bucket (and put-only on each
    (bucket, key prefix) of `write_prefixes`): its annotation."""
    from components.aws.location import AwsLocation
    from components.aws.workload_role import WorkloadRole, WorkloadRoleArgs

    env = spec.environments[env_name]
    build: Any = built.environments[env_name]
    lake = spec.lakehouse
    assert lake is not None
    lake_build: Any = built.environments[lake.environment]
    _, bucket = models_bucket(spec, built)
    loc = AwsLocation(partition=env.partition, region=env.region,  # type: ignore[union-attr]
                      account_id=env.account_id)  # type: ignore[union-attr]
    prefix = naming.cluster_name(spec.name, env_name)
    role = WorkloadRole(naming.child(env_name, purpose), WorkloadRoleArgs(
        location=loc, role_name=naming.iam_role_name(prefix, "", purpose),
        oidc_provider_arn=build.cluster.oidc_provider_arn, oidc_issuer=build.cluster.oidc_issuer,
        service_accounts=[f"{namespace}:{service_account}"],
        bucket_arns=[loc.bucket_arn(bucket)], bucket_key_arns=[lake_build.key.arn],
        read_only=read_only,
        write_prefixes=tuple(f"{loc.bucket_arn(b)}/{key}/*" for b, key in write_prefixes),
        description=f"{purpose}: the lakehouse's models zone"
        + (" (read)" if read_only else " (read/write)")
        + (", request logs (put)" if write_prefixes else "")),
        opts=pulumi.ResourceOptions(parent=build.component))
    return {"eks.amazonaws.com/role-arn": role.arn}


def _gcp_reader(spec: Blueprint, built: Built, env_name: str, namespace: str,
                service_account: str) -> dict[str, pulumi.Input[str]]:
    """Workload Identity grants of the service account on the models bucket (no annotation:
    the grants go to the Kubernetes identity itself)."""
    from components.gcp.workload_access import WorkloadAccess, WorkloadAccessArgs

    env: Any = spec.environments[env_name]
    build = built.environments[env_name]
    _, bucket = models_bucket(spec, built)
    WorkloadAccess(naming.child(env_name, "serving-access"), WorkloadAccessArgs(
        project=env.project, project_number=env.project_number, namespaces=[namespace],
        service_account=service_account, buckets={MODELS_ZONE: bucket}),
        pulumi.ResourceOptions(parent=build.component))
    return {}


def served_model_args(spec: Blueprint, name: str, m: ServedModel, uri_root: str,
                      capacity: GpuPoolCapacity,
                      log: tuple[str, str] | None = None) -> ServedModelArgs:
    """A served model's arguments (namespace, runtime and gateway are set by Serving); `log`:
    the (bucket, key prefix) KServe's agent logs its requests to."""
    last = m.last_good
    return ServedModelArgs(
        model=name, namespace="", pool=m.pool, runtime="", gateway="", service_account="",
        prometheus_url="",
        current=Revision(m.revision, f"{uri_root}/{m.source.path()}"),
        last_good=Revision(last.revision, f"{uri_root}/{last.source.path()}") if last else None,
        canary_percent=m.canary_percent, rollback=m.rollback,
        gpus_per_replica=m.gpus_per_replica, gpu_resource=capacity.gpu_resource,
        min_replicas=m.min_replicas, max_replicas=m.max_replicas,
        target_concurrency=m.target_concurrency, weights_gb=m.weights_gb,
        max_model_len=m.max_model_len, taints=capacity.taints, team=m.team,
        cache_node_group=f"cache-{m.pool}" if needs_cache(m.weights_gb) else None,
        request_log=f"s3://{log[0]}/{log[1]}" if log is not None else None)


def build_serving(spec: Blueprint, built: Built, platforms: dict[str, ClusterPlatform],
                  capacities: dict[str, GpuPoolCapacity]) -> Serving | None:
    """KServe and the served models in serving.environment."""
    from blueprints.compose.platform import mirror_of

    s = spec.serving
    if s is None:
        return None
    env = spec.environments[s.environment]
    env_build = built.environments[s.environment]
    platform = platforms.get(s.environment)
    if platform is None or env_build.kubernetes is None:
        raise ComponentArgsError(f"{s.environment!r} has no Kubernetes cluster to serve on")
    from blueprints.compose.lakehouse import request_logs

    logs = request_logs(spec)
    identity: dict[str, pulumi.Input[str]] = {}
    if env.kind == "aws":
        identity = _aws_reader(spec, built, s.environment, "model-serving", s.namespace,
                               SERVICE_ACCOUNT, read_only=True,
                               write_prefixes=tuple(v for _, v in sorted(logs.items())))
    elif env.kind == "gcp":
        identity = _gcp_reader(spec, built, s.environment, s.namespace, SERVICE_ACCOUNT)
        from components.gcp.proxy_subnet import ProxySubnet, ProxySubnetArgs

        network: Any = getattr(env_build, "network", None)
        assert network is not None and s.proxy_subnet_cidr is not None
        ProxySubnet(naming.child(s.environment, "serving-proxies"), ProxySubnetArgs(
            network_id=network.network_id, region=env.region,  # type: ignore[union-attr]
            cidr=s.proxy_subnet_cidr), pulumi.ResourceOptions(parent=env_build.component))
    site_store = None
    if env.kind == "onprem":
        site_store = _site_model_store(spec, s.environment)
    scheme, bucket = models_bucket(spec, built)
    root = f"{scheme}://{bucket}"
    models = tuple(served_model_args(spec, n, m, root, capacities[m.pool], logs.get(n))
                   for n, m in sorted(s.models.items()))
    cache: dict[str, int] = {}
    for m in models:
        if m.cache_node_group is not None:
            cache[m.pool] = cache.get(m.pool, 0) + m.weights_gb * (2 if m.last_good else 1)
    return Serving(naming.child(s.environment, "serving"), ServingArgs(
        substrate=env.kind, namespace=s.namespace, models=models,
        identity=identity, gateway_addresses=tuple(s.gateway_addresses),
        cache_gb={p: max(100, gb) for p, gb in cache.items()},
        labels=_labels(spec, s.environment), depends_on=tuple(_after(platform)),
        mirror=mirror_of(spec), site_store=site_store),
        _opts(env_build))


def _site_model_store(spec: Blueprint, env_name: str) -> SiteModelStore:
    """The site's tenant the weights are read from, as its read-only user `serving` (created
    on the tenant by blueprints.compose.onprem); its certificate is signed by the cluster CA."""
    from components.platform.object_store import tenant_endpoint

    s = spec.serving
    env: Any = spec.environments[env_name]
    assert s is not None and s.storage_credentials is not None  # the spec requires them
    assert env.object_storage is not None  # the lakehouse is on this site (the spec checks)
    return SiteModelStore(endpoint=tenant_endpoint(env.object_storage.namespace),
                          credentials=stack_secret(s.storage_credentials))


def build_model_registry(spec: Blueprint, built: Built,
                         platforms: dict[str, ClusterPlatform]) -> None:
    """MLflow with its database (RDS on AWS, Cloud SQL on GCP) and artifacts in the models
    zone through the workload's identity (IRSA, Workload Identity)."""
    reg = spec.model_registry
    if reg is None:
        return
    from blueprints.compose.platform import mirror_of
    from components.platform.mlflow import ArtifactStore, Mlflow, MlflowArgs, PostgresConnection

    env: Any = spec.environments[reg.environment]
    build: Any = built.environments[reg.environment]
    platform = platforms[reg.environment]
    prefix = naming.cluster_name(spec.name, reg.environment)
    password = stack_secret(reg.database.password_secret)
    _, bucket = models_bucket(spec, built)
    identity: dict[str, pulumi.Input[str]] = {}
    if env.kind == "onprem":
        _site_model_registry(spec, built, platforms)
        return
    db_host: pulumi.Input[str]
    with blame("model_registry.database", reg.database):
        if env.kind == "aws":
            from components.aws.database import PostgresDatabase, PostgresDatabaseArgs
            from components.aws.location import AwsLocation

            loc = AwsLocation(partition=env.partition, region=env.region,
                              account_id=env.account_id)
            db: pulumi.Resource = PostgresDatabase(
                naming.child(reg.environment, "mlflow-db"), PostgresDatabaseArgs(
                    location=loc, identifier=naming.fit(f"{prefix}-mlflow", 63),
                    database="mlflow", username="mlflow", password=password,
                    vpc_id=build.network.vpc_id, vpc_cidr=env.vpc_cidr,
                    subnet_ids=build.network.private_subnet_ids, kms_key_arn=build.key.arn,
                    instance_class=reg.database.instance_class or "db.t4g.medium",
                    storage_gb=reg.database.storage_gb,
                    backup_retention_days=reg.database.backup_retention_days),
                pulumi.ResourceOptions(parent=build.component))
            db_host = db.host  # type: ignore[attr-defined]
        else:
            from blueprints.compose.gcp import DATABASE_KEY
            from components.gcp.database import CloudSqlPostgres, CloudSqlPostgresArgs

            db = CloudSqlPostgres(
                naming.child(reg.environment, "mlflow-db"), CloudSqlPostgresArgs(
                    project=env.project, region=env.region,
                    instance_name=naming.fit(f"{prefix}-mlflow", 63), database="mlflow",
                    username="mlflow", password=password, network_id=build.network.network_id,
                    kms_key_id=build.keys.key_id(DATABASE_KEY),
                    tier=reg.database.instance_class or "db-custom-2-7680",
                    storage_gb=reg.database.storage_gb,
                    backup_retention_days=reg.database.backup_retention_days,
                    key_grants=tuple(build.keys.grants_for(DATABASE_KEY))),
                pulumi.ResourceOptions(parent=build.component))
            db_host = db.host  # type: ignore[attr-defined]
    if env.kind == "aws":
        identity = _aws_reader(spec, built, reg.environment, "mlflow", reg.namespace,
                               MLFLOW_SERVICE_ACCOUNT, read_only=False)
    else:
        from components.gcp.workload_access import WorkloadAccess, WorkloadAccessArgs

        WorkloadAccess(naming.child(reg.environment, "mlflow-access"), WorkloadAccessArgs(
            project=env.project, project_number=env.project_number,
            namespaces=[reg.namespace], service_account=MLFLOW_SERVICE_ACCOUNT,
            buckets={MODELS_ZONE: bucket}), pulumi.ResourceOptions(parent=build.component))
    login = reg.login
    Mlflow(naming.child(reg.environment, "mlflow"), MlflowArgs(
        namespace=reg.namespace,
        database=PostgresConnection(host=db_host, database="mlflow", username="mlflow",
                                    password=password),
        artifacts=ArtifactStore(kind="s3" if env.kind == "aws" else "gcs", bucket=bucket),
        identity=identity,
        oidc_issuer=login.issuer if login else None,
        oidc_client_id=login.client_id if login else None,
        oidc_client_secret=(stack_secret(login.client_secret)
                            if login and login.client_secret else None),
        basic_auth_password=(stack_secret(reg.basic_auth_secret)
                             if reg.basic_auth_secret else None),
        labels=_labels(spec, reg.environment), depends_on=(db, *_after(platform)),
        mirror=mirror_of(spec)),
        _opts(build))


def _site_model_registry(spec: Blueprint, built: Built,
                         platforms: dict[str, ClusterPlatform]) -> None:
    """MLflow on a site: its database a CloudNativePG cluster in its namespace (backed up to the
    site's tenant), its artifacts in the tenant's models bucket as a user allowed that bucket."""
    from blueprints.compose.onprem import postgres_cluster_args
    from blueprints.compose.platform import mirror_of
    from components.platform.mlflow import ArtifactStore, Mlflow, MlflowArgs
    from components.platform.object_store import tenant_endpoint

    reg = spec.model_registry
    assert reg is not None
    env: Any = spec.environments[reg.environment]
    build = built.environments[reg.environment]
    assert env.object_storage is not None and env.databases is not None  # the spec requires
    assert reg.storage_credentials is not None
    operator = build.postgres_operator
    assert operator is not None  # built with the site: MLflow keeps its database there
    _, bucket = models_bucket(spec, built)
    with blame("model_registry.database", reg.database):
        database = postgres_cluster_args(
            spec, reg.environment, name="mlflow-db", namespace=reg.namespace,
            database="mlflow", owner="mlflow", password=stack_secret(reg.database.password_secret),
            storage_gb=reg.database.storage_gb, depends_on=(operator,))
    login = reg.login
    Mlflow(naming.child(reg.environment, "mlflow"), MlflowArgs(
        namespace=reg.namespace, database=database,
        artifacts=ArtifactStore(kind="s3", bucket=bucket,
                                endpoint=tenant_endpoint(env.object_storage.namespace),
                                credentials=stack_secret(reg.storage_credentials),
                                ca_secret=env.databases.ca_bundle_secret),
        oidc_issuer=login.issuer if login else None,
        oidc_client_id=login.client_id if login else None,
        oidc_client_secret=(stack_secret(login.client_secret)
                            if login and login.client_secret else None),
        basic_auth_password=(stack_secret(reg.basic_auth_secret)
                             if reg.basic_auth_secret else None),
        labels=_labels(spec, reg.environment),
        depends_on=tuple(_after(platforms[reg.environment])), mirror=mirror_of(spec)),
        _opts(build))


def build_notebooks(spec: Blueprint, built: Built, platforms: dict[str, ClusterPlatform],
                    capacities: dict[str, GpuPoolCapacity]) -> None:
    """JupyterHub with a profile per team and GPU pool it may use."""
    nb = spec.notebooks
    if nb is None:
        return
    from blueprints.compose.platform import queue_teams

    pools = [c for c in capacities.values() if c.environment == nb.environment]
    profiles: list[NotebookProfile] = []
    for team in queue_teams(spec, list(capacities.values())):
        quota_pools = {q.pool for q in team.quotas if q.nominal > 0}
        usable = [p for p in pools if not quota_pools or p.pool in quota_pools]
        profiles += [NotebookProfile(team=team.team, namespace=team.namespace, pool=p.pool,
                                     gpu_resource=p.gpu_resource, gpus=nb.gpus_per_notebook,
                                     taints=p.taints)
                     for p in sorted(usable, key=lambda p: p.pool)]
    if not profiles:
        raise ComponentArgsError(f"notebooks: no team may use a GPU pool of "
                                 f"{nb.environment!r}: add queueing.teams with quotas there")
    assert nb.login.client_secret is not None
    Notebooks(naming.child(nb.environment, "notebooks"), NotebooksArgs(
        namespace=nb.namespace, issuer=nb.login.issuer, client_id=nb.login.client_id,
        client_secret=stack_secret(nb.login.client_secret), profiles=tuple(profiles),
        idle_cull_minutes=nb.idle_cull_minutes, labels=_labels(spec, nb.environment),
        depends_on=tuple(_after(platforms[nb.environment]))),
        _opts(built.environments[nb.environment]))


def build_alerts(spec: Blueprint, built: Built, platforms: dict[str, ClusterPlatform]) -> None:
    """The alert routes and receivers on every cluster; team queue alerts where Kueue runs."""
    a = spec.alerts
    if a is None:
        return
    receivers = tuple(AlertReceiver(
        name=n, kind=r.kind, credential=stack_secret(r.secret or ""), channel=r.channel,
        to=r.to, sender=r.sender, smarthost=r.smarthost, username=r.username)
        for n, r in sorted(a.receivers.items()))
    routes = tuple(AlertRouteArgs(receiver=r.receiver, team=r.team,
                                  severities=tuple(r.severities or ()))
                   for r in a.routes)
    q = spec.queueing
    for env_name, platform in sorted(platforms.items()):
        queues = ({t: team_queue_name(q.cohort, t) for t in q.teams}
                  if q is not None and q.environment == env_name else {})
        AlertRouting(naming.child(env_name, "alerts"), AlertRoutingArgs(
            receivers=receivers, routes=routes, labels=_labels(spec, env_name),
            team_queues=queues, depends_on=(platform.monitoring.chart,)),
            _opts(built.environments[env_name]))


def build_lifecycle(spec: Blueprint, built: Built,
                    platforms: dict[str, ClusterPlatform]) -> None:
    """Everything of the model lifecycle the blueprint names."""
    from blueprints.compose.platform import pool_capacity

    capacities = {n: pool_capacity(spec, n, p) for n, p in spec.pools.items()}
    with blame("alerts", spec.alerts):
        build_alerts(spec, built, platforms)
    with blame("serving", spec.serving):
        build_serving(spec, built, platforms, capacities)
    with blame("model_registry", spec.model_registry):
        build_model_registry(spec, built, platforms)
    with blame("notebooks", spec.notebooks):
        build_notebooks(spec, built, platforms, capacities)
