"""Blueprint spec: what a site runs for itself so that the factory needs no cloud: its object
storage (a MinIO tenant on its storage hosts, encrypted through KES with the site's KMS).

Secrets are never in the blueprint: it names the stack config keys that hold them, as it does
for the site's kubeconfig and BMC credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, model_validator

from blueprints.spec.base import ProblemPath, Strict, fail, site_only

SECRET_KEY = r"^[a-zA-Z][a-zA-Z0-9_]*(:[a-zA-Z][a-zA-Z0-9_]*)?$"
"""A stack config key (`key`, or `namespace:key`)."""


class SiteKms(Strict):
    """The key management service KES keeps the tenant's keys in."""

    kind: Literal["vault", "fortanix"] = Field(
        description="vault: HashiCorp Vault's K/V engine, AppRole login; fortanix: Fortanix "
        "DSM (an HSM-backed KMS), API key login.")
    endpoint: str = Field(pattern=r"^https://\S+$",
                          description="The KMS's https:// endpoint, inside the site.")
    key_name: str = Field("minio-default", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$",
                          description="The key KES creates (if missing) and MinIO encrypts every "
                          "object under (SSE-KMS, the tenant's default).")
    prefix: str | None = Field(
        None, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_/-]{0,127}$",
        description="vault: the K/V prefix KES stores its keys under (default: the factory).")
    vault_namespace: str | None = Field(None, min_length=1, max_length=200,
                                        description="vault: an enterprise namespace.")
    group_id: str | None = Field(None, min_length=1, max_length=100,
                                 description="fortanix: the DSM group holding the keys.")
    credentials: str = Field(
        pattern=SECRET_KEY, description="Stack config key of the secret KES logs in with: "
        "vault 'role_id:secret_id' (AppRole), fortanix the API key.")
    tls_secret: str | None = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="Existing Secret in the tenant's namespace with ca.crt, the CA of the "
        "KMS's certificate (the site's PKI), and public.crt/private.key when the KMS wants "
        "mutual TLS; omit when the KMS's certificate chains to a public root.")

    @model_validator(mode="after")
    def _kind_fields(self) -> SiteKms:
        problems: list[tuple[str, str]] = []
        if self.kind == "fortanix" and self.group_id is None:
            problems.append(("group_id", "a fortanix KMS needs the DSM group_id its keys are in"))
        if self.kind != "fortanix" and self.group_id is not None:
            problems.append(("group_id", "only a fortanix KMS takes group_id"))
        if self.kind != "vault":
            for field in ("prefix", "vault_namespace"):
                if getattr(self, field) is not None:
                    problems.append((field, f"only a vault KMS takes {field}"))
        fail(problems)
        return self


class SiteObjectStorage(Strict):
    """A site's object storage: a MinIO tenant on its storage hosts. It holds the lakehouse
    when the lakehouse is on the site, and the site registry's images."""

    hosts: list[str] | None = Field(
        None, min_length=1,
        description="Storage hosts of the site the tenant's pool runs on, one MinIO server "
        "each (default: every host with role storage).")
    storage_class: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="StorageClass of the storage hosts' local drives, one volume a drive "
        "(DirectPV's directpv-min-io, or a local-volume class the site runs).")
    parity: int = Field(
        4, ge=0, le=8, description="Erasure-code parity drives per erasure set (MinIO's "
        "EC:N, default 4): usable capacity is raw x (set - parity) / set.")
    root_credentials: str = Field(
        pattern=SECRET_KEY, description="Stack config key of the tenant's root credentials, "
        "'access_key:secret_key'.")
    kms: SiteKms = Field(description="Encryption at rest: KES with the site's KMS.")
    namespace: str = Field("lakehouse", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                           description="Namespace of the tenant.")


def object_storage_problems(site: object) -> list[tuple[str, str]]:
    """A site's object storage against its inventory (paths relative to the site): storage
    hosts, one pool of equal servers, parity the drives can carry."""
    storage: SiteObjectStorage | None = getattr(site, "object_storage", None)
    if storage is None:
        return []
    all_hosts = list(getattr(site, "hosts", []))
    by_name = {h.hostname: h for h in all_hosts}
    problems: list[tuple[str, str]] = []
    if storage.hosts is None:
        hosts = [h for h in all_hosts if h.role == "storage"]
        if not hosts:
            problems.append(("object_storage.hosts", "the site has no host with role storage: "
                             "add the storage hosts (role: storage, drives) to its inventory"))
    else:
        hosts = []
        for i, name in enumerate(storage.hosts):
            host = by_name.get(name)
            if host is None:
                problems.append((f"object_storage.hosts.{i}", f"{name!r} is not in the "
                                 "site's inventory"))
            elif host.role != "storage":
                problems.append((f"object_storage.hosts.{i}", f"{name!r} is a {host.role} "
                                 "host: the tenant runs on storage hosts (role: storage)"))
            else:
                hosts.append(host)
    shapes = sorted({(h.drives.count, h.drives.size_tb) for h in hosts if h.drives})
    if len(shapes) > 1:
        problems.append(("object_storage.hosts", "the tenant's pool needs servers with the "
                         "same drives, but its hosts have " + ", ".join(
                             f"{n} x {tb:g} TB" for n, tb in shapes) + ": list hosts of one "
                         "kind"))
    drives = sum(h.drives.count for h in hosts if h.drives)
    if hosts and len(shapes) == 1 and storage.parity * 2 > drives:
        problems.append(("object_storage.parity", f"parity {storage.parity} needs at least "
                         f"{storage.parity * 2} drives, the pool has {drives}: lower parity "
                         "or add storage hosts"))
    return problems


def site_lakehouse_problems(lake: object, environments: Mapping[str, object],
                            ) -> list[tuple[str, str]]:
    """A lakehouse on a site: the site's object storage holds it; no archive tier or
    replication there (the tenant has neither)."""
    from blueprints.spec.site import OnPremSite

    if lake is None:
        return []
    name = getattr(lake, "environment", "")
    env = environments.get(name)
    if not isinstance(env, OnPremSite):
        return []
    problems: list[tuple[str, str]] = []
    if env.object_storage is None:
        problems.append(("lakehouse.environment", f"{name!r} is a site without object "
                         f"storage: give environments.{name}.object_storage (the MinIO "
                         "tenant on its storage hosts) to hold the lakehouse there"))
    if getattr(lake, "replication", None) is not None:
        problems.append(("lakehouse.replication", "a site's tenant does not replicate to a "
                         "region: remove replication (site-to-site replication is not built)"))
    for zone, z in getattr(lake, "zones", {}).items():
        if getattr(z, "archive_after_days", None) is not None:
            problems.append((f"lakehouse.zones.{zone}.archive_after_days", "a site's tenant "
                             "has no archive tier: remove archive_after_days"))
    return problems


class SiteDatabase(Strict):
    """Harbor's PostgreSQL: a CloudNativePG cluster of the factory's own on the site (the
    default, without `host`), or one the site already runs (`host`)."""

    host: str | None = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="DNS name of a PostgreSQL server the site already runs (omit: a "
        "CloudNativePG cluster `harbor-db` in the registry's namespace, backed up to the "
        "site's object storage as environments.<site>.databases says).")
    port: int = Field(5432, ge=1, le=65535, description="Port.")
    name: str = Field("registry", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                      description="Database name.")
    username: str = Field("harbor", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                          description="User the service logs in as (the database's owner on "
                          "CloudNativePG).")
    password: str = Field(pattern=SECRET_KEY,
                          description="Stack config key of that user's password.")
    sslmode: Literal["require", "verify-ca", "verify-full"] | None = Field(
        None, description="libpq sslmode, TLS always: verify-full by default for a server of "
        "the site's; require on CloudNativePG, whose server certificate its own CA signs, "
        "which Harbor's chart has no setting to trust.")
    storage_gb: int = Field(20, ge=1, le=65536, description="CloudNativePG: volume of each "
                            "instance, GiB.")

    @model_validator(mode="after")
    def _sound(self) -> SiteDatabase:
        if self.host is None and self.sslmode in ("verify-ca", "verify-full"):
            fail([("sslmode", f"{self.sslmode!r} needs the server's CA, and CloudNativePG's "
                   "own CA signs its certificate: use require, or give `host` for a server "
                   "of the site's")])
        return self

    @property
    def on_cloudnative_pg(self) -> bool:
        """True when the database is a CloudNativePG cluster of ours."""
        return self.host is None


class SiteDatabases(Strict):
    """How the site's PostgreSQL clusters (CloudNativePG, one per service: Harbor's, MLflow's)
    run and are backed up to the site's object storage."""

    backup_credentials: str = Field(
        pattern=SECRET_KEY, description="Stack config key of 'access_key:secret_key' of the "
        "tenant user the clusters write their backups with (created on the tenant, allowed "
        "the backups bucket only).")
    ca_bundle_secret: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="Existing Secret (key ca.crt) in each database's namespace with the CA "
        "that signed the tenant's certificate (the cluster's CA, for the MinIO operator's "
        "automatic certificates): backups, and MLflow's artifacts, go over verified TLS.")
    instances: int = Field(3, ge=1, le=9, description="PostgreSQL pods of each cluster: a "
                           "primary and streaming replicas, spread over hosts.")
    storage_class: str | None = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="StorageClass of the instances' volumes (default: the cluster's "
        "storage_class).")
    backup_retention_days: int = Field(30, ge=1, le=3650, description="Base backups and WAL "
                                       "kept, days.")
    backup_schedule: str = Field(
        "0 0 2 * * *", pattern=r"^\S+( \S+){5}$",
        description="Base backup schedule, six-field cron (seconds first), e.g. '0 0 2 * * *' "
        "for 02:00 daily; WAL is archived continuously.")
    operator_namespace: str = Field("cnpg-system",
                                    pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                                    description="Namespace of the CloudNativePG operator.")


class SiteRegistry(Strict):
    """The registry on a site: Harbor on its registry hosts, its storage on the site's
    lakehouse tenant."""

    hostname: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$",
        description="DNS name the registry serves at (https://<hostname>): what nodes pull "
        "from, and the host of sovereignty.mirror.registry when it is the mirror.")
    address: str = Field(description="IPv4 address of the registry's load balancer on the site "
                         "(from the site's load-balancer pool, e.g. MetalLB's).")
    tls_secret: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="Existing kubernetes.io/tls Secret in the registry's namespace with the "
        "certificate for hostname, issued by the site's PKI (which the nodes trust).")
    token_secret: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="Existing kubernetes.io/tls Secret in the registry's namespace (tls.crt, "
        "tls.key) Harbor's core signs registry tokens with (the chart would generate a new "
        "key on every render), e.g. from the site's PKI or cert-manager.")
    ca_bundle_secret: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="Existing Secret (key ca.crt) in the registry's namespace with the CA that "
        "signed the lakehouse tenant's certificate (the cluster's CA, for the MinIO operator's "
        "automatic certificates): the registry's storage is reached over verified TLS.")
    admin_password: str = Field(pattern=SECRET_KEY,
                                description="Stack config key of Harbor's admin password.")
    secret_key: str = Field(pattern=SECRET_KEY, description="Stack config key of Harbor's "
                            "16-character encryption key (it encrypts the stored credentials).")
    storage_credentials: str = Field(
        pattern=SECRET_KEY, description="Stack config key of 'access_key:secret_key' of the "
        "tenant user the registry writes its bucket with (created on the tenant, allowed that "
        "bucket only).")
    database: SiteDatabase = Field(
        description="Harbor's PostgreSQL: a CloudNativePG cluster on the site, or one the site "
        "runs (never the chart's internal database: a single pod whose password the chart "
        "takes in its values).")
    vulnerability_db: str = Field(
        pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$",
        description="OCI repository of the mirrored Trivy vulnerability database (a copy of "
        "ghcr.io/aquasecurity/trivy-db inside the site): scans never reach the internet.")
    java_vulnerability_db: str | None = Field(
        None, pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$",
        description="OCI repository of the mirrored Trivy Java database (omit: Java archives "
        "are scanned without it).")
    proxy_cache: list[str] = Field(
        default_factory=list,
        description="Upstream registries to proxy (docker.io, quay.io, nvcr.io, "
        "registry.k8s.io, ghcr.io, ...): a proxy-cache project `proxy-<name>` each.")
    hosts: list[str] | None = Field(
        None, min_length=1, description="Registry hosts of the site Harbor runs on (default: "
        "every host with role registry).")
    namespace: str = Field("registry", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                           description="Namespace of the registry.")

    @model_validator(mode="after")
    def _sound(self) -> SiteRegistry:
        import ipaddress

        problems: list[tuple[str, str]] = []
        try:
            ipaddress.IPv4Address(self.address)
        except ValueError:
            problems.append(("address", f"{self.address!r} is not an IPv4 address"))
        seen: dict[str, int] = {}
        for i, upstream in enumerate(self.proxy_cache):
            if upstream in seen:
                problems.append((f"proxy_cache.{i}", f"{upstream!r} repeats "
                                 f"proxy_cache[{seen[upstream]}]"))
            seen.setdefault(upstream, i)
        fail(problems)
        return self


def site_registry_problems(reg: object, environments: Mapping[str, object],
                           ) -> list[tuple[ProblemPath, str]]:
    """A registry and its environment: `site` on a site (its registry hosts, the site's
    object storage for its images), never in a cloud."""
    from blueprints.spec.site import OnPremSite

    if reg is None:
        return []
    env = environments.get(getattr(reg, "environment", ""))
    site: SiteRegistry | None = getattr(reg, "site", None)
    name = getattr(reg, "environment", "")
    if env is None:
        return []
    only = site_only("registry.site", site is not None, name, getattr(env, "kind", ""),
                     site="the registry is Harbor on its registry hosts; give site.hostname, "
                     "address, tls_secret and the secrets",
                     cloud="its registry is the cloud's own (site describes Harbor on a site)")
    if only or not isinstance(env, OnPremSite) or site is None:
        return only
    problems: list[tuple[ProblemPath, str]] = []
    if getattr(reg, "python_repository", False):
        problems.append(("registry.python_repository", "Harbor holds OCI artifacts: a Python "
                         "repository needs a GCP registry (Artifact Registry)"))
    if env.object_storage is None:
        problems.append(("registry.site", f"Harbor on {name!r} keeps its images in the site's "
                         f"object storage: give environments.{name}.object_storage (the "
                         "MinIO tenant on its storage hosts)"))
    by_name = {h.hostname: h for h in env.hosts}
    if site.hosts is None:
        if not env.hosts_of("registry"):
            problems.append(("registry.site.hosts", f"{name!r} has no host with role registry: "
                             "add the registry hosts (role: registry) to its inventory"))
    else:
        for i, host_name in enumerate(site.hosts):
            host = by_name.get(host_name)
            if host is None:
                problems.append((f"registry.site.hosts.{i}", f"{host_name!r} is not in the "
                                 f"inventory of {name!r}"))
            elif host.role != "registry":
                problems.append((f"registry.site.hosts.{i}", f"{host_name!r} is a {host.role} "
                                 "host: Harbor runs on registry hosts (role: registry)"))
    return problems


def postgres_services(spec: object) -> dict[str, list[str]]:
    """The services keeping a CloudNativePG database on each site, by site: Harbor (the site
    registry without a database host of the site's), MLflow (the model registry on a site)
    and Polaris (the lakehouse's catalog on a site)."""
    from blueprints.spec.site import OnPremSite

    envs: Mapping[str, object] = getattr(spec, "environments", {})
    found: dict[str, list[str]] = {}
    reg = getattr(spec, "registry", None)
    site: SiteRegistry | None = getattr(reg, "site", None)
    if site is not None and site.database.on_cloudnative_pg \
            and isinstance(envs.get(reg.environment), OnPremSite):  # type: ignore[union-attr]
        found.setdefault(reg.environment, []).append("Harbor")  # type: ignore[union-attr]
    mlflow = getattr(spec, "model_registry", None)
    if mlflow is not None and isinstance(envs.get(mlflow.environment), OnPremSite):
        found.setdefault(mlflow.environment, []).append("MLflow")
    lake = getattr(spec, "lakehouse", None)
    catalog = getattr(lake, "catalog", None)
    if catalog is not None and getattr(catalog, "site", None) is not None \
            and isinstance(envs.get(lake.environment), OnPremSite):  # type: ignore[union-attr]
        found.setdefault(lake.environment, []).append("Polaris")  # type: ignore[union-attr]
    return found


def site_database_problems(spec: object) -> list[tuple[str, str]]:
    """Every site with a CloudNativePG database names how its clusters run and has the object
    storage their backups go to."""
    envs: Mapping[str, object] = getattr(spec, "environments", {})
    problems: list[tuple[str, str]] = []
    for name, services in postgres_services(spec).items():
        env = envs[name]
        users = " and ".join([", ".join(services[:-1]), services[-1]] if len(services) > 2
                             else services)
        if getattr(env, "databases", None) is None:
            problems.append((f"environments.{name}.databases", f"required: {users} "
                             f"keep{'s' if len(services) == 1 else ''} "
                             f"{'its' if len(services) == 1 else 'their'} PostgreSQL on "
                             f"{name!r} (CloudNativePG); give "
                             "databases.backup_credentials and databases.ca_bundle_secret "
                             "(backups go to the site's object storage)"))
        if getattr(env, "object_storage", None) is None:
            problems.append((f"environments.{name}.object_storage", f"required: the "
                             f"PostgreSQL backups of {users} go to the site's object storage; "
                             "give the MinIO tenant on its storage hosts"))
    return problems
