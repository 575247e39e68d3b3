"""The registry on a site: Harbor (pinned chart) on the registry hosts, its images in the site's
lakehouse tenant, and its projects, proxy caches and rules through Harbor's API.

- Exposed on the site's load balancer at the blueprint's address, TLS with the site PKI's
  certificate; the storage is a bucket of the MinIO tenant reached over verified TLS (the CA
  bundle the blueprint names), written by a tenant user allowed that bucket only.
- Trivy scans offline: its vulnerability database comes from a mirror inside the site
  (`trivy.dbRepository`), never from ghcr.io; every project scans on push, and the registry
  rescans daily.
- One project per repository the blueprint names, immutable tags where it asks; one
  proxy-cache project per upstream registry (`proxy-<name>`), so the site's nodes can pull
  docker.io/..., quay.io/... through it: Harbor can be the sovereign mirror.
- Its database: a CloudNativePG cluster of the factory's own in the registry's namespace
  (components.platform.postgres_cluster: replicated, backed up to the site's tenant), or a
  PostgreSQL the site already runs (host, user, TLS mode from the blueprint); the password in a
  Secret of ours from the stack secret. Never the chart's internal one (a single pod whose
  password the chart takes only in its values).

Harbor's internal secrets (core's, the job service's, the registry's, the XSRF key and the
registry's htpasswd login) are Secrets of ours, derived from the stack's encryption key
(HMAC-SHA512 per purpose, bcrypt with a derived salt): the chart would otherwise generate new
ones on every render, so two renders and plans would differ and every `up` would restart
Harbor. Core signs registry tokens with the blueprint's certificate (`token_secret`), not a key
the chart generates per render.

The projects, proxy registries and rules are real resources of pulumiverse-harbor (Harbor's
REST API), applied after the chart by a provider that logs in as admin with the stack secret.
Projects are protected: they hold the images.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import bcrypt
import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_harbor as harbor

from blueprints.errors import ComponentArgsError
from catalog.charts import HARBOR
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import chart, namespace
from components.platform.mirror import ImageMirror
from components.platform.object_store import object_meta, secret_text
from components.platform.postgres_cluster import PostgresCluster, PostgresClusterArgs
from components.platform.postgres_cluster import validate as validate_cluster

ROLE_LABEL = "aifactory.io/role"
PROVIDER_TYPES = {"docker.io": "docker-hub", "quay.io": "quay", "ghcr.io": "github"}
"""Harbor's registry provider for an upstream (any other: a plain docker-registry)."""


@dataclass(frozen=True)
class RegistryStorage:
    """The tenant bucket Harbor keeps its blobs in."""

    endpoint: str
    """https:// endpoint of the tenant (inside the cluster)."""
    bucket: str
    """Bucket name."""
    credentials: pulumi.Input[str]
    """Secret 'access_key:secret_key' of the tenant user allowed that bucket."""


@dataclass(frozen=True)
class RegistryDatabase:
    """The PostgreSQL database Harbor keeps its metadata in (one the site runs)."""

    host: str
    """Server DNS name."""
    port: int
    """Port."""
    name: str
    """Database name."""
    username: str
    """User."""
    password: pulumi.Input[str]
    """Secret: the user's password (in a Secret of ours, never in the chart's values)."""
    sslmode: str
    """libpq sslmode (require, verify-ca, verify-full)."""


@dataclass(frozen=True)
class SiteRegistryArgs:
    """Arguments of `SiteRegistry`."""

    environment: str
    """The site it runs on."""
    hostname: str
    """DNS name it serves at."""
    address: str
    """Load-balancer IPv4 address."""
    namespace: str
    """Namespace of the release."""
    tls_secret: str
    """Existing kubernetes.io/tls Secret for hostname."""
    token_secret: str
    """Existing kubernetes.io/tls Secret (tls.crt, tls.key) core signs registry tokens with."""
    ca_bundle_secret: str
    """Existing Secret (ca.crt) trusting the tenant's certificate."""
    admin_password: pulumi.Input[str]
    """Secret: Harbor's admin password."""
    secret_key: pulumi.Input[str]
    """Secret: Harbor's 16-character encryption key."""
    database: RegistryDatabase | PostgresClusterArgs
    """Its PostgreSQL: one the site runs, or a CloudNativePG cluster this component creates in
    its namespace (TLS required; the operator's own CA signs the server's certificate)."""
    storage: RegistryStorage
    """The tenant bucket."""
    storage_class: str
    """StorageClass of Harbor's own volumes (job logs, database, redis, Trivy's cache)."""
    vulnerability_db: str
    """OCI repository of the mirrored Trivy database."""
    java_vulnerability_db: str | None = None
    """OCI repository of the mirrored Trivy Java database (None: not used)."""
    projects: Sequence[str] = ()
    """Projects (the blueprint's repositories)."""
    proxy_cache: Sequence[str] = ()
    """Upstream registries, a proxy-cache project each."""
    immutable_tags: bool = True
    """Tags of every project are immutable."""
    scan_on_push: bool = True
    """Every project scans what is pushed."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror of the chart and its images (None: upstream)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources that must exist first (the tenant and its bucket job)."""


INTERNAL_SECRETS = {"core": ("harbor-core-internal", "secret", 16),
                    "jobservice": ("harbor-jobservice-internal", "JOBSERVICE_SECRET", 16),
                    "registry": ("harbor-registry-internal", "REGISTRY_HTTP_SECRET", 16),
                    "xsrf": ("harbor-core-xsrf", "CSRF_KEY", 32)}
"""Harbor's internal secrets: our Secret, its key (what the chart reads), the length Harbor
requires."""
REGISTRY_CREDENTIALS = "harbor-registry-credentials"
REGISTRY_USER = "harbor_registry_user"
_ALPHABET = string.ascii_letters + string.digits
_BCRYPT_B64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def derived_secret(key: str, purpose: str, length: int) -> str:
    """A stable secret of `length` letters and digits for one purpose, derived from Harbor's
    encryption key: the same on every render, different for every purpose."""
    digest = hmac.new(key.encode(), f"aifactory:harbor:{purpose}".encode(), hashlib.sha512)
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest.digest()[:length])


def htpasswd_line(user: str, password: str, key: str) -> str:
    """`user:bcrypt(password)` with a salt derived from the key (bcrypt is the one hash the
    registry's htpasswd accepts; a random salt would change the line on every render)."""
    d = hmac.new(key.encode(), b"aifactory:harbor:htpasswd-salt", hashlib.sha256).digest()
    # 22 characters of bcrypt's base64; the last carries 2 bits, so one of .Oeu
    salt = "".join(_BCRYPT_B64[b % 64] for b in d[:21]) + ".Oeu"[d[21] % 4]
    hashed = bcrypt.hashpw(password.encode(), f"$2b$10${salt}".encode()).decode()
    return f"{user}:{hashed}"


def proxy_project(upstream: str) -> str:
    """The proxy-cache project of an upstream registry: proxy-docker-io, proxy-nvcr-io, ..."""
    return "proxy-" + upstream.lower().replace(".", "-").replace(":", "-").replace("/", "-")


def validate(args: SiteRegistryArgs) -> None:
    """ComponentArgsError for arguments no registry can be built from."""
    clash = set(args.projects) & {proxy_project(u) for u in args.proxy_cache}
    if clash:
        raise ComponentArgsError(f"`projects` {sorted(clash)} clash with proxy-cache projects: "
                                 "rename them")
    if not args.storage.endpoint.startswith("https://"):
        raise ComponentArgsError(f"`storage.endpoint` ({args.storage.endpoint!r}) is not "
                                 "https://: the registry reaches its bucket over TLS")
    if isinstance(args.database, PostgresClusterArgs):
        if args.database.namespace != args.namespace:
            raise ComponentArgsError(f"`database.namespace` ({args.database.namespace!r}) is "
                                     f"not the registry's ({args.namespace!r}): Harbor's "
                                     "cluster runs in its namespace")
        validate_cluster(args.database)


def external_database(database: RegistryDatabase | PostgresClusterArgs) -> RegistryDatabase:
    """Where Harbor connects: the site's server, or the CloudNativePG cluster's primary."""
    if isinstance(database, RegistryDatabase):
        return database
    from components.platform.postgres_cluster import host

    return RegistryDatabase(host=host(database.name, database.namespace), port=5432,
                            name=database.database, username=database.owner,
                            password=database.password, sslmode="require")


def harbor_values(args: SiteRegistryArgs, admin_secret: str, key_secret: str,
                  s3_secret: str, database_secret: str) -> dict[str, Any]:
    """The chart's values (every key one harbor 1.19.1 declares); every secret the chart would
    generate comes from a Secret of ours."""
    db = external_database(args.database)
    on_hosts = {"nodeSelector": {ROLE_LABEL: "registry"}}
    core = INTERNAL_SECRETS["core"][0]  # its key is `secret`, fixed by the chart
    jobservice, jobservice_key, _ = INTERNAL_SECRETS["jobservice"]
    registry, registry_key, _ = INTERNAL_SECRETS["registry"]
    xsrf, xsrf_key, _ = INTERNAL_SECRETS["xsrf"]
    claim = {"storageClass": args.storage_class}
    trivy: dict[str, Any] = {
        "enabled": True, "offlineScan": True, "skipUpdate": False,
        "dbRepository": [args.vulnerability_db], "ignoreUnfixed": False, **on_hosts}
    if args.java_vulnerability_db is not None:
        trivy["javaDBRepository"] = [args.java_vulnerability_db]
    else:
        trivy["skipJavaDBUpdate"] = True
    return {
        "expose": {"type": "loadBalancer",
                   "tls": {"enabled": True, "certSource": "secret",
                           "secret": {"secretName": args.tls_secret}},
                   "loadBalancer": {"name": "harbor", "IP": args.address}},
        "externalURL": f"https://{args.hostname}",
        "existingSecretAdminPassword": admin_secret,
        "existingSecretAdminPasswordKey": "HARBOR_ADMIN_PASSWORD",
        "existingSecretSecretKey": key_secret,
        "persistence": {
            "enabled": True, "resourcePolicy": "keep",
            "persistentVolumeClaim": {"jobservice": {"jobLog": claim},
                                      "database": {**claim, "size": "20Gi"},
                                      "redis": claim, "trivy": {**claim, "size": "20Gi"}},
            "imageChartStorage": {
                "type": "s3", "disableredirect": True,
                "caBundleSecretName": args.ca_bundle_secret,
                "s3": {"region": "us-east-1", "bucket": args.storage.bucket,
                       "regionendpoint": args.storage.endpoint, "existingSecret": s3_secret,
                       "secure": True, "skipverify": False, "v4auth": True}},
        },
        "trivy": trivy,
        "database": {"type": "external",
                     "external": {"host": db.host, "port": str(db.port),
                                  "username": db.username, "coreDatabase": db.name,
                                  "existingSecret": database_secret, "sslmode": db.sslmode}},
        "redis": {"type": "internal", "internal": on_hosts},
        "core": {**on_hosts, "existingSecret": core, "secretName": args.token_secret,
                 "existingXsrfSecret": xsrf, "existingXsrfSecretKey": xsrf_key},
        "jobservice": {**on_hosts, "existingSecret": jobservice,
                       "existingSecretKey": jobservice_key},
        "registry": {**on_hosts, "existingSecret": registry, "existingSecretKey": registry_key,
                     "credentials": {"username": REGISTRY_USER,
                                     "existingSecret": REGISTRY_CREDENTIALS}},
        "portal": on_hosts, "exporter": on_hosts, "nginx": on_hosts,
        "metrics": {"enabled": True},
    }


class SiteRegistry(FactoryComponent):
    """Harbor on a site's registry hosts, its projects and proxy caches."""

    def __init__(self, name: str, args: SiteRegistryArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        db = external_database(args.database)
        cnpg = isinstance(args.database, PostgresClusterArgs)
        super().__init__("aifactory:platform:SiteRegistry", name, {
            "environment": args.environment, "hostname": args.hostname,
            "namespace": args.namespace, "projects": list(args.projects),
            "proxyCache": {u: proxy_project(u) for u in args.proxy_cache},
            "immutableTags": args.immutable_tags, "scanOnPush": args.scan_on_push,
            "bucket": args.storage.bucket, "vulnerabilityDb": args.vulnerability_db,
            "database": {"host": db.host, "port": db.port, "name": db.name,
                         "sslmode": db.sslmode,
                         "kind": "cloudnative-pg" if cnpg else "external"}},
            opts)
        labels = dict(args.labels)
        ns = namespace(child(name, "ns"), args.namespace, labels, "baseline", self.child_opts())
        ns_name = args.namespace
        admin = k8s.core.v1.Secret(
            child(name, "admin"), metadata=object_meta("harbor-admin", ns_name, labels),
            type="Opaque",
            string_data={"HARBOR_ADMIN_PASSWORD": secret_text(args.admin_password)},
            opts=self.child_opts(depends_on=[ns]))
        key = k8s.core.v1.Secret(
            child(name, "secret-key"),
            metadata=object_meta("harbor-secret-key", ns_name, labels),
            type="Opaque", string_data={"secretKey": secret_text(args.secret_key)},
            opts=self.child_opts(depends_on=[ns]))
        creds = secret_text(args.storage.credentials)
        s3 = k8s.core.v1.Secret(
            child(name, "storage"), metadata=object_meta("harbor-storage", ns_name, labels),
            type="Opaque",
            string_data={
                "REGISTRY_STORAGE_S3_ACCESSKEY": secret_text(
                    creds.apply(lambda c: c.partition(":")[0])),
                "REGISTRY_STORAGE_S3_SECRETKEY": secret_text(
                    creds.apply(lambda c: c.partition(":")[2]))},
            opts=self.child_opts(depends_on=[ns]))
        database = k8s.core.v1.Secret(
            child(name, "database"),
            metadata=object_meta("harbor-database-login", ns_name, labels),
            type="Opaque",
            # the chart's external database secret: the key it reads is `password`
            string_data={"password": secret_text(db.password)},
            opts=self.child_opts(depends_on=[ns]))
        first: list[pulumi.Resource] = [ns, admin, key, s3, database, *args.depends_on]
        master: pulumi.Output[str] = pulumi.Output.from_input(args.secret_key)

        def derive(purpose: str, length: int) -> pulumi.Output[str]:
            return secret_text(master.apply(lambda k: derived_secret(k, purpose, length)))

        for purpose, (secret_name, data_key, length) in INTERNAL_SECRETS.items():
            first.append(k8s.core.v1.Secret(
                child(name, "internal", purpose),
                metadata=object_meta(secret_name, ns_name, labels), type="Opaque",
                string_data={data_key: derive(purpose, length)},
                opts=self.child_opts(depends_on=[ns])))
        password = master.apply(lambda k: derived_secret(k, "registry-password", 32))
        first.append(k8s.core.v1.Secret(
            child(name, "internal", "registry-credentials"),
            metadata=object_meta(REGISTRY_CREDENTIALS, ns_name, labels), type="Opaque",
            string_data={"REGISTRY_PASSWD": secret_text(password),
                         "REGISTRY_HTPASSWD": secret_text(pulumi.Output.all(master, password).apply(
                             lambda kp: htpasswd_line(REGISTRY_USER, kp[1], kp[0])))},
            opts=self.child_opts(depends_on=[ns])))
        if isinstance(args.database, PostgresClusterArgs):
            self.database_cluster: PostgresCluster | None = PostgresCluster(
                child(name, "db"), replace(args.database, create_namespace=False,
                                           depends_on=(ns, *args.database.depends_on)),
                pulumi.ResourceOptions(parent=self))
            first.append(self.database_cluster)
        else:
            self.database_cluster = None
        values = harbor_values(args, "harbor-admin", "harbor-secret-key", "harbor-storage",
                               "harbor-database-login")
        self.chart = chart(child(name, "chart"), HARBOR, "harbor", args.namespace, values,
                           self.child_opts(depends_on=first),
                           args.mirror)
        api = harbor.Provider(child(name, "api"), url=f"https://{args.hostname}",
                              username="admin",
                              password=secret_text(args.admin_password),
                              opts=pulumi.ResourceOptions(parent=self,
                                                          depends_on=[self.chart]))

        def api_opts(protect: bool = False, depends_on: Sequence[pulumi.Resource] = (),
                     ) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=api, protect=protect,
                                          depends_on=[self.chart, *depends_on])

        harbor.InterrogationServices(child(name, "scanning"), vulnerability_scan_policy="Daily",
                                     opts=api_opts())
        for project in args.projects:
            p = harbor.Project(child(name, project), name=project, public=False,
                               vulnerability_scanning=args.scan_on_push, force_destroy=False,
                               opts=api_opts(protect=True))
            if args.immutable_tags:
                harbor.ImmutableTagRule(child(name, project, "immutable"), project_id=p.id,
                                        repo_matching="**", tag_matching="**",
                                        opts=api_opts())
        for upstream in args.proxy_cache:
            project = proxy_project(upstream)
            reg = harbor.Registry(child(name, project, "upstream"),
                                  name=upstream, endpoint_url=f"https://{upstream}",
                                  provider_name=PROVIDER_TYPES.get(upstream, "docker-registry"),
                                  opts=api_opts())
            harbor.Project(child(name, project), name=project, public=False,
                           registry_id=reg.registry_id,
                           vulnerability_scanning=True, force_destroy=False,
                           # explicit: the registry id is known only once the registry exists
                           opts=api_opts(protect=True, depends_on=[reg]))
        self.url = pulumi.Output.from_input(f"https://{args.hostname}")
        self.register_outputs({"url": self.url})
