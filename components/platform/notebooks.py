"""Notebooks: JupyterHub (zero-to-jupyterhub, pinned) with OIDC login and GPU profiles.

One profile per GPU pool a team may use; a team's servers run in the team's namespace, where
its ResourceQuota holds them (a Role there lets the hub spawn them). The hub offers a user only
the profiles of the teams whose OIDC group the user is in. The OAuth client secret is a Pulumi
secret in a Secret the hub reads from its environment (OAuthenticator's OAUTH_CLIENT_SECRET);
the proxy is a ClusterIP Service, never a public load balancer. Idle servers are culled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import JUPYTERHUB
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import GPU_RESOURCE, POOL_LABEL, NodeTaint, chart, namespace

CLIENT_SECRET = "jupyterhub-oauth"
HUB_SERVICE_ACCOUNT = "hub"
"""The chart's hub service account (release name jupyterhub: its default name)."""


@dataclass(frozen=True)
class NotebookProfile:
    """A GPU profile: a team's servers on one pool."""

    team: str
    """Team (its OIDC group)."""
    namespace: str
    """The team's namespace."""
    pool: str
    """GPU pool."""
    gpu_resource: str = GPU_RESOURCE
    """Extended resource the pool exposes."""
    gpus: int = 1
    """GPUs (units) per server."""
    taints: tuple[NodeTaint, ...] = ()
    """The pool's taints."""


@dataclass(frozen=True)
class NotebooksArgs:
    """Arguments of `Notebooks`."""

    namespace: str
    """Hub namespace."""
    issuer: str
    """OIDC issuer."""
    client_id: str
    """OAuth client id."""
    client_secret: pulumi.Input[str]
    """OAuth client secret (a Pulumi secret)."""
    profiles: tuple[NotebookProfile, ...]
    """GPU profiles."""
    idle_cull_minutes: int | None = 60
    """Stop idle servers after this long (None: never)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels."""
    depends_on: Sequence[pulumi.Resource] = ()
    """The teams' namespaces."""


def profile_entry(p: NotebookProfile) -> dict[str, Any]:
    """A KubeSpawner profile: the team's namespace, the pool's nodes, its GPUs."""
    return {
        "display_name": f"{p.team}: {p.pool} ({p.gpus} x {p.gpu_resource})",
        "slug": f"{p.team}-{p.pool}",
        "description": f"A server in {p.namespace} on pool {p.pool}",
        "kubespawner_override": {
            "namespace": p.namespace,
            "node_selector": {POOL_LABEL: p.pool},
            "tolerations": [t.toleration() for t in p.taints],
            "extra_resource_limits": {p.gpu_resource: str(p.gpus)},
            "extra_resource_guarantees": {p.gpu_resource: str(p.gpus)},
        },
    }


def team_filter(profiles: Sequence[NotebookProfile]) -> str:
    """Hub config (Python) offering a user the profiles of the teams whose group they are in."""
    teams = json.dumps({f"{p.team}-{p.pool}": p.team for p in profiles}, sort_keys=True)
    return (
        "import json\n"
        f"_team_of = json.loads({teams!r})\n"
        "_all = list(c.KubeSpawner.profile_list)\n"
        "def _profiles(spawner):\n"
        "    groups = {g.name for g in spawner.user.groups}\n"
        "    return [p for p in _all if _team_of.get(p['slug']) in groups]\n"
        "c.KubeSpawner.profile_list = _profiles\n"
    )


def notebooks_values(args: NotebooksArgs) -> dict[str, Any]:
    """Chart values: generic OAuth against the issuer, profiles, culling, a private proxy."""
    issuer = args.issuer.rstrip("/")
    return {
        "hub": {
            "config": {
                "JupyterHub": {"authenticator_class": "generic-oauth"},
                "GenericOAuthenticator": {
                    "client_id": args.client_id,
                    "authorize_url": f"{issuer}/authorize",
                    "token_url": f"{issuer}/token",
                    "userdata_url": f"{issuer}/userinfo",
                    "scope": ["openid", "profile", "email", "groups"],
                    "username_claim": "preferred_username",
                    "manage_groups": True, "auth_state_groups_key": "oauth_user.groups",
                    "allowed_groups": sorted({p.team for p in args.profiles}),
                },
            },
            "extraEnv": {"OAUTH_CLIENT_SECRET": {"valueFrom": {"secretKeyRef": {
                "name": CLIENT_SECRET, "key": "client-secret"}}}},
            "extraConfig": {"aifactory-team-profiles": team_filter(args.profiles)},
        },
        "proxy": {"service": {"type": "ClusterIP"}},
        "singleuser": {"profileList": [profile_entry(p) for p in args.profiles]},
        "cull": ({"enabled": True, "timeout": args.idle_cull_minutes * 60, "every": 300}
                 if args.idle_cull_minutes is not None else {"enabled": False}),
    }


class Notebooks(FactoryComponent):
    """JupyterHub with the teams' GPU profiles."""

    def __init__(self, name: str, args: NotebooksArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.profiles:
            raise ComponentArgsError("`profiles` is empty: no team may use a GPU pool of this "
                                     "cluster; give the teams quotas on its pools")
        if not args.issuer.startswith("https://"):
            raise ComponentArgsError(f"`issuer` {args.issuer!r} is not an https:// URL")
        slugs = [f"{p.team}-{p.pool}" for p in args.profiles]
        if len(set(slugs)) != len(slugs):
            raise ComponentArgsError(f"`profiles` repeat a team and pool: {slugs}")
        super().__init__("aifactory:platform:Notebooks", name, {
            "namespace": args.namespace, "profiles": slugs,
            "idleCullMinutes": args.idle_cull_minutes, "chartVersion": JUPYTERHUB.version},
            opts)
        labels = dict(args.labels)
        ns = namespace(child(name, "ns"), args.namespace, labels, "restricted",
                       self.child_opts(depends_on=list(args.depends_on)))
        secret = k8s.core.v1.Secret(
            child(name, "oauth"),
            metadata={"name": CLIENT_SECRET, "namespace": args.namespace, "labels": labels},
            type="Opaque",
            string_data={"client-secret": pulumi.Output.secret(args.client_secret)},
            opts=self.child_opts(depends_on=[ns]))
        grants: list[pulumi.Resource] = []
        for team_ns in sorted({p.namespace for p in args.profiles}):
            role = k8s.rbac.v1.Role(
                child(name, "spawner", team_ns),
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name="jupyterhub-spawner", namespace=team_ns, labels=labels),
                rules=[k8s.rbac.v1.PolicyRuleArgs(
                           api_groups=[""], verbs=["get", "watch", "list", "create", "delete"],
                           resources=["pods", "persistentvolumeclaims", "services", "secrets"]),
                       k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["events"],
                                                  verbs=["get", "watch", "list"])],
                opts=self.child_opts(depends_on=list(args.depends_on)))
            grants.append(k8s.rbac.v1.RoleBinding(
                child(name, "spawner-binding", team_ns),
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name="jupyterhub-spawner", namespace=team_ns, labels=labels),
                role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io",
                                                 kind="Role", name="jupyterhub-spawner"),
                subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount",
                                                  name=HUB_SERVICE_ACCOUNT,
                                                  namespace=args.namespace)],
                opts=self.child_opts(depends_on=[role])))
        self.chart = chart(child(name, "chart"), JUPYTERHUB, "jupyterhub", args.namespace,
                           notebooks_values(args),
                           self.child_opts(depends_on=[ns, secret, *grants]))
        self.register_outputs({})
