"""The VPC of an environment: private subnets in every zone, NAT egress, private AWS endpoints.

Nodes and endpoints live in private subnets only; public subnets exist for the NAT gateways and
nothing else. Image pulls (ECR), token exchange (STS) and lakehouse traffic (S3) stay on the AWS
network through VPC endpoints. Every flow is logged to a KMS-encrypted CloudWatch log group.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import cloudwatch, ec2, iam

from blueprints.errors import ComponentArgsError
from components import naming
from components.aws.location import AwsLocation
from components.aws.policy import allow, document, service_trust
from components.base import FactoryComponent

INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts")
"""Services reached through interface endpoints: image pulls and IRSA token exchange."""

SLOTS_BITS = 3
"""The VPC is cut into 2**3 equal blocks: one per zone for private subnets (at most 6 zones),
the last block cut again into public subnets for the NAT gateways."""


@dataclass(frozen=True)
class SubnetPlan:
    """CIDR blocks of one zone."""

    zone: str
    private: str
    public: str


def plan_subnets(vpc_cidr: str, zones: list[str]) -> list[SubnetPlan]:
    """Deterministic subnet CIDRs: block i of the VPC is zone i's private subnet; the last
    block is split again and its block i is zone i's public subnet."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    blocks = list(vpc.subnets(prefixlen_diff=SLOTS_BITS))
    public = list(blocks[-1].subnets(prefixlen_diff=SLOTS_BITS))
    return [SubnetPlan(zone, str(blocks[i]), str(public[i])) for i, zone in enumerate(zones)]


@dataclass(frozen=True)
class NetworkArgs:
    """Arguments of `Network`."""

    location: AwsLocation
    """Partition, region and account (endpoint service names and ARNs follow from them)."""
    vpc_cidr: str
    """IPv4 CIDR of the VPC, /22 or larger (a /16 gives each zone 8,190 pod and node IPs)."""
    availability_zones: list[str]
    """Zones of the region to spread private subnets over (1-6)."""
    cluster_name: str
    """EKS cluster that uses the subnets (for the kubernetes.io/cluster tag)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key encrypting the flow-log group."""
    flow_log_retention_days: int = 365
    """Days flow logs are kept."""
    nat_gateway_per_zone: bool = True
    """One NAT gateway per zone (survives a zone outage) rather than one for the VPC."""
    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags for every resource (the provider adds the factory's default tags)."""


def _validate(name: str, args: NetworkArgs) -> None:
    try:
        vpc = ipaddress.IPv4Network(args.vpc_cidr)
    except ValueError as e:
        raise ComponentArgsError(f"Network {name}: vpc_cidr ({args.vpc_cidr!r}) is not an IPv4 "
                                 f"CIDR block such as 10.0.0.0/16 ({e})") from e
    if vpc.prefixlen > 22:
        raise ComponentArgsError(
            f"Network {name}: vpc_cidr ({args.vpc_cidr}) is smaller than a /22: subnets would "
            "hold too few addresses for nodes and pods; use a /16 to /22 block")
    zones = args.availability_zones
    if not 1 <= len(zones) <= 2**SLOTS_BITS - 2:
        raise ComponentArgsError(
            f"Network {name}: availability_zones ({zones}) must name 1 to "
            f"{2**SLOTS_BITS - 2} zones")
    if len(set(zones)) != len(zones):
        raise ComponentArgsError(f"Network {name}: availability_zones ({zones}) repeat a zone: "
                                 "name each zone once")
    strangers = [z for z in zones if not z.startswith(args.location.region)]
    if strangers:
        raise ComponentArgsError(
            f"Network {name}: availability_zones {strangers} are not in region "
            f"{args.location.region}: use zones such as {args.location.region}a")


class Network(FactoryComponent):
    """VPC, private and NAT subnets, routes, VPC endpoints and flow logs."""

    def __init__(self, name: str, args: NetworkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:aws:Network", name, None, opts)
        loc = args.location
        subnets = plan_subnets(args.vpc_cidr, args.availability_zones)

        def tags(label: str, **extra: str) -> dict[str, str]:
            return {**args.tags, "Name": naming.child(name, label), **extra}

        vpc = ec2.Vpc(naming.child(name, "vpc"), cidr_block=args.vpc_cidr,
                      enable_dns_support=True, enable_dns_hostnames=True,
                      tags=tags("vpc"), opts=self.child_opts())
        # The default security group admits all traffic between its members: strip its rules.
        ec2.DefaultSecurityGroup(naming.child(name, "default-sg"), vpc_id=vpc.id,
                                 ingress=[], egress=[], tags=tags("default-sg"),
                                 opts=self.child_opts())
        igw = ec2.InternetGateway(naming.child(name, "igw"), vpc_id=vpc.id, tags=tags("igw"),
                                  opts=self.child_opts())

        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        public_rt = ec2.RouteTable(
            naming.child(name, "public-rt"), vpc_id=vpc.id,
            routes=[ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=tags("public-rt"), opts=self.child_opts())

        private_ids: list[pulumi.Output[str]] = []
        private_rts: list[ec2.RouteTable] = []
        nats: list[ec2.NatGateway] = []
        for i, plan in enumerate(subnets):
            public = ec2.Subnet(
                naming.child(name, "public", plan.zone), vpc_id=vpc.id,
                cidr_block=plan.public, availability_zone=plan.zone,
                map_public_ip_on_launch=False,
                tags=tags(f"public-{plan.zone}", Tier="public-nat"),
                opts=self.child_opts())
            ec2.RouteTableAssociation(naming.child(name, "public-rta", plan.zone),
                                      subnet_id=public.id, route_table_id=public_rt.id,
                                      opts=self.child_opts())
            if args.nat_gateway_per_zone or i == 0:
                eip = ec2.Eip(naming.child(name, "nat-eip", plan.zone), domain="vpc",
                              tags=tags(f"nat-eip-{plan.zone}"),
                              opts=self.child_opts(depends_on=[igw]))
                nats.append(ec2.NatGateway(
                    naming.child(name, "nat", plan.zone), allocation_id=eip.id,
                    subnet_id=public.id, connectivity_type="public",
                    tags=tags(f"nat-{plan.zone}"), opts=self.child_opts(depends_on=[igw])))
            private = ec2.Subnet(
                naming.child(name, "private", plan.zone), vpc_id=vpc.id,
                cidr_block=plan.private, availability_zone=plan.zone,
                map_public_ip_on_launch=False,
                tags=tags(f"private-{plan.zone}", Tier="private",
                          **{"kubernetes.io/role/internal-elb": "1"}, **cluster_tag),
                opts=self.child_opts())
            rt = ec2.RouteTable(
                naming.child(name, "private-rt", plan.zone), vpc_id=vpc.id,
                routes=[ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0",
                                                nat_gateway_id=nats[-1].id)],
                tags=tags(f"private-rt-{plan.zone}"), opts=self.child_opts())
            ec2.RouteTableAssociation(naming.child(name, "private-rta", plan.zone),
                                      subnet_id=private.id, route_table_id=rt.id,
                                      opts=self.child_opts())
            private_ids.append(private.id)
            private_rts.append(rt)

        ec2.VpcEndpoint(
            naming.child(name, "s3-endpoint"), vpc_id=vpc.id,
            service_name=loc.endpoint_service("s3"), vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts], tags=tags("s3-endpoint"),
            opts=self.child_opts())
        endpoint_sg = ec2.SecurityGroup(
            naming.child(name, "endpoints-sg"), vpc_id=vpc.id,
            description="HTTPS from inside the VPC to AWS interface endpoints",
            ingress=[ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=443, to_port=443, cidr_blocks=[args.vpc_cidr],
                description="HTTPS from the VPC")],
            egress=[], tags=tags("endpoints-sg"), opts=self.child_opts())
        for service in INTERFACE_ENDPOINTS:
            ec2.VpcEndpoint(
                naming.child(name, service.replace(".", "-"), "endpoint"), vpc_id=vpc.id,
                service_name=loc.endpoint_service(service), vpc_endpoint_type="Interface",
                private_dns_enabled=True, subnet_ids=private_ids,
                security_group_ids=[endpoint_sg.id], tags=tags(f"{service}-endpoint"),
                opts=self.child_opts())

        self._flow_logs(name, args, vpc, tags("flow-logs"))

        self.vpc_id: pulumi.Output[str] = vpc.id
        self.private_subnet_ids: pulumi.Output[list[str]] = pulumi.Output.all(*private_ids)
        self.endpoint_security_group_id: pulumi.Output[str] = endpoint_sg.id
        self.register_outputs({"vpc_id": self.vpc_id,
                               "private_subnet_ids": self.private_subnet_ids,
                               "endpoint_security_group_id": self.endpoint_security_group_id})

    def _flow_logs(self, name: str, args: NetworkArgs, vpc: ec2.Vpc,
                   tags: dict[str, str]) -> None:
        loc = args.location
        group_name = f"/aifactory/vpc-flow-logs/{args.cluster_name}"
        group = cloudwatch.LogGroup(
            naming.child(name, "flow-logs"), name=group_name,
            retention_in_days=args.flow_log_retention_days, kms_key_id=args.kms_key_arn,
            # Protected: flow logs are the evidence of what left the network.
            tags=tags, opts=self.data_opts())
        group_arn = loc.arn("logs", f"log-group:{group_name}")
        role = iam.Role(
            naming.child(name, "flow-logs-role"),
            name=naming.iam_role_name(args.cluster_name, "vpc", "flow-logs"),
            assume_role_policy=service_trust(loc.service_principal("vpc-flow-logs"),
                                             source_account=loc.account_id),
            tags=tags, opts=self.child_opts())
        iam.RolePolicy(
            naming.child(name, "flow-logs-policy"), role=role.id,
            policy=document([
                allow("WriteFlowLogsToItsGroup",
                      ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                      [group_arn, f"{group_arn}:*"]),
                # A list action: it takes no narrower resource than the account's groups.
                allow("FindItsGroup", ["logs:DescribeLogGroups"],
                      loc.arn("logs", "log-group:*")),
            ]),
            opts=self.child_opts())
        ec2.FlowLog(
            naming.child(name, "flow-log"), vpc_id=vpc.id, traffic_type="ALL",
            log_destination_type="cloud-watch-logs", log_destination=group_arn,
            iam_role_arn=role.arn, max_aggregation_interval=60, tags=tags,
            opts=self.child_opts(depends_on=[group]))
