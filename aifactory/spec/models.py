"""The blueprint spec: pydantic v2 models, one reviewed YAML file describes a whole AI factory.

Pydantic stops here: `aifactory.build` turns a validated `Blueprint` into component args.
Catalog look-ups (instance types, server and GPU models) are validated here too, so that a
blueprint naming something the catalog does not know fails at load time, with its line.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from aifactory import catalog
from aifactory.partitions import partition_of
from aifactory.spec.inventory import (
    BMC,
    MAC,
    HostEntry,
    inventory_problems,
    parse_bmc,
    raw_boot_cidr,
    raw_hosts,
)

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="lower-case letters, digits, '-'")]


def fail(problems: list[tuple[str, str]]) -> None:
    """Raise the problems a cross-field validator found, each at its own path.

    The path is relative to the model being validated; the loader joins it to the model's own
    location, so each problem is reported at its own line of the blueprint.
    """
    if problems:
        raise ValueError("\n".join(f"@{path}|{message}" for path, message in problems))


class Strict(BaseModel):
    """Base for every spec model: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


# ---------------------------------------------------------------------------------------------
# Tags and policy settings


class Tags(Strict):
    """Tags (AWS) / labels (GCP, Kubernetes) put on every taggable resource."""

    owner: str = Field(min_length=1, max_length=63, description="Team that owns the factory.")
    cost_centre: str = Field(min_length=1, max_length=63, description="Cost centre billed.")
    data_classification: Literal["public", "internal", "confidential", "restricted"] = Field(
        description="Highest classification of data the factory holds."
    )
    extra: dict[str, str] = Field(default_factory=dict, description="Further tags, verbatim.")


class Waiver(Strict):
    """A reviewed, time-limited acceptance of one known policy violation."""

    rule: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)+$", description="Rule name to waive.")
    resource: str = Field(
        min_length=1,
        description="Resource name (or URN) the waiver covers; '*' for every resource.",
    )
    reason: str = Field(min_length=10, description="Why the violation is accepted.")
    owner: str = Field(min_length=1, description="Who accepted it (a person or team).")
    expires: date = Field(description="Last day the waiver is valid (YYYY-MM-DD).")

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, v: str) -> str:
        names = policy_rule_names()
        if v in names or re.fullmatch(MANIFEST_RULE, v):
            return v
        close = difflib.get_close_matches(v, sorted(names), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"rules are: {', '.join(sorted(names))}"
        raise ValueError(f"{v!r} is not a policy rule: {hint}")


MANIFEST_RULE = r"^manifest-schema-strict$|^manifest-ckv2?-[a-z0-9]+-\d+$"
"""Rules `aifactory check --manifests` reports under: strict schema and checkov check ids."""


def policy_rule_names() -> set[str]:
    """Names of the policy rules a waiver may name (read from the rule registry)."""
    from aifactory.policies.rules import BY_NAME  # deferred: the spec loads without policies

    return set(BY_NAME) | {"manifest-schema-strict"}


class PolicySettings(Strict):
    """Settings the policy rules read."""

    break_even_utilisation: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Planned utilisation of owned GPUs below which an advisory is raised.",
    )
    planned_utilisation: float | None = Field(
        None, ge=0.0, le=1.0, description="Expected sustained utilisation of owned GPUs."
    )
    air_cooling_limit_kw: float = Field(
        30.0, gt=0, le=60, description="kW per rack above which air cooling is not enough."
    )
    rear_door_limit_kw: float = Field(
        60.0, gt=0, le=120, description="kW per rack above which only liquid cooling will do."
    )
    host_overhead_w: int = Field(
        2000,
        ge=0,
        le=20000,
        description="Watts per server beyond its GPUs, used where no server figure exists.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description="Accepted violations.")


class ImageMirror(Strict):
    """The in-jurisdiction mirror the platform's charts and images are pulled from, by digest."""

    registry: str = Field(
        pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$",
        description="Registry host/path the images are mirrored under, keeping the upstream "
        "reference below it (nvcr.io/nvidia/gpu-operator -> <registry>/nvcr.io/nvidia/"
        "gpu-operator). Use the factory's own in-jurisdiction registry or an allowed one.",
    )
    charts: str | None = Field(
        None, pattern=r"^oci://[a-z0-9][a-z0-9.-]*(:\d+)?(/[a-z0-9._-]+)*$",
        description="oci:// path the charts are mirrored under (default oci://<registry>/charts);"
        " each chart keeps its name and pinned version.",
    )
    images: dict[str, str] = Field(
        min_length=1,
        description="Image lock: each upstream image the platform's charts run, as it was "
        "mirrored (repository:tag), to the sha256 digest of the mirrored copy "
        "(`crane digest <registry>/<repository>:<tag>`).",
    )

    @model_validator(mode="after")
    def _lock_entries(self) -> ImageMirror:
        problems: list[tuple[str, str]] = []
        seen: dict[str, str] = {}
        for ref, digest in self.images.items():
            repo, sep, tag = ref.rpartition(":")
            if not sep or not repo or "/" in tag:
                problems.append(("images", f"{ref!r} has no tag: key the lock by the "
                                 "reference that was mirrored, e.g. nvcr.io/nvidia/gpu-operator:"
                                 "v26.7.0"))
                continue
            if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
                problems.append(("images", f"{ref}: digest {digest!r} is not sha256:<64 hex "
                                 "digits>: give the digest of the mirrored image"))
            if repo in seen:
                problems.append(("images", f"{repo} is locked twice ({seen[repo]} and "
                                 f"{ref}): keep the tag the pinned chart version uses"))
            seen.setdefault(repo, ref)
        fail(problems)
        return self


class Sovereignty(Strict):
    """A declared jurisdiction: everything must stay inside it."""

    jurisdiction: Literal["EU"] = Field(description="The jurisdiction data must stay in.")
    allowed_registries: list[str] = Field(
        default_factory=list,
        description="Registry hosts images may come from, besides the factory's own registry.",
    )
    mirror: ImageMirror | None = Field(
        None, description="In-jurisdiction mirror of the platform's Helm charts (GPU operator, "
        "Kueue, kube-prometheus-stack) and their images, pinned by digest.",
    )


# ---------------------------------------------------------------------------------------------
# Environments: where things run


AWS_REGION = r"^(us|eu|eusc|ap|ca|sa|me|af|il|mx|cn)(-gov)?(-[a-z]+){1,2}-\d$"  # eusc-de-east-1
GCP_REGION = r"^[a-z]+-[a-z]+\d+$"


def _check_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value)
    except ValueError as e:
        raise ValueError(f"{value!r} is not an IPv4 CIDR block such as 10.0.0.0/16 ({e})") from e
    return value


class AwsQuotas(Strict):
    """AWS EC2 vCPU quotas the account holds, per instance-family class (Service Quotas)."""

    on_demand_p_vcpus: int = Field(0, ge=0, description="L-417A185B Running On-Demand P instances.")
    spot_p_vcpus: int = Field(0, ge=0, description="L-7212CCBC All P Spot Instance Requests.")
    on_demand_g_vt_vcpus: int = Field(
        0, ge=0, description="L-DB2E81BA Running On-Demand G and VT instances."
    )
    spot_g_vt_vcpus: int = Field(0, ge=0, description="L-3819A6DF All G and VT Spot Requests.")


MIN_VPC_PREFIX = 22
"""Smallest VPC: a /22 cut into eight blocks leaves each zone a /25 for nodes and pods."""


class AwsEnvironment(Strict):
    """An AWS account and region that hosts one EKS cluster."""

    kind: Literal["aws"] = Field(description="Substrate of this environment.")
    account_id: str = Field(pattern=r"^\d{12}$", description="12-digit AWS account id.")
    region: str = Field(pattern=AWS_REGION, description="AWS region, e.g. eu-west-2.")
    partition: Literal["aws", "aws-eusc", "aws-us-gov", "aws-cn"] = Field(
        "aws", description="AWS partition; aws-eusc is the European Sovereign Cloud."
    )
    availability_zones: list[str] = Field(
        min_length=2, max_length=6, description="Zones for private subnets, e.g. eu-west-2a."
    )
    vpc_cidr: str = Field("10.0.0.0/16", description="VPC CIDR block.")
    kubernetes_version: str = Field(
        "1.33", pattern=r"^1\.\d{2}$", description="EKS Kubernetes version."
    )
    endpoint_public_access: bool = Field(
        False, description="Expose the EKS API endpoint publicly (off by default)."
    )
    public_access_cidrs: list[str] = Field(
        default_factory=list, description="CIDRs allowed to the public endpoint, when enabled."
    )
    log_retention_days: int = Field(
        365, ge=1, le=3653, description="Retention of control-plane logs in CloudWatch."
    )
    quotas: AwsQuotas = Field(
        default_factory=lambda: AwsQuotas(),
        description="vCPU quotas the account holds in this region.",
    )

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return _check_cidr(v)

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        return [_check_cidr(c) for c in v]

    @model_validator(mode="after")
    def _fits_region(self) -> AwsEnvironment:
        problems: list[tuple[str, str]] = []
        wrong = [z for z in self.availability_zones if not re.fullmatch(
            re.escape(self.region) + r"[a-z]", z)]
        if wrong:
            problems.append(("availability_zones", f"{wrong} are not zones of region "
                             f"{self.region!r}: use names such as {self.region}a"))
        elif len(set(self.availability_zones)) != len(self.availability_zones):
            problems.append(("availability_zones", f"{self.availability_zones} repeat a zone: "
                             "name each zone once"))
        expected = partition_of(self.region)
        if self.partition != expected:
            # ARNs, principals and endpoint names all follow the partition: refuse a mismatch.
            problems.append(("partition", f"region {self.region} is in partition {expected}, "
                             f"but partition is {self.partition!r}: set partition: {expected}"))
        prefix = ipaddress.IPv4Network(self.vpc_cidr).prefixlen
        if prefix > MIN_VPC_PREFIX:
            problems.append(("vpc_cidr", f"{self.vpc_cidr} is smaller than a /{MIN_VPC_PREFIX}: "
                             "subnets would hold too few addresses for nodes and pods; use a "
                             f"/16 to /{MIN_VPC_PREFIX} block such as 10.0.0.0/16"))
        fail(problems)
        return self


class GcpEnvironment(Strict):
    """A GCP project and region that hosts one GKE cluster."""

    kind: Literal["gcp"] = Field(description="Substrate of this environment.")
    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", description="GCP project id.")
    project_number: str | None = Field(
        None, pattern=r"^\d{6,20}$",
        description="GCP project number (gcloud projects describe PROJECT "
        "--format='value(projectNumber)'). Required: the GKE, Compute Engine, Cloud Storage and "
        "Artifact Registry service agents granted the customer-managed keys are named after it, "
        "and it cannot be looked up offline.",
    )
    region: str = Field(pattern=GCP_REGION, description="GCP region, e.g. europe-west4.")
    zones: list[str] = Field(min_length=1, max_length=4, description="Zones for node pools.")
    subnet_cidr: str = Field("10.10.0.0/20", description="Primary range of the node subnet.")
    pods_cidr: str = Field("10.20.0.0/14", description="Secondary range for pods.")
    services_cidr: str = Field("10.24.0.0/20", description="Secondary range for services.")
    master_cidr: str = Field("172.16.0.0/28", description="/28 for the private control plane.")
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = Field(
        "REGULAR", description="GKE release channel."
    )
    endpoint_public_access: bool = Field(
        False, description="Expose the GKE control-plane endpoint publicly (off by default)."
    )
    master_authorized_networks: list[str] = Field(
        default_factory=list, max_length=49,
        description="CIDRs, besides the node subnet, allowed to the control plane's IP endpoint "
        "(e.g. a VPN or interconnect range). While the endpoint is private they must be "
        "private (RFC 1918) ranges; empty by default.",
    )
    control_plane_dns_endpoint: bool = Field(
        True,
        description="Enable GKE's DNS-based control-plane endpoint with external traffic "
        "allowed: every request is authorised by IAM (container.clusters.connect), it needs no "
        "public IP or network allow-list, and lets CI apply the platform layer from outside "
        "the VPC; the kubeconfig then uses it. The private IP endpoint stays. Set false to "
        "reach the cluster only over the private IP endpoint from authorised networks.",
    )
    log_retention_days: int = Field(
        365, ge=1, le=3650,
        description="Days the regional log bucket keeps logs (audit logs included).",
    )
    log_bucket_locked: bool = Field(
        False,
        description="Lock the regional log bucket: its retention can never be changed and it "
        "can be deleted only once empty (irreversible; free of charge).",
    )
    data_access_audit_logs: bool = Field(
        True,
        description="Record Data Access audit logs (ADMIN_READ, DATA_READ, DATA_WRITE) for the "
        "services the factory uses (GKE, Cloud KMS, plus Cloud Storage and Artifact Registry "
        "when the lakehouse or registry lives here). Cloud Storage reads during training can "
        "produce many entries: ingestion is billed per GiB.",
    )
    logging_service_agent: str | None = Field(
        None, pattern=r"^[a-z0-9-]+@gcp-sa-logging\.iam\.gserviceaccount\.com$",
        description="Cloud Logging service agent that encrypts the log bucket with its key. "
        "Default: service-<project_number>@gcp-sa-logging.iam.gserviceaccount.com; older "
        "projects use cmek-p<project_number>@... (gcloud logging settings describe "
        "--project=PROJECT shows kmsServiceAccountId).",
    )
    gpu_quotas: dict[str, int] = Field(
        default_factory=dict,
        description="Regional GPU quotas by metric, e.g. NVIDIA_H100_GPUS, "
        "PREEMPTIBLE_NVIDIA_H100_GPUS; GPUS_ALL_REGIONS is project-wide.",
    )

    @field_validator("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return _check_cidr(v)

    @field_validator("master_authorized_networks")
    @classmethod
    def _authorized_cidrs(cls, v: list[str]) -> list[str]:
        return [_check_cidr(c) for c in v]

    @model_validator(mode="after")
    def _authorized_networks_reachable(self) -> GcpEnvironment:
        public = [c for c in self.master_authorized_networks
                  if not ipaddress.IPv4Network(c).is_private]
        if public and not self.endpoint_public_access:
            fail([("master_authorized_networks", f"{public} are public ranges, but the control "
                   "plane's IP endpoint is private (endpoint_public_access: false), which admits "
                   "only private ranges: list private (RFC 1918) ranges, or reach the cluster "
                   "from outside through control_plane_dns_endpoint: true")])
        return self

    @field_validator("gpu_quotas")
    @classmethod
    def _quota_names(cls, v: dict[str, int]) -> dict[str, int]:
        for key, value in v.items():
            if not re.fullmatch(r"[A-Z][A-Z0-9_]+", key):
                raise ValueError(f"quota name {key!r} is not a GCP quota metric such as "
                                 "NVIDIA_H100_GPUS")
            if value < 0:
                raise ValueError(f"quota {key} is {value}: quotas cannot be negative")
        return v

    @model_validator(mode="after")
    def _zones_in_region(self) -> GcpEnvironment:
        wrong = [z for z in self.zones if not re.fullmatch(re.escape(self.region) + r"-[a-z]", z)]
        if wrong:
            fail([("zones", f"{wrong} are not zones of region {self.region!r}: "
                   f"use names such as {self.region}-a")])
        if self.project_number is None:
            fail([("project", f"project {self.project!r} needs its project_number: every GCP "
                   "environment encrypts with customer-managed keys, granted to service agents "
                   "named after the number; add project_number: \"<digits>\" (gcloud projects "
                   f"describe {self.project} --format='value(projectNumber)')")])
        return self


class Rack(Strict):
    """A rack: its power limit and how it is cooled."""

    power_limit_kw: float = Field(gt=0, le=250, description="Power the rack may draw, kW.")
    cooling: Literal["air", "rear-door", "liquid"] = Field(description="How the rack is cooled.")


class Feeds(Strict):
    """A/B power feeds: with both, the whole IT load must fit on one."""

    a_kw: float = Field(gt=0, description="Capacity of feed A, kW.")
    b_kw: float = Field(gt=0, description="Capacity of feed B, kW.")


class Host(Strict):
    """One bare-metal server in the site's inventory."""

    hostname: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", description="Host name.")
    rack: str = Field(description="Rack the host stands in (a key of `racks`).")
    server_model: str = Field(description="Server model from the catalog, e.g. dgx-h100.")
    bmc_address: str = Field(
        pattern=BMC, description="BMC address, e.g. redfish://10.0.0.5/redfish/v1/Systems/1."
    )
    boot_mac: str = Field(pattern=MAC, description="MAC address of the boot NIC, lower case.")
    bmc_credentials: str = Field(
        pattern=r"^[a-zA-Z][a-zA-Z0-9_]*(:[a-zA-Z][a-zA-Z0-9_]*)?$",
        description="Stack config key of the secret holding 'user:password' for the BMC.",
    )
    boot_ip: str | None = Field(
        None, description="IPv4 address of the boot NIC on the site's boot_network (omit when "
        "the site's own DHCP server assigns it)."
    )

    @field_validator("boot_ip")
    @classmethod
    def _ipv4(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ipaddress.IPv4Address(v)
            except ValueError:
                raise ValueError(f"{v!r} is not an IPv4 address such as 10.10.0.21") from None
        return v

    @field_validator("server_model")
    @classmethod
    def _known_server(cls, v: str) -> str:
        catalog.server(v)
        return v

    @field_validator("bmc_address")
    @classmethod
    def _sound_bmc(cls, v: str) -> str:
        parse_bmc(v)  # a host that is an IP address or DNS name, a port 1-65535
        return v


class CommandHook(Strict):
    """Commands the site's own tooling runs per host (pulumi-command)."""

    create: str = Field(min_length=1, description="Run on create; $HOSTNAME, $BMC_ADDRESS, ...")
    update: str | None = Field(
        None, min_length=1,
        description="Run when a host's first-boot files change (re-seed or re-provision); "
        "default: the create command.",
    )
    delete: str = Field(min_length=1, description="Run on delete.")


class Netboot(Strict):
    """The deploy kernel and initrd the rendered iPXE script boots, and where the seed is served."""

    kernel_url: str = Field(pattern=r"^https?://\S+$", description="Deploy kernel URL.")
    initrd_url: str = Field(pattern=r"^https?://\S+$", description="Deploy initrd URL.")
    seed_url: str = Field(
        pattern=r"^https?://\S+$",
        description="Base URL serving the rendered firstboot/ tree (the NoCloud seed).",
    )
    kernel_args: str = Field("", max_length=1000, description="Extra kernel arguments.")


class BootNetwork(Strict):
    """The network hosts boot on, for hooks that hand out addresses (Tinkerbell)."""

    cidr: str = Field(description="IPv4 CIDR of the boot network, e.g. 10.10.0.0/22.")
    gateway: str = Field(description="Default gateway on the boot network.")
    name_servers: list[str] = Field(default_factory=list, description="DNS servers handed out.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return _check_cidr(v)

    @model_validator(mode="after")
    def _addresses(self) -> BootNetwork:
        problems: list[tuple[str, str]] = []
        for path, value in [("gateway", self.gateway)] + [
                (f"name_servers.{i}", s) for i, s in enumerate(self.name_servers)]:
            try:
                ipaddress.IPv4Address(value)
            except ValueError:
                problems.append((path, f"{value!r} is not an IPv4 address"))
        if not problems and ipaddress.IPv4Address(self.gateway) not in ipaddress.IPv4Network(
                self.cidr):
            problems.append(("gateway", f"{self.gateway} is outside {self.cidr}"))
        fail(problems)
        return self


class Provisioning(Strict):
    """How bare-metal hosts are provisioned."""

    hook: Literal["metal3", "tinkerbell", "command"] = Field(description="Provisioning hook.")
    namespace: str = Field("baremetal", pattern=NAME_PATTERN, description="Namespace for CRs.")
    image_url: str = Field(
        pattern=r"^https?://\S+$", description="OS image the hosts boot (qcow2 or raw)."
    )
    image_checksum: str = Field(
        pattern=r"^(sha256|sha512):[0-9a-f]{64,128}$", description="Checksum of the image."
    )
    command: CommandHook | None = Field(None, description="Commands, for the command hook.")
    install_disk: str = Field(
        "/dev/nvme0n1", pattern=r"^/dev/\S+$", description="Disk the image is written to."
    )
    root_partition: int = Field(
        1, ge=1, le=128, description="Partition of the image holding the root filesystem."
    )
    metadata_url: str | None = Field(
        None, pattern=r"^https?://\S+$",
        description="Tinkerbell: metadata service (Hegel) the installed OS reads cloud-init from.",
    )
    netboot: Netboot | None = Field(
        None, description="Deploy kernel/initrd for the rendered iPXE script (own PXE tooling)."
    )

    @model_validator(mode="after")
    def _command_needs_commands(self) -> Provisioning:
        if self.hook == "command" and self.command is None:
            fail([("hook", "hook 'command' needs a `command` block with create and delete")])
        if self.hook == "tinkerbell" and self.metadata_url is None:
            fail([("hook", "hook 'tinkerbell' needs `metadata_url`, the Hegel URL such as "
                   "http://10.10.0.5:50061 the installed OS reads its cloud-init from")])
        return self


class SiteCluster(Strict):
    """The site's existing Kubernetes cluster the hosts join."""

    kubeconfig: str = Field(
        pattern=r"^[a-zA-Z][a-zA-Z0-9_]*(:[a-zA-Z][a-zA-Z0-9_]*)?$",
        description="Stack config key of the secret kubeconfig of the site's cluster.",
    )
    api_endpoint: str = Field(pattern=r"^https://\S+$", description="API server URL for joins.")
    join_token: str = Field(
        pattern=r"^[a-zA-Z][a-zA-Z0-9_]*(:[a-zA-Z][a-zA-Z0-9_]*)?$",
        description="Stack config key of the secret kubeadm bootstrap token.",
    )
    kubernetes_version: str = Field("1.33", pattern=r"^1\.\d{2}$", description="kubelet version.")
    ca_cert_hash: str | None = Field(
        None, pattern=r"^sha256:[0-9a-f]{64}$",
        description="kubeadm discovery CA hash (public); when omitted, the provisioner writes it.",
    )


class OnPremSite(Strict):
    """An own data centre: power envelope, racks and the host inventory."""

    kind: Literal["onprem"] = Field(description="Substrate of this environment.")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code.")
    power_budget_kw: float = Field(gt=0, le=500_000, description="Facility power budget, kW.")
    pue: float = Field(ge=1.0, le=3.0, description="Power usage effectiveness of the site.")
    feeds: Feeds | None = Field(None, description="A/B feeds, when the site has them.")
    racks: dict[str, Rack] = Field(min_length=1, description="Racks by name.")
    hosts: list[Host] = Field(min_length=1, description="Inventory of bare-metal hosts.")
    provisioning: Provisioning = Field(description="How the hosts are provisioned.")
    cluster: SiteCluster = Field(description="The site's Kubernetes cluster.")
    boot_network: BootNetwork | None = Field(
        None, description="Boot network, when hosts get fixed addresses (boot_ip)."
    )

    @model_validator(mode="wrap")
    @classmethod
    def _inventory(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> OnPremSite:
        """Checks across hosts; they also run on the sound raw values when a field is wrong."""
        try:
            site: OnPremSite = handler(data)
        except ValidationError as e:
            if not isinstance(data, dict):
                raise
            racks = data.get("racks")
            problems = inventory_problems(
                raw_hosts(data.get("hosts")), list(racks) if isinstance(racks, dict) else None,
                data.get("boot_network") is not None, raw_boot_cidr(data.get("boot_network")))
            if not problems:
                raise
            found = ValueError("\n".join(f"@{path}|{message}" for path, message in problems))
            raise ValidationError.from_exception_data(e.title, [
                *e.errors(),  # type: ignore[list-item]
                {"type": "value_error", "loc": (), "input": data, "ctx": {"error": found}},
            ]) from None
        net = site.boot_network
        fail(inventory_problems(
            [HostEntry(i, h.hostname, h.rack, h.boot_mac, h.bmc_address, h.boot_ip)
             for i, h in enumerate(site.hosts)],
            list(site.racks), net is not None, net.cidr if net is not None else None))
        return site


Environment = Annotated[
    AwsEnvironment | GcpEnvironment | OnPremSite, Field(discriminator="kind")
]


# ---------------------------------------------------------------------------------------------
# What runs there


class Taint(Strict):
    """A Kubernetes node taint."""

    key: str = Field(min_length=1, description="Taint key.")
    value: str = Field("", description="Taint value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        "NoSchedule", description="Taint effect."
    )


GPU_TAINT = Taint(key="nvidia.com/gpu", value="present", effect="NoSchedule")


class GpuSharing(Strict):
    """GPU sharing on GKE: MIG partitions or time-sharing."""

    strategy: Literal["mig", "time-sharing"] = Field(description="Sharing strategy.")
    partition_size: str | None = Field(
        None, pattern=r"^\d g\.\d+gb$|^\dg\.\d+gb$", description="MIG partition, e.g. 1g.10gb."
    )
    max_shared_clients_per_gpu: int = Field(2, ge=2, le=48, description="For time-sharing.")

    @model_validator(mode="after")
    def _mig_needs_partition(self) -> GpuSharing:
        if self.strategy == "mig" and self.partition_size is None:
            fail([("strategy", "strategy 'mig' needs partition_size, e.g. 1g.10gb")])
        return self


class GpuPool(Strict):
    """A pool of GPU nodes: cloud instances, or on-prem hosts of a site."""

    environment: str = Field(description="Environment the pool runs in (a key of environments).")
    instance_type: str | None = Field(
        None, description="Cloud instance/machine type from the catalog, e.g. p5.48xlarge."
    )
    accelerator: str | None = Field(
        None, description="GPU model expected (e.g. h100-sxm5): checked against the type/server."
    )
    hosts: list[str] | None = Field(
        None, description="On-prem: hostnames from the site inventory (all hosts when omitted)."
    )
    min_nodes: int = Field(0, ge=0, le=1000, description="Fewest nodes.")
    desired_nodes: int | None = Field(None, ge=0, le=1000, description="Nodes at creation.")
    max_nodes: int = Field(ge=1, le=1000, description="Most nodes the pool may scale to.")
    capacity: Literal["on-demand", "spot", "capacity-block"] = Field(
        "on-demand", description="How cloud capacity is bought."
    )
    interruption_tolerant: bool = Field(
        False, description="The workloads survive losing a node (checkpointing, retries)."
    )
    reservation: str | None = Field(
        None, description="Capacity reservation/block id (AWS) or specific reservation (GCP)."
    )
    compact_placement: bool = Field(False, description="Place nodes close (multi-node training).")
    gpu_sharing: GpuSharing | None = Field(None, description="GKE GPU sharing.")
    disk_size_gb: int = Field(200, ge=50, le=16000, description="Root disk per node, GiB.")
    taints: list[Taint] = Field(
        default_factory=list, validate_default=True,
        description="Node taints besides the nvidia.com/gpu NoSchedule taint every GPU pool "
        "carries (it keeps other workloads off the GPU nodes).",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Node labels.")

    @field_validator("instance_type")
    @classmethod
    def _known_instance(cls, v: str | None) -> str | None:
        if v is not None:
            catalog.instance(v)
        return v

    @field_validator("accelerator")
    @classmethod
    def _known_gpu(cls, v: str | None) -> str | None:
        if v is not None:
            catalog.gpu(v)
        return v

    @field_validator("taints")
    @classmethod
    def _keep_gpu_taint(cls, v: list[Taint]) -> list[Taint]:
        """The GPU taint always comes first; the blueprint's taints are added beside it."""
        problems = [(f"{i}", f"taint {t.key}:{t.effect} is the pool's own GPU taint (value "
                     f"{GPU_TAINT.value!r}): remove it from taints, or give it another effect")
                    for i, t in enumerate(v)
                    if (t.key, t.effect) == (GPU_TAINT.key, GPU_TAINT.effect) and t != GPU_TAINT]
        fail(problems)
        return [GPU_TAINT, *(t for t in v if t != GPU_TAINT)]

    @model_validator(mode="after")
    def _bounds(self) -> GpuPool:
        problems: list[tuple[str, str]] = []
        if self.min_nodes > self.max_nodes:
            problems.append(("max_nodes", f"max_nodes ({self.max_nodes}) is below min_nodes "
                             f"({self.min_nodes}): raise max_nodes or lower min_nodes"))
        elif not self.min_nodes <= self.desired <= self.max_nodes:
            problems.append(("desired_nodes", f"desired_nodes ({self.desired}) must lie between "
                             f"min_nodes ({self.min_nodes}) and max_nodes ({self.max_nodes})"))
        if self.capacity == "spot" and not self.interruption_tolerant:
            problems.append(("capacity", "spot capacity can be reclaimed at any time: set "
                             "interruption_tolerant: true if the workloads checkpoint, or use "
                             "on-demand"))
        if self.capacity == "capacity-block" and not self.reservation:
            problems.append(("reservation", "capacity 'capacity-block' needs the capacity "
                             "block's reservation id here"))
        fail(problems)
        return self

    @property
    def desired(self) -> int:
        """Nodes at creation: desired_nodes, or min_nodes when not given."""
        return self.desired_nodes if self.desired_nodes is not None else self.min_nodes


class LakehouseZone(Strict):
    """One zone of the lakehouse (raw, curated, features, ...): a bucket of its own."""

    retention_days: int | None = Field(
        None, ge=1, le=36500, description="Delete objects after this many days (none: keep)."
    )
    noncurrent_retention_days: int = Field(
        30, ge=1, le=3650, description="Delete superseded object versions after this many days."
    )
    archive_after_days: int | None = Field(
        None, ge=1, le=36500, description="Move objects to archive storage after this many days."
    )

    @model_validator(mode="after")
    def _archive_before_expiry(self) -> LakehouseZone:
        if self.retention_days is not None and self.archive_after_days is not None \
                and self.archive_after_days >= self.retention_days:
            fail([("archive_after_days", f"archive_after_days ({self.archive_after_days}) is "
                   f"not below retention_days ({self.retention_days}): objects would be deleted "
                   "before they are archived; lower archive_after_days or raise retention_days")])
        return self


class Replication(Strict):
    """Copy every zone to a second region."""

    region: str = Field(description="Destination region (same cloud as the lakehouse).")


class Lakehouse(Strict):
    """The object-storage lakehouse: a bucket per zone."""

    environment: str = Field(description="Cloud environment holding the buckets.")
    zones: dict[str, LakehouseZone] = Field(min_length=1, description="Zones by name.")
    replication: Replication | None = Field(None, description="Cross-region replication.")


class Registry(Strict):
    """Container (and model) registry."""

    environment: str = Field(description="Cloud environment holding the registry.")
    repositories: list[Name] = Field(min_length=1, description="Repositories to create.")
    immutable_tags: bool = Field(True, description="Tags cannot be moved once pushed.")
    scan_on_push: bool = Field(True, description="Scan images for vulnerabilities on push.")

    @field_validator("repositories")
    @classmethod
    def _each_once(cls, v: list[str]) -> list[str]:
        first: dict[str, int] = {}
        problems = [(f"{i}", f"{r!r} repeats repositories[{first[r]}]: list each repository "
                     "once") for i, r in enumerate(v) if first.setdefault(r, i) != i]
        fail(problems)
        return v


class Team(Strict):
    """A team that submits jobs: gets a namespace and a LocalQueue."""

    namespace: str = Field(pattern=NAME_PATTERN, description="Kubernetes namespace of the team.")


class Queueing(Strict):
    """Kueue job queueing across pools."""

    environment: str = Field(description="Cluster where Kueue runs (the management cluster).")
    teams: dict[Name, Team] = Field(min_length=1, description="Teams by name.")
    cohort: Name = Field("ai-factory", description="Cohort the ClusterQueue belongs to.")


class Blueprint(Strict):
    """An AI factory: environments, GPU pools, the lakehouse, registries and policies."""

    name: Name = Field(description="Factory name; prefixes every resource name.")
    description: str = Field("", max_length=500, description="What this factory is for.")
    tags: Tags = Field(description="Tags put on every taggable resource.")
    environments: dict[Name, Environment] = Field(
        min_length=1, description="Clouds and sites by name."
    )
    pools: dict[Name, GpuPool] = Field(default_factory=dict, description="GPU pools by name.")
    lakehouse: Lakehouse | None = Field(None, description="Object-storage lakehouse.")
    registry: Registry | None = Field(None, description="Container registry.")
    queueing: Queueing | None = Field(None, description="Kueue job queueing.")
    sovereignty: Sovereignty | None = Field(None, description="Declared jurisdiction.")
    policy: PolicySettings = Field(
        default_factory=lambda: PolicySettings(), description="Policy settings and waivers."
    )

    @model_validator(mode="after")
    def _references(self) -> Blueprint:
        problems: list[tuple[str, str]] = []
        for name, pool in self.pools.items():
            env = self.environments.get(pool.environment)
            where = f"pools.{name}"
            if env is None:
                problems.append((f"{where}.environment", f"{pool.environment!r} is not an "
                                 f"environment: declared are {sorted(self.environments)}"))
                continue
            problems.extend(_pool_fits_environment(where, pool, env))
        claimed: dict[tuple[str, str], str] = {}
        for name, pool in self.pools.items():
            env = self.environments.get(pool.environment)
            if not isinstance(env, OnPremSite):
                continue
            listed = pool.hosts is not None
            names = pool.hosts if pool.hosts is not None else [x.hostname for x in env.hosts]
            for i, h in enumerate(names):
                owner = claimed.setdefault((pool.environment, h), name)
                if owner != name:
                    problems.append((f"pools.{name}.hosts" + (f".{i}" if listed else ""),
                                     f"{h!r} is already in pool {owner!r}: a host belongs to "
                                     "one pool; list the hosts of each pool"))
        for section, ref, allowed in (
            ("lakehouse", self.lakehouse, ("aws", "gcp")),
            ("registry", self.registry, ("aws", "gcp")),
            ("queueing", self.queueing, ("aws", "gcp", "onprem")),
        ):
            if ref is None:
                continue
            env = self.environments.get(ref.environment)
            if env is None:
                problems.append((f"{section}.environment", f"{ref.environment!r} is not an "
                                 f"environment: declared are {sorted(self.environments)}"))
            elif env.kind not in allowed:
                problems.append((f"{section}.environment", f"{ref.environment!r} is "
                                 f"{env.kind}: {section} needs one of {', '.join(allowed)}"))
        fail(problems)
        return self

    @model_validator(mode="after")
    def _mirror_lock_complete(self) -> Blueprint:
        mirror = self.sovereignty.mirror if self.sovereignty else None
        if mirror is None:
            return self
        # deferred: the chart catalogue is platform data (no Pulumi import)
        from aifactory.components.platform.charts import CHART_IMAGES, upstream_images

        charts = ["kube-prometheus-stack"]
        if self.pools:
            charts.append("gpu-operator")
        if self.queueing is not None:
            charts.append("kueue")
        locked = {ref.rpartition(":")[0] for ref in mirror.images}
        problems = []
        for repo in upstream_images(charts):
            if repo not in locked:
                chart = next(c for c in charts if any(i.upstream == repo
                                                      for i in CHART_IMAGES[c]))
                problems.append(("sovereignty.mirror.images", f"no entry for {repo} (chart "
                                 f"{chart}): mirror it to {mirror.registry}/{repo} and add "
                                 f"'{repo}:<tag>: sha256:<digest>'"))
        fail(problems)
        return self

    def environment_of(self, pool: GpuPool) -> AwsEnvironment | GcpEnvironment | OnPremSite:
        """The environment a pool runs in."""
        return self.environments[pool.environment]


def _pool_fits_environment(
    where: str, pool: GpuPool, env: AwsEnvironment | GcpEnvironment | OnPremSite
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if isinstance(env, OnPremSite):
        if pool.instance_type is not None:
            problems.append((f"{where}.instance_type",
                             "on-prem pools take `hosts`, not instance types"))
        known = {h.hostname for h in env.hosts}
        for i, h in enumerate(pool.hosts or []):
            if h not in known:
                problems.append((f"{where}.hosts.{i}",
                                 f"{h!r} is not in the inventory of {pool.environment!r}"))
        if pool.capacity != "on-demand":
            problems.append((f"{where}.capacity", "owned hosts are always on-demand"))
        if pool.accelerator is not None:
            chosen = set(pool.hosts) if pool.hosts is not None else known
            for host in env.hosts:
                gpu = catalog.server(host.server_model).gpu
                if host.hostname in chosen and gpu != pool.accelerator:
                    problems.append((f"{where}.accelerator", f"{pool.accelerator!r} does not "
                                     f"match host {host.hostname} ({host.server_model}, {gpu})"))
        return problems
    if pool.instance_type is None:
        return [(f"{where}.instance_type", f"required for a {env.kind} pool")]
    if pool.hosts is not None:
        return [(f"{where}.hosts", "only on-prem pools take hosts")]
    itype = catalog.instance(pool.instance_type)
    if itype.cloud != env.kind:
        return [(f"{where}.instance_type", f"{pool.instance_type!r} is a {itype.cloud} type, but "
                 f"environment {pool.environment!r} is {env.kind}")]
    # Whether the type is offered in the region is the policy rule
    # capacity-instance-availability's to report (waivable, named in the check report).
    if pool.accelerator is not None and pool.accelerator != itype.gpu:
        problems.append((f"{where}.accelerator", f"{pool.accelerator!r} does not match "
                         f"{pool.instance_type}, which has {itype.gpus} x {itype.gpu}"))
    if pool.capacity == "capacity-block" and env.kind != "aws":
        problems.append((f"{where}.capacity", "'capacity-block' is an AWS purchase option; "
                         "on GCP use `reservation` with on-demand"))
    return problems
