"""An own site: the Site component, a Host per server with its provisioning hook, GPU pools.

The site's existing Kubernetes cluster is reached through a kubeconfig held as a stack secret;
BMC credentials and the kubeadm join token are stack secrets too. The blueprint names their
config keys (`dc1_kubeconfig` means `aifactory:dc1_kubeconfig`; `ns:key` names another
namespace). The offline plan has no stack secrets: `offline_config` gives it masked placeholders
for exactly the keys the blueprint names, so the program runs unchanged and every place a
secret flows into is recorded as "[secret]".
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from blueprints.compose import EnvironmentBuild, facts, firstboot
from blueprints.compose.blame import POOL_ALIASES, blame
from blueprints.compose.platform import mirror_of
from blueprints.compose.secrets import CONFIG_NAMESPACE as CONFIG_NAMESPACE
from blueprints.compose.secrets import OFFLINE_SECRET as OFFLINE_SECRET
from blueprints.compose.secrets import full_key, stack_secret
from blueprints.compose.tagging import k8s_labels
from blueprints.errors import BlueprintFieldError
from blueprints.spec.models import Blueprint, OnPremSite
from blueprints.spec.models import Host as HostSpec
from blueprints.spec.site_services import postgres_services
from catalog.charts import CHART_IMAGES, CLOUDNATIVE_PG, MINIO_TENANT, OPERAND_IMAGES
from components.baremetal import (
    BootAddress,
    CommandHostArgs,
    GpuPool,
    GpuPoolArgs,
    Host,
    HostArgs,
    Metal3HostArgs,
    Site,
    SiteArgs,
    TinkerbellHostArgs,
    TinkerbellTemplate,
    TinkerbellTemplateArgs,
)
from components.baremetal.host import HookArgs
from components.factory import Factory
from components.naming import bucket_name, child, fit
from components.platform.common import NodeTaint as PlatformTaint
from components.platform.mirror import image_reference
from components.platform.network_operator import NetworkOperator, NetworkOperatorArgs
from components.platform.object_store import (
    BucketUser,
    BucketZone,
    SiteObjectStore,
    SiteObjectStoreArgs,
    TenantImages,
    TenantKms,
    tenant_endpoint,
)
from components.platform.postgres_cluster import (
    BackupDestination,
    PostgresClusterArgs,
    PostgresOperator,
    PostgresOperatorArgs,
)
from components.platform.site_registry import (
    RegistryDatabase,
    RegistryStorage,
    SiteRegistry,
    SiteRegistryArgs,
)


def secret_config_keys(site: OnPremSite) -> list[str]:
    """Every stack secret a site needs: kubeconfig, join token, BMC credentials."""
    keys = {site.cluster.kubeconfig, site.cluster.join_token}
    keys.update(h.bmc_credentials for h in site.hosts)
    return sorted(full_key(k) for k in keys)


def offline_config(spec: Blueprint) -> dict[str, str]:
    """Placeholder values for every stack secret the blueprint names (mark them all secret)."""
    return {key: OFFLINE_SECRET for name, env in spec.environments.items()
            if isinstance(env, OnPremSite)
            for key in secret_config_keys(env) + site_service_secret_keys(spec, name)}


def _hook_args(spec: Blueprint, env_name: str, env: OnPremSite, host: HostSpec,
               namespace: pulumi.Input[str] | None, template: pulumi.Input[str] | None,
               labels: dict[str, str]) -> HookArgs:
    prov = env.provisioning
    user_data = firstboot.render_user_data(spec, env_name, host.hostname)
    if prov.hook == "metal3":
        assert namespace is not None
        return Metal3HostArgs(
            hostname=host.hostname, namespace=namespace, bmc_address=host.bmc_address,
            bmc_credentials=stack_secret(host.bmc_credentials), boot_mac=host.boot_mac,
            image_url=prov.image_url, image_checksum=prov.image_checksum,
            install_disk=prov.install_disk, user_data=user_data,
            join_token=stack_secret(env.cluster.join_token), labels=labels)
    if prov.hook == "tinkerbell":
        assert namespace is not None and template is not None
        net = env.boot_network
        address = None if host.boot_ip is None or net is None else BootAddress(
            address=host.boot_ip, network=net.cidr, gateway=net.gateway,
            name_servers=tuple(net.name_servers))
        return TinkerbellHostArgs(
            hostname=host.hostname, site=env_name, namespace=namespace, boot_mac=host.boot_mac,
            install_disk=prov.install_disk, template_name=template, user_data=user_data,
            join_token=stack_secret(env.cluster.join_token), address=address, labels=labels)
    assert prov.command is not None  # the spec requires it for the command hook
    return CommandHostArgs(
        hostname=host.hostname, create=prov.command.create,
        update=prov.command.update or prov.command.create, delete=prov.command.delete,
        bmc_address=host.bmc_address, bmc_credentials=stack_secret(host.bmc_credentials),
        boot_mac=host.boot_mac, image_url=prov.image_url, image_checksum=prov.image_checksum,
        user_data=user_data, ipxe_script=firstboot.render_ipxe(spec, env_name, host.hostname),
        join_token=stack_secret(env.cluster.join_token),
        join_token_path=firstboot.JOIN_TOKEN_PATH)


def build_environment(spec: Blueprint, env_name: str, env: OnPremSite,
                      factory: Factory) -> EnvironmentBuild:
    """The site, its hosts with their hooks, and its GPU pools."""
    provider = k8s.Provider(
        child(env_name, "kubernetes"),
        kubeconfig=stack_secret(env.cluster.kubeconfig),
        # a rotated kubeconfig must not look like a new cluster (which would replace everything)
        cluster_identifier=env.cluster.api_endpoint,
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=factory),
    )
    prov = env.provisioning
    labels = k8s_labels(spec, **{"aifactory.io/site": env_name})
    site = Site(env_name, SiteArgs(facts=facts.site_facts(env_name, env),
                                   namespace=None if prov.hook == "command" else prov.namespace,
                                   labels=labels),
                pulumi.ResourceOptions(parent=factory, providers=[provider]))
    template: pulumi.Output[str] | None = None
    if prov.hook == "tinkerbell":
        assert site.namespace is not None and prov.metadata_url is not None
        template = TinkerbellTemplate(child(env_name, "tinkerbell"), TinkerbellTemplateArgs(
            template_name=fit(child(spec.name, env_name), 63), namespace=site.namespace,
            image_url=prov.image_url, install_disk=prov.install_disk,
            root_partition=prov.root_partition, metadata_url=prov.metadata_url,
            join_token_path=firstboot.JOIN_TOKEN_PATH, labels=labels,
        ), pulumi.ResourceOptions(parent=site)).template_name

    for host in env.hosts:
        host_labels = {**labels, "aifactory.io/rack": host.rack}
        Host(child(env_name, host.hostname), HostArgs(
            facts=facts.host_facts(env_name, host, spec.policy.host_overhead_w),
            hook=_hook_args(spec, env_name, env, host, site.namespace, template, host_labels),
        ), pulumi.ResourceOptions(parent=site))

    pools: dict[str, pulumi.ComponentResource] = {}
    for pool_name, pool in spec.pools.items():
        if pool.environment != env_name:
            continue
        names = pool.hosts if pool.hosts is not None else [h.hostname for h in env.gpu_hosts]
        with blame(f"pools.{pool_name}", pool, POOL_ALIASES):
            pools[pool_name] = GpuPool(pool_name, GpuPoolArgs(
                facts=facts.pool_facts(spec, pool_name, pool), hostnames=names,
            ), pulumi.ResourceOptions(parent=site))
    store = build_object_storage(spec, env_name, env, site)
    operator = build_postgres_operator(spec, env_name, env, site)
    build_registry(spec, env_name, env, site, store, operator)
    if env.fabric is not None:
        _network_operator(spec, env_name, env, site, provider, labels)
    return EnvironmentBuild(environment=env_name, kind="onprem", component=site,
                            kubernetes=provider, pools=pools, postgres_operator=operator,
                            object_store=store)


def site_service_secret_keys(spec: Blueprint, env_name: str) -> list[str]:
    """The stack secrets a site's object storage and registry need: the tenant's root
    credentials, KES's login; Harbor's admin password, encryption key, bucket user and
    database password."""
    keys: set[str] = set()
    env = spec.environments[env_name]
    storage = env.object_storage if isinstance(env, OnPremSite) else None
    if storage is not None:
        keys |= {storage.root_credentials, storage.kms.credentials}
    reg = spec.registry
    if reg is not None and reg.environment == env_name and reg.site is not None:
        keys |= {reg.site.admin_password, reg.site.secret_key, reg.site.storage_credentials,
                 reg.site.database.password}
    if isinstance(env, OnPremSite) and env.databases is not None \
            and env_name in postgres_services(spec):
        keys.add(env.databases.backup_credentials)
    lake = spec.lakehouse
    catalog = lake.catalog if lake is not None and lake.environment == env_name else None
    if catalog is not None and catalog.site is not None:
        c = catalog.site
        keys |= {c.root_credentials, c.token_key, c.storage_credentials, c.database.password}
    p = spec.pipelines
    if p is not None and p.storage_credentials is not None and lake is not None \
            and lake.environment == env_name:
        keys.add(p.storage_credentials)
    return sorted(full_key(k) for k in keys)


def backup_bucket(spec: Blueprint, env_name: str) -> str | None:
    """The tenant bucket the site's PostgreSQL clusters back up to, when it has any."""
    if env_name not in postgres_services(spec):
        return None
    return bucket_name(spec.name, "backups", env_name)


def postgres_cluster_args(spec: Blueprint, env_name: str, *, name: str, namespace: str,
                          database: str, owner: str, password: pulumi.Input[str],
                          storage_gb: int, depends_on: tuple[pulumi.Resource, ...] = (),
                          ) -> PostgresClusterArgs:
    """A CloudNativePG cluster of a service on a site: the site's settings (environments.
    <site>.databases), its backups to the site tenant's backups bucket."""
    env = spec.environments[env_name]
    assert isinstance(env, OnPremSite)
    dbs, storage, bucket = env.databases, env.object_storage, backup_bucket(spec, env_name)
    assert dbs is not None and storage is not None and bucket is not None  # the spec requires
    storage_class = dbs.storage_class or env.cluster.storage_class
    assert storage_class is not None  # the spec requires one for volumes on the site
    mirror = mirror_of(spec)
    image = image_reference(OPERAND_IMAGES[CLOUDNATIVE_PG.name][0], mirror)
    return PostgresClusterArgs(
        name=name, namespace=namespace, database=database, owner=owner, password=password,
        storage_size=f"{storage_gb}Gi", storage_class=storage_class,
        backup=BackupDestination(endpoint=tenant_endpoint(storage.namespace), bucket=bucket,
                                 credentials=stack_secret(dbs.backup_credentials),
                                 ca_secret=dbs.ca_bundle_secret),
        instances=dbs.instances, retention_days=dbs.backup_retention_days,
        schedule=dbs.backup_schedule,
        node_selector={"aifactory.io/role": "management"} if env.hosts_of("management") else {},
        image=image, labels=k8s_labels(spec, **{"aifactory.io/site": env_name}),
        depends_on=depends_on)


def build_postgres_operator(spec: Blueprint, env_name: str, env: OnPremSite,
                            site: pulumi.ComponentResource) -> PostgresOperator | None:
    """The CloudNativePG operator, when services keep their databases on this site."""
    if env_name not in postgres_services(spec) or env.databases is None:
        return None
    with blame(f"environments.{env_name}.databases", env.databases):
        return PostgresOperator(child(env_name, "postgres"), PostgresOperatorArgs(
            namespace=env.databases.operator_namespace,
            labels=k8s_labels(spec, **{"aifactory.io/site": env_name}),
            mirror=mirror_of(spec)), pulumi.ResourceOptions(parent=site))


def registry_bucket(spec: Blueprint, env_name: str) -> str | None:
    """The tenant bucket of the site's registry, when the registry is on this site."""
    reg = spec.registry
    if reg is None or reg.environment != env_name or reg.site is None:
        return None
    return bucket_name(spec.name, "registry", env_name)


def build_object_storage(spec: Blueprint, env_name: str, env: OnPremSite,
                         site: pulumi.ComponentResource) -> SiteObjectStore | None:
    """The site's object storage (a MinIO tenant on its storage hosts) with the buckets of
    the lakehouse and the registry that are on this site."""
    s = env.object_storage
    if s is None:
        return None
    lake = spec.lakehouse
    names = s.hosts if s.hosts is not None else [h.hostname for h in env.hosts_of("storage")]
    hosts = [h for h in env.hosts if h.hostname in set(names)]
    drives = hosts[0].drives
    assert drives is not None  # the spec requires drives on storage hosts
    mirror = mirror_of(spec)
    images = {i.upstream: image_reference(i, mirror) for i in CHART_IMAGES[MINIO_TENANT.name]}
    kms = s.kms
    zones = [BucketZone(zone=z, bucket=bucket_name(spec.name, z, env_name),
                        retention_days=r.retention_days,
                        noncurrent_retention_days=r.noncurrent_retention_days)
             for z, r in (lake.zones.items() if lake is not None
                          and lake.environment == env_name else ())]
    users = []
    registry = registry_bucket(spec, env_name)
    if registry is not None and spec.registry is not None and spec.registry.site is not None:
        # Harbor's blobs: superseded versions go after a week (its garbage collection deletes)
        zones.append(BucketZone(zone="registry", bucket=registry, noncurrent_retention_days=7))
        users.append(BucketUser(name="harbor", bucket=registry, credentials=stack_secret(
            spec.registry.site.storage_credentials)))
    mlflow = spec.model_registry
    if mlflow is not None and mlflow.environment == env_name and mlflow.storage_credentials \
            and lake is not None and lake.environment == env_name:
        users.append(BucketUser(name="mlflow", bucket=bucket_name(spec.name, "models", env_name),
                                credentials=stack_secret(mlflow.storage_credentials)))
    catalog = lake.catalog if lake is not None and lake.environment == env_name else None
    if catalog is not None and catalog.site is not None and zones:
        # Polaris reads and writes every zone, and vends credentials scoped to a table
        # through the tenant's STS (within this user's policy)
        used = {ns.zone for ns in catalog.namespaces.values()}  # not MLflow's models zone
        zone_names = [z.bucket for z in zones if z.zone in used]
        users.append(BucketUser(name="polaris", bucket=zone_names[0], also=tuple(zone_names[1:]),
                                credentials=stack_secret(catalog.site.storage_credentials)))
    p = spec.pipelines
    if p is not None and p.storage_credentials is not None and lake is not None \
            and lake.environment == env_name:
        # Argo's artifacts only: the zone's tables are the catalog's (Polaris vends those)
        from blueprints.compose.lakehouse import ARTIFACTS_PREFIX

        users.append(BucketUser(name="argo", bucket=bucket_name(spec.name, p.artifacts_zone,
                                                               env_name),
                                credentials=stack_secret(p.storage_credentials),
                                prefix=ARTIFACTS_PREFIX))
    serving = spec.serving
    if serving is not None and serving.environment == env_name \
            and serving.storage_credentials and lake is not None \
            and lake.environment == env_name:
        # KServe's storage initializer: it reads the weights, never writes them
        users.append(BucketUser(name="serving", bucket=bucket_name(spec.name, "models", env_name),
                                credentials=stack_secret(serving.storage_credentials),
                                read_only=True))
    backups = backup_bucket(spec, env_name)
    if backups is not None and env.databases is not None:
        # base backups and WAL: barman-cloud's retention deletes them, superseded versions
        # go after a week
        zones.append(BucketZone(zone="backups", bucket=backups, noncurrent_retention_days=7))
        users.append(BucketUser(name="postgres", bucket=backups, credentials=stack_secret(
            env.databases.backup_credentials)))
    with blame(f"environments.{env_name}.object_storage", s):
        return SiteObjectStore(child(env_name, "object-storage"), SiteObjectStoreArgs(
            tenant=fit(child(spec.name, env_name), 40), namespace=s.namespace,
            environment=env_name, servers=tuple(h.hostname for h in hosts),
            volumes_per_server=drives.count, drive_tb=drives.size_tb,
            storage_class=s.storage_class,
            parity=s.parity, root_credentials=stack_secret(s.root_credentials),
            kms=TenantKms(kind=kms.kind, endpoint=kms.endpoint, key_name=kms.key_name,
                          credentials=stack_secret(kms.credentials),
                          prefix=kms.prefix or (spec.name if kms.kind == "vault" else None),
                          vault_namespace=kms.vault_namespace, group_id=kms.group_id,
                          tls_secret=kms.tls_secret),
            zones=tuple(zones), users=tuple(users),
            images=TenantImages(minio=images["quay.io/minio/minio"],
                                kes=images["quay.io/minio/kes"], mc=images["quay.io/minio/mc"]),
            labels=k8s_labels(spec, **{"aifactory.io/site": env_name}),
            node_labels={"aifactory.io/role": "storage"}, mirror=mirror,
        ), pulumi.ResourceOptions(parent=site))


def build_registry(spec: Blueprint, env_name: str, env: OnPremSite,
                   site: pulumi.ComponentResource, store: SiteObjectStore | None,
                   operator: PostgresOperator | None = None) -> SiteRegistry | None:
    """Harbor on the site's registry hosts, its blobs in the site's tenant, when it is here."""
    reg = spec.registry
    bucket = registry_bucket(spec, env_name)
    if reg is None or reg.site is None or bucket is None:
        return None
    if store is None:  # the spec requires the site's object storage
        raise BlueprintFieldError("registry.site", "Harbor keeps its images in the site's "
                                  "object storage: give the site its object_storage")
    s = reg.site
    database: RegistryDatabase | PostgresClusterArgs
    if s.database.on_cloudnative_pg:
        assert operator is not None  # the spec requires the site's databases
        database = postgres_cluster_args(
            spec, env_name, name="harbor-db", namespace=s.namespace, database=s.database.name,
            owner=s.database.username, password=stack_secret(s.database.password),
            storage_gb=s.database.storage_gb, depends_on=(operator, store))
    else:
        assert s.database.host is not None
        database = RegistryDatabase(
            host=s.database.host, port=s.database.port, name=s.database.name,
            username=s.database.username, password=stack_secret(s.database.password),
            sslmode=s.database.sslmode or "verify-full")
    with blame("registry", reg):
        return SiteRegistry(child(env_name, "registry"), SiteRegistryArgs(
            environment=env_name, hostname=s.hostname, address=s.address,
            namespace=s.namespace, tls_secret=s.tls_secret, token_secret=s.token_secret,
            ca_bundle_secret=s.ca_bundle_secret,
            admin_password=stack_secret(s.admin_password),
            secret_key=stack_secret(s.secret_key),
            database=database,
            storage=RegistryStorage(endpoint=store.endpoint_url, bucket=bucket,
                                    credentials=stack_secret(s.storage_credentials)),
            storage_class=env.cluster.storage_class or "",
            vulnerability_db=s.vulnerability_db,
            java_vulnerability_db=s.java_vulnerability_db,
            projects=tuple(reg.repositories), proxy_cache=tuple(s.proxy_cache),
            immutable_tags=reg.immutable_tags, scan_on_push=reg.scan_on_push,
            labels=k8s_labels(spec, **{"aifactory.io/site": env_name}),
            mirror=mirror_of(spec), depends_on=(store,),
        ), pulumi.ResourceOptions(parent=site))
def _network_operator(spec: Blueprint, env_name: str, env: OnPremSite, site: Site,
                      provider: k8s.Provider, labels: dict[str, str]) -> None:
    """The NVIDIA Network Operator on the site's fabric, in the namespaces jobs run in."""
    fabric = env.fabric
    assert fabric is not None
    teams = spec.queueing.teams.values() if spec.queueing is not None else []
    taints = sorted({PlatformTaint(t.key, t.value, t.effect)
                     for p in spec.pools.values() if p.environment == env_name
                     for t in p.taints}, key=lambda t: (t.key, t.value, t.effect))
    with blame(f"environments.{env_name}.fabric", fabric):
        NetworkOperator(child(env_name, "network-operator"), NetworkOperatorArgs(
            fabric=fabric.kind, interface=fabric.interface, cidr=fabric.cidr, mtu=fabric.mtu,
            adapters_per_host=fabric.adapters_per_host, hosts=len(env.hosts),
            network_namespaces=sorted({t.namespace for t in teams}) or ["default"],
            taints=tuple(taints), labels=labels, mirror=mirror_of(spec)),
            pulumi.ResourceOptions(parent=site, providers=[provider]))
