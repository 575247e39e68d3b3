"""Network: what the VPC component registers, and the errors it raises."""

from __future__ import annotations

import json

import pytest

from blueprints.errors import ComponentArgsError
from components.aws import AwsLocation, Network, NetworkArgs
from components.aws.network import SubnetPlan, plan_subnets

LONDON = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
KEY = "arn:aws:kms:eu-west-2:123456789012:key/1111"
ZONES = ["eu-west-2a", "eu-west-2b", "eu-west-2c"]
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def args(**overrides: object) -> NetworkArgs:
    values: dict[str, object] = dict(location=LONDON, vpc_cidr="10.40.0.0/16",
                                      availability_zones=ZONES, cluster_name="acme-prod",
                                      kms_key_arn=KEY, flow_log_retention_days=90)
    values.update(overrides)
    return NetworkArgs(**values)  # type: ignore[arg-type]


def test_subnets_are_carved_deterministically_from_the_vpc() -> None:
    assert plan_subnets("10.40.0.0/16", ZONES) == [
        SubnetPlan("eu-west-2a", "10.40.0.0/19", "10.40.224.0/22"),
        SubnetPlan("eu-west-2b", "10.40.32.0/19", "10.40.228.0/22"),
        SubnetPlan("eu-west-2c", "10.40.64.0/19", "10.40.232.0/22"),
    ]


def test_vpc_private_subnets_in_every_zone_and_public_ones_only_for_nat(run) -> None:
    rec = run(lambda: Network("net", args()))
    vpc = rec.one(VPC, "net-vpc")
    assert vpc.inputs["cidrBlock"] == "10.40.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True

    private = {r.inputs["availabilityZone"]: r for r in rec.of_type(SUBNET)
               if r.name.startswith("net-private-")}
    assert sorted(private) == ZONES
    assert private["eu-west-2b"].inputs["cidrBlock"] == "10.40.32.0/19"
    for subnet in private.values():
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet.inputs["tags"]["kubernetes.io/cluster/acme-prod"] == "shared"
        assert subnet.inputs["mapPublicIpOnLaunch"] is False

    public = [r for r in rec.of_type(SUBNET) if r.name.startswith("net-public-")]
    assert len(public) == 3
    assert all(r.inputs["mapPublicIpOnLaunch"] is False for r in public)
    # Nothing but the NAT gateways lives in the public subnets.
    public_ids = {f"{r.name}-id" for r in public}
    users = [r for r in rec.all if r.custom and r.inputs.get("subnetId") in public_ids]
    assert {r.type for r in users} == {"aws:ec2/natGateway:NatGateway",
                                       "aws:ec2/routeTableAssociation:RouteTableAssociation"}


def test_each_zone_leaves_through_its_own_nat_gateway(run) -> None:
    rec = run(lambda: Network("net", args()))
    assert len(rec.of_type("aws:ec2/natGateway:NatGateway")) == 3
    assert len(rec.of_type("aws:ec2/eip:Eip")) == 3
    table = rec.one("aws:ec2/routeTable:RouteTable", "net-private-rt-eu-west-2c")
    assert table.inputs["routes"] == [{"cidrBlock": "0.0.0.0/0",
                                       "natGatewayId": "net-nat-eu-west-2c-id"}]
    public = rec.one("aws:ec2/routeTable:RouteTable", "net-public-rt")
    assert public.inputs["routes"] == [{"cidrBlock": "0.0.0.0/0", "gatewayId": "net-igw-id"}]


def test_single_nat_gateway_when_asked(run) -> None:
    rec = run(lambda: Network("net", args(nat_gateway_per_zone=False)))
    assert [r.name for r in rec.of_type("aws:ec2/natGateway:NatGateway")] == [
        "net-nat-eu-west-2a"]
    table = rec.one("aws:ec2/routeTable:RouteTable", "net-private-rt-eu-west-2c")
    assert table.inputs["routes"][0]["natGatewayId"] == "net-nat-eu-west-2a-id"


def test_s3_gateway_and_ecr_sts_interface_endpoints(run) -> None:
    rec = run(lambda: Network("net", args()))
    s3 = rec.one(ENDPOINT, "net-s3-endpoint")
    assert s3.inputs["serviceName"] == "com.amazonaws.eu-west-2.s3"
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    assert s3.inputs["routeTableIds"] == [f"net-private-rt-{z}-id" for z in ZONES]
    interfaces = {r.inputs["serviceName"]: r for r in rec.of_type(ENDPOINT)
                  if r.inputs["vpcEndpointType"] == "Interface"}
    assert sorted(interfaces) == ["com.amazonaws.eu-west-2.ecr.api",
                                  "com.amazonaws.eu-west-2.ecr.dkr",
                                  "com.amazonaws.eu-west-2.sts"]
    for endpoint in interfaces.values():
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["subnetIds"] == [f"net-private-{z}-id" for z in ZONES]
        assert endpoint.inputs["securityGroupIds"] == ["net-endpoints-sg-id"]


def test_endpoint_security_group_admits_https_from_the_vpc_only(run) -> None:
    rec = run(lambda: Network("net", args()))
    sg = rec.one("aws:ec2/securityGroup:SecurityGroup", "net-endpoints-sg")
    assert sg.inputs["ingress"] == [{"cidrBlocks": ["10.40.0.0/16"],
                                     "description": "HTTPS from the VPC", "fromPort": 443,
                                     "protocol": "tcp", "toPort": 443}]
    assert sg.inputs["egress"] == []
    default = rec.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["ingress"] == [] and default.inputs["egress"] == []


def test_flow_logs_go_to_a_kms_encrypted_log_group(run) -> None:
    rec = run(lambda: Network("net", args()))
    group = rec.one("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs")
    assert group.inputs["kmsKeyId"] == KEY
    assert group.inputs["retentionInDays"] == 90
    assert group.inputs["name"] == "/aifactory/vpc-flow-logs/acme-prod"
    assert group.protect  # flow logs are the evidence of what left the network
    flow = rec.one("aws:ec2/flowLog:FlowLog")
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["vpcId"] == "net-vpc-id"
    assert flow.inputs["logDestination"] == (
        "arn:aws:logs:eu-west-2:123456789012:log-group:/aifactory/vpc-flow-logs/acme-prod")
    assert group.urn in flow.dependencies
    trust = json.loads(rec.one("aws:iam/role:Role", "net-flow-logs-role")
                       .inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"}}
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    group_arn = flow.inputs["logDestination"]
    assert {s["Sid"]: s["Resource"] for s in policy["Statement"]} == {
        "WriteFlowLogsToItsGroup": [group_arn, f"{group_arn}:*"],
        "FindItsGroup": "arn:aws:logs:eu-west-2:123456789012:log-group:*",
    }


def test_every_child_is_parented_to_the_network(run) -> None:
    rec = run(lambda: Network("net", args()))
    component = rec.one("aifactory:aws:Network", "net")
    assert component.parent is None
    assert all(r.parent == component.urn for r in rec.all if r is not component)


def test_sovereign_cloud_endpoint_names() -> None:
    eusc = AwsLocation(partition="aws-eusc", region="eusc-de-east-1", account_id="123456789012")
    assert eusc.endpoint_service("ecr.dkr") == "eu.amazonaws.eusc-de-east-1.ecr.dkr"
    assert eusc.endpoint_service("ecr.api") == "eu.amazonaws.eusc-de-east-1.ecr.api"
    assert eusc.endpoint_service("sts") == "com.amazonaws.eusc-de-east-1.sts"
    assert eusc.endpoint_service("s3") == "com.amazonaws.eusc-de-east-1.s3"
    assert eusc.managed_policy("AmazonEKSClusterPolicy") == (
        "arn:aws-eusc:iam::aws:policy/AmazonEKSClusterPolicy")
    assert eusc.service_principal("ec2") == "ec2.amazonaws.com"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"vpc_cidr": "10.40.0.0/24"},
     "Network net: vpc_cidr (10.40.0.0/24) is smaller than a /22: subnets would hold too few "
     "addresses for nodes and pods; use a /16 to /22 block"),
    ({"vpc_cidr": "10.40.0.0/33"},
     "Network net: vpc_cidr ('10.40.0.0/33') is not an IPv4 CIDR block such as 10.0.0.0/16 "
     "('33' is not a valid netmask)"),
    ({"availability_zones": ["eu-west-2a", "eu-west-1b"]},
     "Network net: availability_zones ['eu-west-1b'] are not in region eu-west-2: use zones "
     "such as eu-west-2a"),
    ({"availability_zones": ["eu-west-2a", "eu-west-2a"]},
     "Network net: availability_zones (['eu-west-2a', 'eu-west-2a']) repeat a zone: name each "
     "zone once"),
    ({"availability_zones": [f"eu-west-2{c}" for c in "abcdefg"]},
     "Network net: availability_zones (['eu-west-2a', 'eu-west-2b', 'eu-west-2c', "
     "'eu-west-2d', 'eu-west-2e', 'eu-west-2f', 'eu-west-2g']) must name 1 to 6 zones"),
])
def test_bad_arguments_are_refused_before_anything_is_created(run, overrides, message) -> None:
    with pytest.raises(ComponentArgsError) as error:
        Network("net", args(**overrides))
    assert str(error.value) == message
