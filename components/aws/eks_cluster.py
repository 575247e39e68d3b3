"""The EKS control plane: private endpoint, secrets under a customer key, every log, OIDC.

Besides the control plane it runs what every GPU pool needs before its first node: the core
add-ons and a small untainted system node group, since GPU nodes carry a taint that CoreDNS,
Kueue and the GPU operator's controllers do not tolerate.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import cloudwatch, eks, iam

from blueprints.errors import ComponentArgsError
from components import naming
from components.aws.location import AwsLocation
from components.aws.nodes import (
    LaunchTemplateSpec,
    launch_template,
    node_role,
    template_version,
)
from components.aws.policy import (
    IRSA_AUDIENCE,
    allow,
    document,
    service_trust,
    trust_policy,
)
from components.base import FactoryComponent

CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")
NETWORK_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
"""Add-ons nodes need to become Ready: installed before any node group."""
CNI_SERVICE_ACCOUNT = "kube-system:aws-node"
"""Service account the VPC CNI runs as: the only holder of the CNI's IAM permissions (IRSA),
rather than every node and so every pod that reaches the node's instance profile."""
PENDING_ISSUER_ID = "(known after apply)"
"""Stands in for the issuer id EKS assigns at creation, in offline plans only."""


@dataclass(frozen=True)
class EksClusterArgs:
    """Arguments of `EksCluster`."""

    location: AwsLocation
    """Partition, region and account of the cluster."""
    cluster_name: str
    """EKS cluster name."""
    kubernetes_version: str
    """Kubernetes minor version, e.g. 1.33."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets for the control-plane interfaces and the system nodes."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key for Kubernetes secrets, the log group and node volumes."""
    log_retention_days: int = 365
    """Days control-plane logs are kept."""
    endpoint_public_access: bool = False
    """Expose the API endpoint on the internet as well (to `public_access_cidrs` only)."""
    public_access_cidrs: list[str] = field(default_factory=list)
    """CIDRs allowed to the public endpoint; required when it is enabled; never 0.0.0.0/0."""
    system_instance_type: str = "m6i.xlarge"
    """Instance type of the untainted system node group (CoreDNS, controllers)."""
    system_min_nodes: int = 2
    """Fewest system nodes (two survive a node loss)."""
    system_max_nodes: int = 4
    """Most system nodes."""
    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags (the provider adds the factory's default tags)."""
    node_tags: dict[str, str] = field(default_factory=dict)
    """Tags for system node instances and volumes (provider default tags do not reach them)."""


def _validate(name: str, args: EksClusterArgs) -> None:
    where = f"EksCluster {name}"
    if args.endpoint_public_access:
        if not args.public_access_cidrs:
            raise ComponentArgsError(
                f"{where}: endpoint_public_access is true but public_access_cidrs is empty, "
                "which EKS reads as 0.0.0.0/0: list the CIDRs of your operators' networks")
        for cidr in args.public_access_cidrs:
            try:
                network = ipaddress.IPv4Network(cidr)
            except ValueError as e:
                raise ComponentArgsError(f"{where}: public_access_cidrs entry {cidr!r} is not "
                                         f"an IPv4 CIDR block ({e})") from e
            if network.prefixlen == 0:
                raise ComponentArgsError(
                    f"{where}: public_access_cidrs contains {cidr}, which opens the Kubernetes "
                    "API to the whole internet: list your operators' networks instead")
    elif args.public_access_cidrs:
        raise ComponentArgsError(
            f"{where}: public_access_cidrs ({', '.join(args.public_access_cidrs)}) is set but "
            "endpoint_public_access is false: drop the CIDRs or enable the public endpoint")
    if not 1 <= args.system_min_nodes <= args.system_max_nodes:
        raise ComponentArgsError(
            f"{where}: system_min_nodes ({args.system_min_nodes}) must be at least 1 and at "
            f"most system_max_nodes ({args.system_max_nodes})")


class EksCluster(FactoryComponent):
    """EKS control plane with its role, log group, OIDC provider, add-ons and system nodes."""

    def __init__(self, name: str, args: EksClusterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:aws:EksCluster", name, None, opts)
        loc = args.location
        tags = {**args.tags, "Name": args.cluster_name}

        role_name = naming.iam_role_name(args.cluster_name, "", "cluster")
        role = iam.Role(
            naming.child(name, "cluster-role"), name=role_name,
            description=f"EKS control plane of {args.cluster_name}",
            assume_role_policy=service_trust(loc.service_principal("eks")),
            tags={**tags, "Name": role_name}, opts=self.child_opts())
        attachment = iam.RolePolicyAttachment(
            naming.child(name, "cluster-role", "eksclusterpolicy"), role=role.name,
            policy_arn=loc.managed_policy("AmazonEKSClusterPolicy"), opts=self.child_opts())
        # Envelope encryption of secrets: the control plane uses the key, and only that key.
        encryption = iam.RolePolicy(
            naming.child(name, "cluster-role", "secrets-key"), role=role.id,
            policy=pulumi.Output.from_input(args.kms_key_arn).apply(lambda arn: document([
                allow("EncryptSecretsWithTheClusterKey",
                      ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                      [arn])])),
            opts=self.child_opts())

        # Created before the cluster, or EKS creates it without retention or encryption.
        # Protected: the audit log is evidence a compliance review asks for.
        log_group = cloudwatch.LogGroup(
            naming.child(name, "control-plane-logs"),
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn,
            tags=tags, opts=self.data_opts())

        cluster = eks.Cluster(
            naming.child(name, "cluster"),
            name=args.cluster_name,
            role_arn=role.arn,
            version=args.kubernetes_version,
            vpc_config=eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=args.endpoint_public_access,
                public_access_cidrs=list(args.public_access_cidrs)
                if args.endpoint_public_access else None,
            ),
            encryption_config=eks.ClusterEncryptionConfigArgs(
                provider=eks.ClusterEncryptionConfigProviderArgs(key_arn=args.kms_key_arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            access_config=eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # The deployer keeps admin access so the platform layer can be deployed next.
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            # Core add-ons are managed below as EKS add-ons, not left self-managed.
            bootstrap_self_managed_addons=False,
            tags=tags,
            opts=self.child_opts(depends_on=[log_group, attachment, encryption]),
        )

        issuer_url = cluster.identities.apply(lambda ids: _issuer_url(ids, loc))
        oidc = iam.OpenIdConnectProvider(
            naming.child(name, "oidc"), url=issuer_url, client_id_lists=[IRSA_AUDIENCE],
            tags=tags, opts=self.child_opts())

        # Read back from the provider resource, so users of these wait until it exists.
        self.oidc_issuer: pulumi.Output[str] = oidc.url.apply(
            lambda url: url.removeprefix("https://"))
        self.oidc_provider_arn: pulumi.Output[str] = self.oidc_issuer.apply(
            lambda issuer: loc.arn("iam", f"oidc-provider/{issuer}", regional=False))

        cni_role, cni_policy = self._cni_role(name, args, tags)
        self.network_addons = [
            eks.Addon(naming.child(name, "addon", addon), cluster_name=cluster.name,
                      addon_name=addon, resolve_conflicts_on_create="OVERWRITE",
                      resolve_conflicts_on_update="PRESERVE", tags=tags,
                      service_account_role_arn=cni_role.arn if addon == "vpc-cni" else None,
                      opts=self.child_opts(depends_on=[cni_policy] if addon == "vpc-cni"
                                           else None))
            for addon in NETWORK_ADDONS
        ]
        """Add-ons every node group must wait for."""

        system = self._system_nodes(name, args, cluster, tags)
        self.system_nodes = system
        """The untainted system node group: controllers (CoreDNS, Karpenter, CSI) run there."""
        eks.Addon(naming.child(name, "addon", "coredns"), cluster_name=cluster.name,
                  addon_name="coredns", resolve_conflicts_on_create="OVERWRITE",
                  resolve_conflicts_on_update="PRESERVE", tags=tags,
                  opts=self.child_opts(depends_on=[system]))

        self.cluster = cluster
        self.cluster_security_group_id: pulumi.Output[str | None] = cluster.vpc_config.apply(
            lambda c: c.cluster_security_group_id if c is not None else None)
        """The security group EKS creates for the cluster (unknown until it exists)."""
        self.name: pulumi.Output[str] = cluster.name
        self.version: pulumi.Output[str] = cluster.version
        self.endpoint: pulumi.Output[str] = cluster.endpoint
        self.certificate_authority_data: pulumi.Output[str | None] = \
            cluster.certificate_authority.apply(lambda ca: ca.data if ca else None)
        self.register_outputs({
            "name": self.name, "version": self.version, "endpoint": self.endpoint,
            "certificate_authority_data": self.certificate_authority_data,
            "oidc_provider_arn": self.oidc_provider_arn, "oidc_issuer": self.oidc_issuer,
        })

    def _cni_role(self, name: str, args: EksClusterArgs,
                  tags: dict[str, str]) -> tuple[iam.Role, iam.RolePolicyAttachment]:
        """The VPC CNI's own role (IRSA): the CNI policy stays off the node roles."""
        role_name = naming.iam_role_name(args.cluster_name, "", "vpc-cni")
        role = iam.Role(
            naming.child(name, "vpc-cni-role"), name=role_name,
            description=f"VPC CNI (aws-node) of {args.cluster_name}: pod networking",
            assume_role_policy=pulumi.Output.all(self.oidc_issuer, self.oidc_provider_arn)
            .apply(lambda v: trust_policy(v[0], v[1], [CNI_SERVICE_ACCOUNT])),
            tags={**tags, "Name": role_name}, opts=self.child_opts())
        attachment = iam.RolePolicyAttachment(
            naming.child(name, "vpc-cni-role", "amazoneks-cni-policy"), role=role.name,
            policy_arn=args.location.managed_policy("AmazonEKS_CNI_Policy"),
            opts=self.child_opts())
        return role, attachment

    def _system_nodes(self, name: str, args: EksClusterArgs, cluster: eks.Cluster,
                      tags: dict[str, str]) -> eks.NodeGroup:
        prefix = naming.child(name, "system")
        role = node_role(self, prefix, args.location,
                         naming.iam_role_name(args.cluster_name, "", "system-nodes"), tags)
        physical = naming.fit(f"{args.cluster_name}-system", 63)
        template = launch_template(self, prefix, LaunchTemplateSpec(
            template_name=physical, disk_size_gb=50, kms_key_arn=args.kms_key_arn,
            tags={**args.node_tags, **args.tags, "Name": physical}))
        return eks.NodeGroup(
            naming.child(prefix, "nodes"),
            cluster_name=cluster.name,
            node_group_name=physical,
            node_role_arn=role.arn,
            subnet_ids=args.subnet_ids,
            version=cluster.version,
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type="ON_DEMAND",
            instance_types=[args.system_instance_type],
            launch_template=eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template_version(template)),
            scaling_config=eks.NodeGroupScalingConfigArgs(
                min_size=args.system_min_nodes, desired_size=args.system_min_nodes,
                max_size=args.system_max_nodes),
            update_config=eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            labels={"aifactory.io/pool": "system"},
            tags=tags,
            opts=self.child_opts(depends_on=self.network_addons,
                                 ignore_changes=["scalingConfig.desiredSize"]),
        )


def _issuer_url(identities: Sequence[Any] | None, loc: AwsLocation) -> str:
    """The cluster's OIDC issuer; offline, EKS has not assigned its id yet."""
    for identity in identities or []:
        for oidc in identity.oidcs or []:
            if oidc.issuer:
                return str(oidc.issuer)
    return f"https://oidc.eks.{loc.region}.{loc.dns_suffix}/id/{PENDING_ISSUER_ID}"


def kubeconfig(cluster: EksCluster, region: str) -> pulumi.Output[str]:
    """A kubeconfig (JSON) for the cluster that authenticates with `aws eks get-token`; secret."""

    def render(values: list[Any]) -> str:
        cluster_name, endpoint, ca_data = values
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": cluster_name,
            "clusters": [{"name": cluster_name, "cluster": {
                "server": endpoint, "certificate-authority-data": ca_data}}],
            "contexts": [{"name": cluster_name,
                          "context": {"cluster": cluster_name, "user": cluster_name}}],
            "users": [{"name": cluster_name, "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", cluster_name,
                         "--region", region, "--output", "json"],
                "interactiveMode": "Never"}}}],
        }, sort_keys=True)

    return pulumi.Output.secret(
        pulumi.Output.all(cluster.name, cluster.endpoint,
                          cluster.certificate_authority_data).apply(render))
