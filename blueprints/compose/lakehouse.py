"""The lakehouse's tables and pipelines, built on the substrates and the platform layer: spec ->
the Iceberg catalog of the lakehouse's cloud (Glue with Lake Formation, BigLake), each granted
team's identity and catalog connection in its namespace, Argo Workflows with the example
pipeline, and the drift watch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from blueprints.compose.blame import blame
from blueprints.compose.tagging import k8s_labels
from blueprints.errors import ComponentArgsError
from blueprints.spec.models import Blueprint
from components import naming
from components.iceberg import SERVICE_ACCOUNT, CatalogNamespaceArgs
from components.platform.common import ENVIRONMENT_LABEL
from components.platform.lakehouse_access import (
    CatalogConnection,
    LakehouseAccess,
    LakehouseAccessArgs,
    TeamAccess,
)

if TYPE_CHECKING:
    from blueprints.compose import Built
    from components.platform.cluster_platform import ClusterPlatform

ARTIFACTS_PREFIX = "argo"
REQUEST_LOG_PREFIX = "inference-log"
"""Where KServe's agent logs a watched model's requests: <zone bucket>/inference-log/<model>/."""


def catalog_namespaces(spec: Blueprint) -> tuple[CatalogNamespaceArgs, ...]:
    """The blueprint's catalog namespaces, in its order."""
    lake = spec.lakehouse
    assert lake is not None and lake.catalog is not None
    return tuple(CatalogNamespaceArgs(name=n, zone=ns.zone, writers=tuple(ns.writers),
                                      readers=tuple(ns.readers))
                 for n, ns in lake.catalog.namespaces.items())


def granted_teams(spec: Blueprint) -> list[str]:
    """Every team a namespace names, sorted."""
    return sorted({t for ns in catalog_namespaces(spec) for t in (*ns.writers, *ns.readers)})


def zone_buckets(spec: Blueprint) -> dict[str, str]:
    """Bucket name of each lakehouse zone (from the blueprint: no look-up)."""
    lake = spec.lakehouse
    assert lake is not None
    env: Any = spec.environments[lake.environment]
    if env.kind == "aws":
        from components.aws.lakehouse import bucket_names
        from components.aws.location import AwsLocation

        loc = AwsLocation(partition=env.partition, region=env.region, account_id=env.account_id)
        return bucket_names(spec.name, list(lake.zones), loc)
    if env.kind == "onprem":  # the site tenant's buckets (blueprints.compose.onprem)
        return {z: naming.bucket_name(spec.name, z, lake.environment) for z in lake.zones}
    return {z: naming.bucket_name(spec.name, z, env.project) for z in lake.zones}


def request_logs(spec: Blueprint) -> dict[str, tuple[str, str]]:
    """(bucket, key prefix) of each watched served model's request log (pipelines.drift), where
    KServe's agent can write the lakehouse (AWS)."""
    from blueprints.spec.lakehouse import request_log_refusal

    p = spec.pipelines
    if p is None or p.drift is None or not p.drift.served_models \
            or request_log_refusal(spec) is not None:
        return {}
    bucket = zone_buckets(spec)[p.drift.served_inputs_zone or p.artifacts_zone]
    return {m: (bucket, f"{REQUEST_LOG_PREFIX}/{m}") for m in p.drift.served_models}


def _namespace_of(spec: Blueprint, team: str) -> str:
    assert spec.queueing is not None
    return spec.queueing.teams[team].namespace


def _aws_catalog(spec: Blueprint, built: Built) -> tuple[CatalogConnection, dict[str, Any]]:
    from components.aws.iceberg_catalog import CatalogTeam, IcebergCatalog, IcebergCatalogArgs
    from components.aws.location import AwsLocation

    lake = spec.lakehouse
    assert lake is not None and spec.queueing is not None
    env: Any = spec.environments[lake.environment]
    build: Any = built.environments[lake.environment]
    # the teams run on the queueing cluster (same account: the spec checks it)
    teams_build: Any = built.environments[spec.queueing.environment]
    teams_cluster: Any = teams_build.cluster
    loc = AwsLocation(partition=env.partition, region=env.region, account_id=env.account_id)
    buckets = zone_buckets(spec)
    pipelines = spec.pipelines
    teams = {}
    for team in granted_teams(spec):
        prefixes: tuple[str, ...] = ()
        reads: tuple[str, ...] = ()
        if pipelines is not None and pipelines.team == team:
            bucket = loc.bucket_arn(buckets[pipelines.artifacts_zone])
            prefixes = (f"{bucket}/{ARTIFACTS_PREFIX}/*",)
            # the drift watch reads the served models' request logs, never writes them
            reads = tuple(f"{loc.bucket_arn(b)}/{key}/*"
                          for _, (b, key) in sorted(request_logs(spec).items()))
        teams[team] = CatalogTeam(namespace=_namespace_of(spec, team), object_prefixes=prefixes,
                                  read_prefixes=reads)
    catalog = IcebergCatalog(naming.child(lake.environment, "iceberg-catalog"), IcebergCatalogArgs(
        location=loc, factory=spec.name, name_prefix=naming.cluster_name(spec.name,
                                                                         lake.environment),
        zone_buckets=buckets, kms_key_arn=build.key.arn, namespaces=catalog_namespaces(spec),
        teams=teams, oidc_provider_arn=teams_cluster.oidc_provider_arn,
        oidc_issuer=teams_cluster.oidc_issuer),
        pulumi.ResourceOptions(parent=build.component, depends_on=[build.lakehouse]))
    connection = CatalogConnection(
        uri=catalog.endpoint, warehouse=env.account_id,
        properties={"rest.sigv4-enabled": "true", "rest.signing-name": "glue",
                    "rest.signing-region": env.region})
    annotations = {t: {"eks.amazonaws.com/role-arn": arn}
                   for t, arn in catalog.team_roles.items()}
    return connection, annotations


def _gcp_catalog(spec: Blueprint, built: Built) -> tuple[CatalogConnection, dict[str, Any]]:
    from components.gcp.iceberg_catalog import GcpIcebergCatalogArgs, IcebergCatalog

    lake = spec.lakehouse
    assert lake is not None and spec.queueing is not None
    env: Any = spec.environments[lake.environment]
    build: Any = built.environments[lake.environment]
    # the teams' Kubernetes identities are principals of their cluster's project
    teams_env: Any = spec.environments[spec.queueing.environment]
    name = naming.fit(naming.child(spec.name, "lakehouse"), 63)
    buckets = zone_buckets(spec)
    catalog = IcebergCatalog(naming.child(lake.environment, "iceberg-catalog"),
                             GcpIcebergCatalogArgs(
        project=env.project, project_number=env.project_number, catalog_name=name,
        zone_buckets=buckets, namespaces=catalog_namespaces(spec),
        team_namespaces={t: _namespace_of(spec, t) for t in granted_teams(spec)},
        identity_project=teams_env.project, identity_project_number=teams_env.project_number),
        pulumi.ResourceOptions(parent=build.component, depends_on=[build.lakehouse]))
    p = spec.pipelines
    if p is not None:
        # the pipelines' artifacts: their prefix of one zone bucket, nothing else of it
        from pulumi_gcp import storage

        from components.gcp.workload_access import workload_principal

        bucket = buckets[p.artifacts_zone]
        storage.BucketIAMMember(
            naming.child(lake.environment, "pipelines-artifacts"), bucket=bucket,
            role="roles/storage.objectUser",
            member=workload_principal(teams_env.project, teams_env.project_number,
                                      _namespace_of(spec, p.team), SERVICE_ACCOUNT),
            condition=storage.BucketIAMMemberConditionArgs(
                title="pipelines-artifacts-only",
                description="Argo Workflows artifacts of the pipelines' team",
                expression=f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/'
                f'{ARTIFACTS_PREFIX}/")'),
            opts=pulumi.ResourceOptions(parent=catalog))
    connection = CatalogConnection(
        uri=catalog.endpoint, warehouse=f"bl://projects/{env.project}/catalogs/{name}",
        properties={"header.x-goog-user-project": env.project, "auth.type": "google"})
    return connection, {}


def _site_catalog(spec: Blueprint, built: Built, platforms: dict[str, ClusterPlatform],
                  ) -> tuple[CatalogConnection, dict[str, Any]]:
    """Polaris on the site, its metastore on the site's CloudNativePG, its warehouse the
    tenant's zone buckets."""
    from blueprints.compose.onprem import postgres_cluster_args
    from blueprints.compose.platform import mirror_of
    from blueprints.compose.secrets import stack_secret
    from catalog.charts import CATALOG_SETUP_IMAGE, OPERAND_IMAGES, POLARIS
    from components.platform.mirror import image_reference
    from components.platform.object_store import tenant_endpoint
    from components.platform.site_catalog import SiteCatalogArgs, SiteIcebergCatalog

    lake = spec.lakehouse
    assert lake is not None and lake.catalog is not None and lake.catalog.site is not None
    c = lake.catalog.site
    env: Any = spec.environments[lake.environment]
    build: Any = built.environments[lake.environment]
    assert env.object_storage is not None and env.databases is not None  # the spec requires
    operator = build.postgres_operator
    assert operator is not None  # the catalog keeps its metastore on the site
    platform = platforms[lake.environment]  # the teams queue on the site (the spec checks)
    mirror = mirror_of(spec)
    images = {i.upstream: image_reference(i, mirror) for i in OPERAND_IMAGES[POLARIS.name]}
    database = postgres_cluster_args(
        spec, lake.environment, name="catalog-db", namespace=c.namespace, database="polaris",
        owner="polaris", password=stack_secret(c.database.password),
        storage_gb=c.database.storage_gb, depends_on=(operator,))
    warehouse = naming.fit(naming.child(spec.name, "lakehouse"), 63)
    catalog = SiteIcebergCatalog(naming.child(lake.environment, "iceberg-catalog"),
                                 SiteCatalogArgs(
        namespace=c.namespace, warehouse=warehouse, zone_buckets=zone_buckets(spec),
        namespaces=catalog_namespaces(spec),
        team_namespaces={t: _namespace_of(spec, t) for t in granted_teams(spec)},
        s3_endpoint=tenant_endpoint(env.object_storage.namespace),
        ca_secret=env.databases.ca_bundle_secret,
        storage_credentials=stack_secret(c.storage_credentials),
        root_credentials=stack_secret(c.root_credentials), token_key=stack_secret(c.token_key),
        database=database, admin_image=images["docker.io/apache/polaris-admin-tool"],
        setup_image=images[CATALOG_SETUP_IMAGE], replicas=c.replicas,
        labels=k8s_labels(spec, **{"aifactory.io/site": lake.environment}),
        depends_on=[d for d in (build.object_store,) if d is not None] + [
            t.namespace_resource for t in platform.team_namespaces], mirror=mirror),
        pulumi.ResourceOptions(parent=build.component, providers=[build.kubernetes]))
    connection = CatalogConnection(
        uri=catalog.uri, warehouse=warehouse,
        properties={"oauth2-server-uri": f"{catalog.uri}/v1/oauth/tokens",
                    "scope": "PRINCIPAL_ROLE:ALL", "header.Polaris-Realm": "POLARIS",
                    "header.X-Iceberg-Access-Delegation": "vended-credentials"})
    return connection, {}


def build_catalog(spec: Blueprint, built: Built,
                  platforms: dict[str, ClusterPlatform]) -> LakehouseAccess | None:
    """The lakehouse's catalog and each granted team's service account and connection."""
    lake = spec.lakehouse
    if lake is None or lake.catalog is None:
        return None
    env = spec.environments[lake.environment]
    if env.kind == "aws":
        connection, annotations = _aws_catalog(spec, built)
    elif env.kind == "gcp":
        connection, annotations = _gcp_catalog(spec, built)
    elif env.kind == "onprem":
        connection, annotations = _site_catalog(spec, built, platforms)
    else:
        raise ComponentArgsError(f"a catalog on {env.kind} is not built yet")
    assert spec.queueing is not None  # the spec requires the teams with the catalog
    teams_env = spec.queueing.environment
    env_build = built.environments[teams_env]
    platform = platforms.get(teams_env)
    if platform is None or env_build.kubernetes is None:
        raise ComponentArgsError(f"{teams_env!r} has no cluster for the teams' catalog "
                                 "identities")
    return LakehouseAccess(naming.child(teams_env, "lakehouse-access"), LakehouseAccessArgs(
        teams=[TeamAccess(team=t, namespace=_namespace_of(spec, t),
                          annotations=annotations.get(t, {})) for t in granted_teams(spec)],
        connection=connection,
        namespaces={n: _catalog_name(spec, n) for n in lake.catalog.namespaces},
        labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: teams_env}),
        depends_on=[t.namespace_resource for t in platform.team_namespaces]),
        pulumi.ResourceOptions(parent=env_build.component, providers=[env_build.kubernetes]))


def _catalog_name(spec: Blueprint, namespace: str) -> str:
    """A namespace's name in the catalog: prefixed in AWS's account-wide Glue catalog, as given
    in the factory's own BigLake catalog."""
    lake = spec.lakehouse
    assert lake is not None
    if spec.environments[lake.environment].kind == "aws":
        return naming.catalog_namespace(spec.name, namespace)
    return namespace


def build_pipelines(spec: Blueprint, built: Built, platforms: dict[str, ClusterPlatform],
                    access: LakehouseAccess | None) -> None:
    """Argo Workflows with the example pipeline and the drift watch, in the pipelines' team
    namespace."""
    from blueprints.compose.platform import mirror_of
    from components.platform.drift import DriftWatch, DriftWatchArgs
    from components.platform.pipelines import (
        ArtifactRepository,
        Pipelines,
        PipelinesArgs,
        PipelineStagesArgs,
    )
    from components.platform.site_catalog import TEAM_SECRET

    p = spec.pipelines
    if p is None:
        return
    assert access is not None  # the spec requires the catalog with the pipelines
    env: Any = spec.environments[p.environment]
    env_build = built.environments[p.environment]
    platform = platforms[p.environment]
    bucket = zone_buckets(spec)[p.artifacts_zone]
    if env.kind == "aws":
        from components.aws.location import AwsLocation

        suffix = AwsLocation(partition=env.partition, region=env.region,
                             account_id=env.account_id).dns_suffix
        artifacts = ArtifactRepository(kind="s3", bucket=bucket, region=env.region,
                                       endpoint=f"s3.{env.region}.{suffix}",
                                       prefix=ARTIFACTS_PREFIX)
    elif env.kind == "onprem":
        from blueprints.compose.secrets import stack_secret
        from components.platform.object_store import tenant_endpoint

        assert env.object_storage is not None and env.databases is not None  # the spec requires
        assert p.storage_credentials is not None  # the spec requires it on a site
        artifacts = ArtifactRepository(
            kind="s3", bucket=bucket, region="us-east-1",  # MinIO's default region
            endpoint=tenant_endpoint(env.object_storage.namespace).removeprefix("https://"),
            prefix=ARTIFACTS_PREFIX, credentials=stack_secret(p.storage_credentials),
            ca_secret=env.databases.ca_bundle_secret)
    else:
        artifacts = ArtifactRepository(kind="gcs", bucket=bucket, prefix=ARTIFACTS_PREFIX)
    s = p.stages
    labels = k8s_labels(spec, **{ENVIRONMENT_LABEL: p.environment})
    args = PipelinesArgs(
        namespace=_namespace_of(spec, p.team), team=p.team, image=p.image, artifacts=artifacts,
        stages=PipelineStagesArgs(raw=_catalog_name(spec, s.raw),
                                  curated=_catalog_name(spec, s.curated),
                                  features=_catalog_name(spec, s.features), table=s.table),
        schedule=s.schedule, labels=labels,
        catalog_secret=TEAM_SECRET if env.kind == "onprem" else None,
        depends_on=(platform.monitoring.chart, access,
                    *(t.namespace_resource for t in platform.team_namespaces)),
        mirror=mirror_of(spec))
    assert env_build.kubernetes is not None  # the queueing environment has a cluster
    opts = pulumi.ResourceOptions(parent=env_build.component, providers=[env_build.kubernetes])
    pipelines = Pipelines(naming.child(p.environment, "pipelines"), args, opts)
    d = p.drift
    if d is not None:
        from components.platform.drift import ServedInputs

        lake_env: Any = spec.environments[spec.lakehouse.environment]  # type: ignore[union-attr]
        models = spec.serving.models if spec.serving is not None else {}
        logs = request_logs(spec)
        served = []
        for m in d.served_models:
            bucket_, key = logs.get(m, (None, None))
            served.append(ServedInputs(
                model=m, team=models[m].team or d.team or p.team,
                namespace=spec.serving.namespace,  # type: ignore[union-attr]
                bucket=bucket_, prefix=key,
                region=lake_env.region if bucket_ is not None else None))
        with blame("pipelines.drift", d):
            DriftWatch(naming.child(p.environment, "drift"), DriftWatchArgs(
                pipelines=args, schedule=d.schedule, alert_team=d.team or p.team,
                reference_days=d.reference_days, current_hours=d.current_hours,
                threshold=d.threshold, labels=labels, served=tuple(served),
                depends_on=(pipelines.chart, pipelines.template, platform.monitoring.chart)),
                opts)


def build_lakehouse_tables(spec: Blueprint, built: Built,
                           platforms: dict[str, ClusterPlatform]) -> None:
    """Everything of the lakehouse beyond its buckets that the blueprint names."""
    access = None
    if spec.lakehouse is not None:
        with blame("lakehouse.catalog", spec.lakehouse.catalog):
            access = build_catalog(spec, built, platforms)
    with blame("pipelines", spec.pipelines):
        build_pipelines(spec, built, platforms, access)
