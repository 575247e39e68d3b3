"""Alerts that reach people: Alertmanager receivers and routes by team and severity.

One AlertmanagerConfig in the monitoring namespace routes on the `team` and `severity` labels
of every alert (GPU, queue, serving, node); the monitoring stack is told not to confine its
routes to its own namespace (alertmanagerConfigMatcherStrategy None, in Monitoring's values).
The receivers' URLs and keys are Pulumi secrets, written to a Secret the config points to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.base import FactoryComponent
from components.naming import child

ALERTMANAGER_CONFIG_API = "monitoring.coreos.com/v1alpha1"
ALERTS_LABEL = "aifactory.io/alerts"
"""Label of the AlertmanagerConfigs the monitoring stack's Alertmanager selects."""
SECRET_NAME = "alert-receivers"

ReceiverKind = Literal["slack", "pagerduty", "email", "webhook"]


@dataclass(frozen=True)
class AlertReceiver:
    """A receiver: its kind, its credential (a Pulumi secret) and its plain settings."""

    name: str
    """Receiver name."""
    kind: ReceiverKind
    """slack, pagerduty, email or webhook."""
    credential: pulumi.Input[str]
    """Slack webhook URL, PagerDuty routing key, SMTP password or webhook URL (secret)."""
    channel: str | None = None
    """Slack channel."""
    to: str | None = None
    """E-mail recipient."""
    sender: str | None = None
    """E-mail From."""
    smarthost: str | None = None
    """E-mail SMTP host:port."""
    username: str | None = None
    """E-mail SMTP user."""


@dataclass(frozen=True)
class AlertRouteArgs:
    """Alerts of a team (and severities) to a receiver."""

    receiver: str
    """Receiver name."""
    team: str | None = None
    """Team label value (None: any)."""
    severities: tuple[str, ...] = ()
    """Severity label values (empty: any)."""


@dataclass(frozen=True)
class AlertRoutingArgs:
    """Arguments of `AlertRouting`."""

    receivers: tuple[AlertReceiver, ...]
    """Receivers."""
    routes: tuple[AlertRouteArgs, ...]
    """Routes, first match wins; the last takes every alert."""
    namespace: str = "monitoring"
    """Namespace of the monitoring stack."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects."""
    depends_on: Sequence[pulumi.Resource] = ()
    """The monitoring stack (its CRDs)."""
    team_queues: Mapping[str, str] = field(default_factory=dict)
    """Team -> its ClusterQueue, where Kueue runs: queue alerts carry the team's label."""
    queue_wait_minutes: int = 60
    """Minutes workloads may stay pending before the team is alerted."""


def queue_alert_groups(args: AlertRoutingArgs) -> list[dict[str, Any]]:
    """Per team: workloads pending too long in its ClusterQueue, with the team's label."""
    rules = [{
        "alert": "TeamQueueBacklog",
        "expr": f'sum(kueue_pending_workloads{{cluster_queue="{queue}"}}) > 0',
        "for": f"{args.queue_wait_minutes}m",
        "labels": {"severity": "warning", "team": team},
        "annotations": {"summary": f"Team {team}'s jobs are waiting for GPUs",
                        "description": f"ClusterQueue {queue} has had {{{{ $value }}}} pending "
                        f"workloads for {args.queue_wait_minutes} minutes: its quota and the "
                        "cohort's idle GPUs are taken."},
    } for team, queue in sorted(args.team_queues.items())]
    return [{"name": "aifactory-team-queues", "rules": rules}]


def _key(receiver: str) -> str:
    return receiver


def receiver_spec(r: AlertReceiver) -> dict[str, Any]:
    """The AlertmanagerConfig receiver, its credential read from the receivers' Secret."""
    ref = {"name": SECRET_NAME, "key": _key(r.name)}
    if r.kind == "slack":
        slack: dict[str, Any] = {"apiURL": ref, "sendResolved": True}
        if r.channel:
            slack["channel"] = r.channel
        return {"name": r.name, "slackConfigs": [slack]}
    if r.kind == "pagerduty":
        return {"name": r.name, "pagerdutyConfigs": [{"routingKey": ref,
                                                      "sendResolved": True}]}
    if r.kind == "email":
        email: dict[str, Any] = {"to": r.to, "from": r.sender, "smarthost": r.smarthost,
                                 "authPassword": ref, "requireTLS": True,
                                 "sendResolved": True}
        if r.username:
            email["authUsername"] = r.username
        return {"name": r.name, "emailConfigs": [email]}
    return {"name": r.name, "webhookConfigs": [{"urlSecret": ref, "sendResolved": True}]}


def route_spec(args: AlertRoutingArgs) -> dict[str, Any]:
    """The route tree: each route's team and severities as matchers; the last is the root's
    receiver, so every alert reaches someone."""
    *specific, catch_all = args.routes
    routes = []
    for r in specific:
        matchers: list[dict[str, str]] = []
        if r.team:
            matchers.append({"name": "team", "value": r.team, "matchType": "="})
        if r.severities:
            matchers.append({"name": "severity", "value": "|".join(r.severities),
                             "matchType": "=~"})
        routes.append({"receiver": r.receiver, "matchers": matchers})
    return {"receiver": catch_all.receiver, "groupBy": ["alertname", "team", "pool", "model"],
            "groupWait": "30s", "groupInterval": "5m", "repeatInterval": "4h",
            "routes": routes}


class AlertRouting(FactoryComponent):
    """The receivers' Secret and the AlertmanagerConfig that routes alerts to them."""

    def __init__(self, name: str, args: AlertRoutingArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        names = [r.name for r in args.receivers]
        if not names or len(set(names)) != len(names):
            raise ComponentArgsError(f"`receivers` {names}: give each receiver once")
        if not args.routes:
            raise ComponentArgsError("`routes` is empty: alerts would reach no one")
        unknown = sorted({r.receiver for r in args.routes} - set(names))
        if unknown:
            raise ComponentArgsError(f"`routes` name receivers {unknown} that `receivers` "
                                     "does not have")
        last = args.routes[-1]
        if last.team is not None or last.severities:
            raise ComponentArgsError("the last route must take every alert (no team, no "
                                     "severities): otherwise some alerts reach no one")
        for r in args.receivers:
            if r.kind == "email" and not (r.to and r.sender and r.smarthost):
                raise ComponentArgsError(f"e-mail receiver {r.name!r} needs to, sender and "
                                         "smarthost")
        super().__init__("aifactory:platform:AlertRouting", name, {
            "receivers": {r.name: r.kind for r in args.receivers},
            "routes": [{"receiver": r.receiver, "team": r.team,
                        "severities": list(r.severities)} for r in args.routes]}, opts)
        labels = {**args.labels, ALERTS_LABEL: "true"}
        secret = k8s.core.v1.Secret(
            child(name, "receivers"),
            metadata={"name": SECRET_NAME, "namespace": args.namespace, "labels": labels},
            type="Opaque",
            string_data={_key(r.name): pulumi.Output.secret(r.credential)
                         for r in args.receivers},
            opts=self.child_opts(depends_on=list(args.depends_on)))
        k8s.apiextensions.CustomResource(
            child(name, "config"), api_version=ALERTMANAGER_CONFIG_API,
            kind="AlertmanagerConfig",
            metadata={"name": "aifactory-routes", "namespace": args.namespace,
                      "labels": labels},
            spec={"route": route_spec(args),
                  "receivers": [receiver_spec(r) for r in args.receivers]},
            opts=self.child_opts(depends_on=[secret, *args.depends_on]))
        if args.team_queues:
            k8s.apiextensions.CustomResource(
                child(name, "queue-alerts"), api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata={"name": "aifactory-team-queues", "namespace": args.namespace,
                          "labels": dict(args.labels)},
                spec={"groups": queue_alert_groups(args)},
                opts=self.child_opts(depends_on=list(args.depends_on)))
        self.register_outputs({})
