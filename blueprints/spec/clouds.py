"""Blueprint spec: cloud environments (an AWS account and region, a GCP project and region)."""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from blueprints.spec.base import Strict, check_cidr, fail
from catalog import cloud as cloud_catalog
from catalog.partitions import partition_of

AWS_REGION = r"^(us|eu|eusc|ap|ca|sa|me|af|il|mx|cn)(-gov)?(-[a-z]+){1,2}-\d$"  # eusc-de-east-1
GCP_REGION = r"^[a-z]+-[a-z]+\d+$"


class AwsQuotas(Strict):
    """AWS EC2 vCPU quotas the account holds, per instance-family class (Service Quotas)."""

    on_demand_p_vcpus: int = Field(0, ge=0, description="L-417A185B Running On-Demand P instances.")
    spot_p_vcpus: int = Field(0, ge=0, description="L-7212CCBC All P Spot Instance Requests.")
    on_demand_g_vt_vcpus: int = Field(
        0, ge=0, description="L-DB2E81BA Running On-Demand G and VT instances."
    )
    spot_g_vt_vcpus: int = Field(0, ge=0, description="L-3819A6DF All G and VT Spot Requests.")
    on_demand_inf_vcpus: int = Field(
        0, ge=0, description="L-1945791B Running On-Demand Inf instances."
    )
    spot_inf_vcpus: int = Field(0, ge=0, description="L-B5D1601B All Inf Spot Instance Requests.")
    on_demand_trn_vcpus: int = Field(
        0, ge=0, description="L-2C3B7624 Running On-Demand Trn instances."
    )
    spot_trn_vcpus: int = Field(0, ge=0, description="L-6B0D517C All Trn Spot Instance Requests.")


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
        return check_cidr(v)

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        return [check_cidr(c) for c in v]

    @field_validator("availability_zones")
    @classmethod
    def _zones_of_region(cls, v: list[str], info: ValidationInfo) -> list[str]:
        region = info.data.get("region")
        if region is None:  # the region itself is wrong: reported there
            return v
        wrong = [z for z in v if not re.fullmatch(re.escape(region) + r"[a-z]", z)]
        known = cloud_catalog.aws_zones(region)
        if wrong:
            fail([("", f"{wrong} are not zones of region {region!r}: use names such as "
                   f"{region}a")])
        if known is not None:
            fail([(f"{i}", f"{z!r} is not a zone of {region}, which has "
                   f"{', '.join(known)}: use one of them") for i, z in enumerate(v)
                  if z not in known])
        if len(set(v)) != len(v):
            fail([("", f"{v} repeat a zone: name each zone once")])
        return v

    @model_validator(mode="after")
    def _fits_region(self) -> AwsEnvironment:
        problems: list[tuple[str, str]] = []
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
    gpu_nic_cidr: str = Field(
        "172.20.0.0/16",
        description="Range the subnets of GPUDirect pools' GPU NICs are cut from (each pool "
        "with fabric a /20, in pool-name order; each NIC a /24 of it).")
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

    @field_validator("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr", "gpu_nic_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return check_cidr(v)

    @field_validator("master_authorized_networks")
    @classmethod
    def _authorized_cidrs(cls, v: list[str]) -> list[str]:
        return [check_cidr(c) for c in v]

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
        known = sorted(cloud_catalog.load().gcp_metrics)
        problems: list[tuple[str, str]] = []
        for key, value in v.items():
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else \
                    f"GPU quota metrics are {', '.join(known)}"
                problems.append((key, f"{key!r} is not a GCP GPU quota metric: {hint}"))
            elif value < 0:
                problems.append((key, f"quota {key} is {value}: quotas cannot be negative"))
        fail(problems)
        return v

    @field_validator("region")
    @classmethod
    def _known_region(cls, v: str) -> str:
        regions = cloud_catalog.gcp_regions()
        if v not in regions:
            close = difflib.get_close_matches(v, sorted(regions), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else \
                "see cloud.google.com/compute/docs/regions-zones"
            raise ValueError(f"{v!r} is not a GCP region the catalog knows: {hint}")
        return v

    @field_validator("zones")
    @classmethod
    def _zones_of_region(cls, v: list[str], info: ValidationInfo) -> list[str]:
        region = info.data.get("region")
        if region is None:  # the region itself is wrong: reported there
            return v
        known = cloud_catalog.gcp_zones(region)
        fail([(f"{i}", f"{z!r} is not a zone of {region}, which has {', '.join(known)}: use "
               "one of them") for i, z in enumerate(v) if z not in known])
        if len(set(v)) != len(v):
            fail([("", f"{v} repeat a zone: name each zone once")])
        return v

    @model_validator(mode="after")
    def _project_number_given(self) -> GcpEnvironment:
        if self.project_number is None:
            fail([("project", f"project {self.project!r} needs its project_number: every GCP "
                   "environment encrypts with customer-managed keys, granted to service agents "
                   "named after the number; add project_number: \"<digits>\" (gcloud projects "
                   f"describe {self.project} --format='value(projectNumber)')")])
        return self
