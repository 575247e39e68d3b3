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
from blueprints.spec.models import Blueprint, OnPremSite
from blueprints.spec.models import Host as HostSpec
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
from components.naming import child, fit
from components.platform.common import NodeTaint as PlatformTaint
from components.platform.network_operator import NetworkOperator, NetworkOperatorArgs


def secret_config_keys(site: OnPremSite) -> list[str]:
    """Every stack secret a site needs: kubeconfig, join token, BMC credentials."""
    keys = {site.cluster.kubeconfig, site.cluster.join_token}
    keys.update(h.bmc_credentials for h in site.hosts)
    return sorted(full_key(k) for k in keys)


def offline_config(spec: Blueprint) -> dict[str, str]:
    """Placeholder values for every stack secret the blueprint names (mark them all secret)."""
    return {key: OFFLINE_SECRET for env in spec.environments.values()
            if isinstance(env, OnPremSite) for key in secret_config_keys(env)}


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
        names = pool.hosts if pool.hosts is not None else [h.hostname for h in env.hosts]
        with blame(f"pools.{pool_name}", pool, POOL_ALIASES):
            pools[pool_name] = GpuPool(pool_name, GpuPoolArgs(
                facts=facts.pool_facts(spec, pool_name, pool), hostnames=names,
            ), pulumi.ResourceOptions(parent=site))
    if env.fabric is not None:
        _network_operator(spec, env_name, env, site, provider, labels)
    return EnvironmentBuild(environment=env_name, kind="onprem", component=site,
                            kubernetes=provider, pools=pools)


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
