"""The lakehouse on a site: the MinIO operator (pinned chart) and a Tenant on the storage hosts.

The operator is an upstream chart; the Tenant and everything around it are objects of ours, so
the plan shows them and ../shared/crds/minio.min.io validates them:

- one pool, a MinIO server on each storage host (node affinity by hostname), one volume a
  data drive of the site's local-drive StorageClass, erasure parity from the blueprint;
- TLS by the operator's automatic certificates (signed through the cluster's CSR API);
- encryption at rest: KES with the site's KMS (Vault or Fortanix DSM), every object under the
  tenant's default key (MINIO_KMS_AUTO_ENCRYPTION);
- one bucket per zone: the Tenant's `buckets` creates them (object lock where the zone has a
  retention, which MinIO can only set at creation), and a Job of `mc` applies what the CRD has
  no field for (its `buckets` items are name, region and objectLock only): versioning, the
  default retention of locked buckets, and each bucket's lifecycle (`mc ilm import`, which
  replaces the whole configuration, so a rerun is idempotent).

The root credentials and the KES configuration (which holds the KMS login) are Secrets whose
values are Pulumi secrets from the stack config; the plan masks them. The Tenant is protected:
it holds the data (its volumes outlive it, as the operator leaves PVCs in place).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import MINIO_OPERATOR
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import chart, namespace
from components.platform.mirror import ImageMirror

TENANT_API = "minio.min.io/v2"
OPERATOR_NAMESPACE = "minio-operator"
ALIAS = "lake"
"""The mc alias of the tenant in the bucket job."""
KES_PORT = 7373
KES_DIR = "/tmp/kes"
"""Where the operator mounts KES's configuration, certificates and its clientCertSecret."""


@dataclass(frozen=True)
class BucketZone:
    """One lakehouse zone: its bucket and rules."""

    zone: str
    """Zone name (raw, curated, ...)."""
    bucket: str
    """Bucket name."""
    retention_days: int | None = None
    """Objects are locked (GOVERNANCE) and then expire after this many days; None: kept."""
    noncurrent_retention_days: int = 30
    """Superseded versions expire after this many days."""


@dataclass(frozen=True)
class BucketUser:
    """A tenant user of one service, allowed its buckets only (read, write, delete; or read
    only)."""

    name: str
    """Service name (the policy is <name>-rw, or <name>-ro when read-only)."""
    bucket: str
    """The bucket it may use."""
    credentials: pulumi.Input[str]
    """Secret 'access_key:secret_key'."""
    also: tuple[str, ...] = ()
    """Further buckets it may use (the site catalog's: the zones of its namespaces)."""
    read_only: bool = False
    """Read the bucket only (list and get): a reader such as KServe's storage initializer."""
    prefix: str | None = None
    """Objects under this key prefix of `bucket` only (it lists the bucket, reads and writes
    nothing else of it): Argo's artifacts under argo/ of a zone the catalog also keeps tables
    in. None: the whole bucket."""

    @property
    def policy(self) -> str:
        """The name of its tenant policy."""
        return f"{self.name}-{'ro' if self.read_only else 'rw'}"


@dataclass(frozen=True)
class TenantKms:
    """The KMS KES keeps the tenant's keys in."""

    kind: Literal["vault", "fortanix"]
    """vault (AppRole) or fortanix (DSM, API key)."""
    endpoint: str
    """https:// endpoint of the KMS."""
    key_name: str
    """The tenant's default encryption key."""
    credentials: pulumi.Input[str]
    """Secret: vault 'role_id:secret_id', fortanix the API key."""
    prefix: str | None = None
    """vault: K/V prefix for the keys."""
    vault_namespace: str | None = None
    """vault: enterprise namespace."""
    group_id: str | None = None
    """fortanix: the DSM group."""
    tls_secret: str | None = None
    """Existing Secret with ca.crt (and public.crt/private.key for mTLS) KES reaches the KMS
    with; the operator mounts it beside KES's configuration."""


@dataclass(frozen=True)
class TenantImages:
    """The image references the tenant runs (upstream by tag, or the mirror's by digest)."""

    minio: str
    """MinIO server."""
    kes: str
    """KES."""
    mc: str
    """The MinIO client, for the bucket job."""


@dataclass(frozen=True)
class SiteObjectStoreArgs:
    """Arguments of `SiteObjectStore`."""

    tenant: str
    """Tenant name (also the prefix of its services and secrets)."""
    namespace: str
    """Namespace of the tenant."""
    servers: Sequence[str]
    """Hostnames of the storage hosts, one MinIO server each."""
    volumes_per_server: int
    """Data drives of each server."""
    environment: str
    """The site it runs on."""
    drive_tb: float
    """Raw capacity of one drive, TB: its volume claims the whole drive."""
    storage_class: str
    """StorageClass of the hosts' local drives."""
    parity: int
    """Erasure-code parity (MINIO_STORAGE_CLASS_STANDARD=EC:N)."""
    root_credentials: pulumi.Input[str]
    """Secret 'access_key:secret_key' of the tenant's root user."""
    kms: TenantKms
    """Encryption at rest."""
    zones: Sequence[BucketZone]
    """One bucket per zone (the lakehouse's on this site, the registry's); none: an empty
    tenant."""
    images: TenantImages
    """What the tenant's pods run."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    node_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels every storage host carries (a node selector besides the hostnames)."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror of the operator's chart and images (None: upstream)."""
    users: Sequence[BucketUser] = ()
    """Service users (Harbor's), each allowed its own bucket, which must be one of `zones`."""


def tenant_endpoint(namespace_name: str) -> str:
    """The tenant's S3 endpoint inside the cluster (the operator's `minio` Service, TLS)."""
    return f"https://minio.{namespace_name}.svc.cluster.local"


def volume_size(drive_tb: float) -> str:
    """The claim of one drive's volume: its capacity in decimal gigabytes (15.36 TB: 15360G)."""
    return f"{round(drive_tb * 1000)}G"


def erasure_set_size(drives: int) -> int:
    """The erasure set size MinIO picks for a pool of `drives` drives: the largest of 16..2
    that divides them (all of them in one set below that)."""
    return next((n for n in range(16, 1, -1) if drives % n == 0), max(drives, 1))


def validate(args: SiteObjectStoreArgs) -> None:
    """ComponentArgsError for arguments no tenant can be built from."""
    if not args.servers:
        raise ComponentArgsError("`servers` is empty: the tenant needs at least one storage host")
    if len(set(args.servers)) != len(args.servers):
        raise ComponentArgsError(f"`servers` ({list(args.servers)}) repeats a host: list each "
                                 "storage host once")
    drives = len(args.servers) * args.volumes_per_server
    if args.volumes_per_server < 1:
        raise ComponentArgsError(f"`volumes_per_server` ({args.volumes_per_server}) is below 1: "
                                 "give each server's data drives")
    if args.parity * 2 > drives:
        raise ComponentArgsError(f"`parity` ({args.parity}) needs {args.parity * 2} drives, the "
                                 f"pool has {drives}: lower parity or add drives")
    buckets = {z.bucket for z in args.zones}
    for u in args.users:
        for bucket in (u.bucket, *u.also):
            if bucket not in buckets:
                raise ComponentArgsError(f"`users`: {u.name} is allowed bucket {bucket!r}, "
                                         f"which the tenant does not have ({sorted(buckets)})")
        if u.prefix is not None and (u.also or not u.prefix.strip("/")):
            raise ComponentArgsError(f"`users`: {u.name} has prefix {u.prefix!r}: a prefix is a "
                                     "non-empty key prefix of its one bucket (no `also`)")
    if not args.kms.endpoint.startswith("https://"):
        raise ComponentArgsError(f"`kms.endpoint` ({args.kms.endpoint!r}) is not https://: KES "
                                 "reaches its KMS over TLS")


def operator_values() -> dict[str, Any]:
    """The operator chart's values: two replicas, its release image."""
    return {"operator": {"replicaCount": 2,
                         "image": {"repository": "quay.io/minio/operator",
                                   "tag": f"v{MINIO_OPERATOR.version}",
                                   "pullPolicy": "IfNotPresent"}}}


def lifecycle(zone: BucketZone) -> dict[str, Any]:
    """The bucket's lifecycle configuration (S3 JSON, as `mc ilm import` reads it)."""
    rules: list[dict[str, Any]] = [{
        "ID": "expire-noncurrent", "Status": "Enabled", "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": zone.noncurrent_retention_days},
    }, {
        "ID": "abort-incomplete-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }]
    if zone.retention_days is not None:
        rules.insert(0, {"ID": "expire-after-retention", "Status": "Enabled",
                         "Filter": {"Prefix": ""}, "Expiration": {"Days": zone.retention_days}})
    return {"Rules": rules}


def user_env(name: str) -> tuple[str, str]:
    """The job's environment variables holding a service user's access and secret key."""
    base = name.upper().replace("-", "_")
    return f"USER_{base}_ACCESS_KEY", f"USER_{base}_SECRET_KEY"


PREFIX_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                         "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]


def bucket_policy(bucket: str, read_only: bool = False, also: tuple[str, ...] = (),
                  prefix: str | None = None) -> dict[str, Any]:
    """A tenant policy allowing these buckets only (IAM JSON, as `mc admin policy create`
    reads); read-only: listing the buckets and getting their objects; with a prefix: listing
    the bucket, and reading and writing the objects under the prefix only."""
    if prefix is not None:
        key = prefix.strip("/")
        return {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket",
                                           "s3:ListBucketMultipartUploads"],
             "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Effect": "Allow",
             "Action": ["s3:GetObject"] if read_only else PREFIX_OBJECT_ACTIONS,
             "Resource": [f"arn:aws:s3:::{bucket}/{key}/*"]}]}
    actions = (["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"] if read_only
               else ["s3:*"])
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": actions,
        "Resource": [r for b in (bucket, *also)
                     for r in (f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*")]}]}


def bucket_script(zones: Sequence[BucketZone], users: Sequence[BucketUser] = ()) -> str:
    """The shell script the bucket job runs (idempotent: a rerun changes nothing)."""
    mc = "mc --config-dir /tmp/.mc"
    lines = [
        "set -eu",
        "mkdir -p /tmp/.mc/certs/CAs",
        "# the operator's certificates are signed by the cluster's CA (kube-root-ca.crt)",
        "cp /cluster-ca/ca.crt /tmp/.mc/certs/CAs/cluster.crt",
        "# credentials are files of the mounted secret, never in the pod's environment",
        f"MC_HOST_{ALIAS}=\"$(cat /secrets/MC_HOST_{ALIAS})\"",
        f"export MC_HOST_{ALIAS}",
        f"until {mc} ready {ALIAS}; do sleep 10; done",
    ]
    for z in zones:
        target = f"{ALIAS}/{z.bucket}"
        lock = " --with-lock" if z.retention_days is not None else ""
        lines.append(f"{mc} mb --ignore-existing{lock} {target}")
        lines.append(f"{mc} version enable {target}")
        if z.retention_days is not None:
            lines.append(f"{mc} retention set --default GOVERNANCE {z.retention_days}d {target}")
        lines.append(f"{mc} ilm import {target} < /config/{z.bucket}.lifecycle.json")
    for u in users:
        access, secret = user_env(u.name)
        policy = u.policy
        user = f'"$(cat /secrets/{access})"'
        lines.append(f"{mc} admin policy create {ALIAS} {policy} /config/{policy}.policy.json")
        lines.append(f'{mc} admin user add {ALIAS} {user} "$(cat /secrets/{secret})"')
        # attach fails when it is attached already: then the user must hold it
        lines.append(f"{mc} admin policy attach {ALIAS} {policy} --user {user} || "
                     f"{mc} admin policy entities {ALIAS} --user {user} | grep -q {policy}")
    return "\n".join(lines) + "\n"


def kes_config(kms: TenantKms, credentials: str) -> str:
    """KES's server configuration (it holds the KMS login: only ever inside a secret)."""
    keystore: dict[str, Any]
    if kms.kind == "vault":
        role_id, _, secret_id = credentials.partition(":")
        vault: dict[str, Any] = {"endpoint": kms.endpoint, "engine": "kv", "version": "v2",
                                 "approle": {"id": role_id, "secret": secret_id,
                                             "retry": "15s"},
                                 "status": {"ping": "10s"}}
        if kms.prefix:
            vault["prefix"] = kms.prefix
        if kms.vault_namespace:
            vault["namespace"] = kms.vault_namespace
        if kms.tls_secret:
            vault["tls"] = {"ca": f"{KES_DIR}/ca.crt"}
        keystore = {"vault": vault}
    else:
        sdkms: dict[str, Any] = {"endpoint": kms.endpoint, "group_id": kms.group_id,
                                 "credentials": {"key": credentials}}
        if kms.tls_secret:
            sdkms["tls"] = {"ca": f"{KES_DIR}/ca.crt"}
        keystore = {"fortanix": {"sdkms": sdkms}}
    config = {
        "version": "v1",
        "address": f":{KES_PORT}",
        "admin": {"identity": "_"},  # no admin identity (the operator's example)
        "tls": {"key": f"{KES_DIR}/server.key", "cert": f"{KES_DIR}/server.crt"},
        "policy": {"minio": {
            "allow": ["/v1/api", "/v1/key/create/*", "/v1/key/generate/*",
                      "/v1/key/decrypt/*", "/v1/key/bulk/decrypt/*"],
            # the operator substitutes the tenant's own client identity
            "identities": ["${MINIO_KES_IDENTITY}"]}},
        "cache": {"expiry": {"any": "5m0s", "unused": "20s"}},
        "log": {"error": "on", "audit": "on"},
        "keystore": keystore,
    }
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def env_config(root_credentials: str, parity: int) -> str:
    """The tenant's config.env: root user, erasure parity, encryption of every object."""
    user, _, password = root_credentials.partition(":")
    return (f"export MINIO_ROOT_USER={json.dumps(user)}\n"
            f"export MINIO_ROOT_PASSWORD={json.dumps(password)}\n"
            f"export MINIO_STORAGE_CLASS_STANDARD=\"EC:{parity}\"\n"
            "export MINIO_KMS_AUTO_ENCRYPTION=\"on\"\n")


def secret_text(value: pulumi.Input[str]) -> pulumi.Output[str]:
    """`value` as a Pulumi secret (masked in every plan and state)."""
    out: pulumi.Output[str] = pulumi.Output.secret(value)
    return out


def object_meta(name: str, namespace: str,
                labels: Mapping[str, str]) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata of a namespaced object of ours."""
    return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels))


def _restricted_container() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000,
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}


def tenant_spec(args: SiteObjectStoreArgs, config_secret: str, kes_secret: str,
                ) -> dict[str, Any]:
    """The Tenant's spec (minio.min.io/v2)."""
    pod_security = {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True,
                    "fsGroup": 1000, "fsGroupChangePolicy": "OnRootMismatch"}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{
            "key": "kubernetes.io/hostname", "operator": "In",
            "values": sorted(args.servers)}]}]}}}
    return {
        "image": args.images.minio,
        "imagePullPolicy": "IfNotPresent",
        "configuration": {"name": config_secret},
        "pools": [{
            "name": "pool-0",
            "servers": len(args.servers),
            "volumesPerServer": args.volumes_per_server,
            "volumeClaimTemplate": {
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "storageClassName": args.storage_class,
                         "resources": {"requests": {"storage": volume_size(args.drive_tb)}}}},
            "nodeSelector": dict(args.node_labels),
            "affinity": affinity,
            "securityContext": pod_security,
            "containerSecurityContext": _restricted_container(),
        }],
        "mountPath": "/export",
        "subPath": "/data",
        "requestAutoCert": True,
        "features": {"bucketDNS": False, "enableSFTP": False},
        "buckets": [{"name": z.bucket, "objectLock": z.retention_days is not None}
                    for z in args.zones],
        "kes": {
            "image": args.images.kes,
            "imagePullPolicy": "IfNotPresent",
            "replicas": 2,
            "kesSecret": {"name": kes_secret},
            "keyName": args.kms.key_name,
            **({"clientCertSecret": {"name": args.kms.tls_secret, "type": "Opaque"}}
               if args.kms.tls_secret else {}),
            "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True,
                                "fsGroup": 1000},
            "containerSecurityContext": _restricted_container(),
        },
        "podManagementPolicy": "Parallel",
        "prometheusOperator": False,
    }


def bucket_job_spec(args: SiteObjectStoreArgs, mc_secret: str,
                    labels: Mapping[str, str]) -> k8s.batch.v1.JobSpecArgs:
    """The bucket job: mc with the setup script, its credentials as files, no token."""
    spec: dict[str, Any] = {
                    "backoffLimit": 10,
                    "template": {
                        "metadata": {"labels": dict(labels)},
                        "spec": {
                            "restartPolicy": "OnFailure",
                            # it talks to the tenant only, never to the Kubernetes API
                            "automountServiceAccountToken": False,
                            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                                "runAsGroup": 10001,
                                                "seccompProfile": {"type": "RuntimeDefault"}},
                            "containers": [{
                                "name": "mc",
                                "image": args.images.mc,
                                "command": ["/bin/sh", "/config/setup.sh"],
                                "env": [{"name": "HOME", "value": "/tmp"}],
                                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                              "limits": {"cpu": "500m", "memory": "256Mi"}},
                                "securityContext": {"allowPrivilegeEscalation": False,
                                                    "readOnlyRootFilesystem": True,
                                                    "capabilities": {"drop": ["ALL"]}},
                                "volumeMounts": [{"name": "config", "mountPath": "/config",
                                                  "readOnly": True},
                                                 {"name": "secrets", "mountPath": "/secrets",
                                                  "readOnly": True},
                                                 {"name": "cluster-ca", "mountPath": "/cluster-ca",
                                                  "readOnly": True},
                                                 {"name": "tmp", "mountPath": "/tmp"}],
                            }],
                            "volumes": [{"name": "config",
                                         "configMap": {"name": f"{args.tenant}-buckets"}},
                                        {"name": "secrets", "secret": {"secretName": mc_secret}},
                                        # every namespace holds the cluster's CA in this ConfigMap
                                        {"name": "cluster-ca",
                                         "configMap": {"name": "kube-root-ca.crt"}},
                                        {"name": "tmp", "emptyDir": {}}],
                        },
                    },
                }
    return spec  # type: ignore[return-value]  # the SDK takes the dict form as well


class SiteObjectStore(FactoryComponent):
    """The lakehouse on a site: MinIO operator, Tenant with KES, buckets per zone."""

    def __init__(self, name: str, args: SiteObjectStoreArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        drives = len(args.servers) * args.volumes_per_server
        erasure_set = erasure_set_size(drives)
        usable_tb = round(drives * args.drive_tb * (erasure_set - args.parity) / erasure_set, 2)
        super().__init__("aifactory:platform:SiteObjectStore", name, {
            "tenant": args.tenant, "namespace": args.namespace, "servers": list(args.servers),
            "volumesPerServer": args.volumes_per_server, "driveTb": args.drive_tb,
            "storageClass": args.storage_class, "parity": args.parity,
            "environment": args.environment, "erasureSetDrives": erasure_set,
            "usableTb": usable_tb,
            "kms": {"kind": args.kms.kind, "endpoint": args.kms.endpoint,
                    "keyName": args.kms.key_name},
            "buckets": {z.zone: z.bucket for z in args.zones}}, opts)
        labels = dict(args.labels)
        operator_ns = namespace(child(name, "operator-ns"), OPERATOR_NAMESPACE, labels,
                                "baseline", self.child_opts())
        self.operator = chart(child(name, "operator"), MINIO_OPERATOR, "minio-operator",
                              OPERATOR_NAMESPACE, operator_values(),
                              self.child_opts(depends_on=[operator_ns]), args.mirror)
        # the tenant's pods run restricted; the operator's sidecar and init container too
        tenant_ns = namespace(child(name, "ns"), args.namespace, labels, "baseline",
                              self.child_opts())
        ns = args.namespace
        config_secret = f"{args.tenant}-env-configuration"
        kes_secret = f"{args.tenant}-kes-configuration"
        mc_secret = f"{args.tenant}-bucket-setup"
        root = secret_text(args.root_credentials)
        env = k8s.core.v1.Secret(
            child(name, "env-configuration"),
            metadata=object_meta(config_secret, ns, labels),
            type="Opaque",
            string_data={"config.env": secret_text(
                root.apply(lambda c: env_config(c, args.parity)))},
            opts=self.child_opts(depends_on=[tenant_ns]))
        kes = k8s.core.v1.Secret(
            child(name, "kes-configuration"),
            metadata=object_meta(kes_secret, ns, labels),
            type="Opaque",
            string_data={"server-config.yaml": secret_text(
                pulumi.Output.from_input(args.kms.credentials).apply(
                    lambda c: kes_config(args.kms, c)))},
            opts=self.child_opts(depends_on=[tenant_ns]))
        self.tenant = k8s.apiextensions.CustomResource(
            child(name, "tenant"), api_version=TENANT_API, kind="Tenant",
            metadata={"name": args.tenant, "namespace": ns, "labels": labels},
            spec=tenant_spec(args, config_secret, kes_secret),
            opts=self.data_opts(depends_on=[self.operator, env, kes]))
        endpoint = tenant_endpoint(ns)
        self.endpoint_url = endpoint
        """The tenant's S3 endpoint inside the cluster (a plain value: known before it runs)."""
        self.endpoint = pulumi.Output.from_input(endpoint)
        self.buckets = pulumi.Output.from_input({z.zone: z.bucket for z in args.zones})
        if not args.zones:
            self.register_outputs({"endpoint": self.endpoint, "buckets": self.buckets})
            return
        mc_secrets: dict[str, pulumi.Output[str]] = {f"MC_HOST_{ALIAS}": secret_text(root.apply(
            lambda c: f"https://{c.partition(':')[0]}:{c.partition(':')[2]}@"
            f"minio.{ns}.svc.cluster.local"))}
        for u in args.users:
            access, secret = user_env(u.name)
            creds = pulumi.Output.from_input(u.credentials)
            mc_secrets[access] = secret_text(creds.apply(lambda c: c.partition(":")[0]))
            mc_secrets[secret] = secret_text(creds.apply(lambda c: c.partition(":")[2]))
        mc_host = k8s.core.v1.Secret(
            child(name, "bucket-setup"),
            metadata=object_meta(mc_secret, ns, labels),
            type="Opaque",
            string_data=mc_secrets,
            opts=self.child_opts(depends_on=[tenant_ns]))
        script = bucket_script(args.zones, args.users)
        files = {"setup.sh": script, **{
            f"{z.bucket}.lifecycle.json": json.dumps(lifecycle(z), indent=2, sort_keys=True)
            for z in args.zones}, **{
            f"{u.policy}.policy.json": json.dumps(bucket_policy(u.bucket, u.read_only, u.also,
                                                                u.prefix),
                                                  indent=2, sort_keys=True)
            for u in args.users}}
        config = k8s.core.v1.ConfigMap(
            child(name, "buckets"),
            metadata=object_meta(f"{args.tenant}-buckets", ns, labels),
            data=files, opts=self.child_opts(depends_on=[tenant_ns]))
        # a new name when the rules change: a Job's pod template is immutable
        digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:8]
        k8s.batch.v1.Job(
            child(name, "bucket-job"),
            metadata=object_meta(f"{args.tenant}-buckets-{digest}", ns, labels),
            spec=bucket_job_spec(args, mc_secret, labels),
            opts=self.child_opts(depends_on=[self.tenant, config, mc_host]))
        self.register_outputs({"endpoint": self.endpoint, "buckets": self.buckets})
