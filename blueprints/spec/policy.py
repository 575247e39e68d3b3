"""Blueprint spec: tags, policy settings and waivers, the declared jurisdiction and its mirror."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from datetime import date, timedelta
from typing import Literal, Protocol

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from blueprints.spec.base import Strict, fail


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

    model_config = ConfigDict(**Strict.model_config, json_schema_extra={"required": [
        "rule", "resource", "reason", "owner", "approver", "ticket", "approved", "expires"]})

    rule: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)+$", description="Rule name to waive.")
    resource: str = Field(
        min_length=1,
        description="The finding's subject, exactly as `aifactory check` prints it after "
        "'waive:' (a resource name, a site, a rack such as dc1/r1, a pool), or a URN; '*' for "
        "every resource.",
    )
    reason: str = Field(min_length=10, description="Why the violation is accepted.")
    owner: str = Field(min_length=1, description="Who accepted the risk (a person or team).")
    approver: str | None = Field(
        None, min_length=1,
        description="Who approved the waiver; for critical and high rules another person than "
        "the owner.",
    )
    ticket: str = Field(min_length=1, description="Ticket or reference of the review (an issue "
                        "key such as SEC-1234, or a link).")
    approved: date = Field(description="Day the waiver was approved (YYYY-MM-DD).")
    expires: date = Field(description="Last day the waiver is valid (YYYY-MM-DD); at most "
                          "policy.waiver_max_days after `approved`.")

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, v: str, info: ValidationInfo) -> str:
        rules: KnownRules | None = (info.context or {}).get(RULES_CONTEXT)
        if rules is None or rules.knows(v):  # no rule set given: the engine flags unused waivers
            return v
        names = sorted(rules.names)
        close = difflib.get_close_matches(v, names, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"rules are: {', '.join(names)}"
        raise ValueError(f"{v!r} is not a policy rule: {hint}")

    @model_validator(mode="after")
    def _reviewed(self, info: ValidationInfo) -> Waiver:
        rules: KnownRules | None = (info.context or {}).get(RULES_CONTEXT)
        severity = rules.severity(self.rule) if rules is not None else None
        problems: list[tuple[str, str]] = []
        second = severity in ("critical", "high")
        if self.approver is None:
            who = (f"{self.rule} is a {severity} rule: its waiver needs an approver other than "
                   f"the owner ({self.owner})") if second else "a waiver needs an approver"
            problems.append(("approver", f"{who}; add approver: <who approved it>"))
        elif second and self.approver.strip().lower() == self.owner.strip().lower():
            problems.append(("approver", f"{self.rule} is a {severity} rule: the approver "
                             f"({self.approver}) is the owner; a second person approves "
                             "waivers of critical and high rules"))
        if self.expires < self.approved:
            problems.append(("expires", f"{self.expires.isoformat()} is before the approval "
                             f"day {self.approved.isoformat()}: set expires after approved"))
        fail(problems)
        return self


RULES_CONTEXT = "policy_rules"
"""Validation-context key of the rule set waivers are checked against (see `KnownRules`)."""


class KnownRules(Protocol):
    """The rule names a waiver may name. The spec sits upstream of the policies, so it does not
    import them: a caller that has the rule set (`policies.KNOWN_RULES`) passes it to the
    loader, which hands it to validation in the pydantic context."""

    @property
    def names(self) -> Collection[str]:
        """Every rule name, for did-you-mean hints."""
        ...

    def knows(self, name: str) -> bool:
        """Whether `name` is a rule a waiver may name."""
        ...

    def severity(self, name: str) -> str | None:
        """The severity of rule `name` (critical, high, medium, low), None if unknown."""
        ...


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
    waiver_max_days: int = Field(
        90, ge=1, le=366,
        description="Longest a waiver may run, from its approval to its expiry, in days.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description="Accepted violations.")

    @model_validator(mode="after")
    def _waivers_short_enough(self) -> PolicySettings:
        problems = []
        for i, w in enumerate(self.waivers):
            days = (w.expires - w.approved).days
            if days > self.waiver_max_days:
                last = w.approved + timedelta(days=self.waiver_max_days)
                problems.append((f"waivers.{i}.expires", f"the waiver runs {days} days, from "
                                 f"its approval on {w.approved.isoformat()} to "
                                 f"{w.expires.isoformat()}, longer than policy.waiver_max_days "
                                 f"({self.waiver_max_days}): set expires on or before "
                                 f"{last.isoformat()} and renew it by a new review"))
        fail(problems)
        return self


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
        "(`crane digest <registry>/<repository>:<tag>`); `aifactory mirror lock BLUEPRINT` "
        "prints every image at the tag its pinned chart pulls, with the commands.",
    )
    tag_overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Upstream repositories locked on purpose at a tag other than the one their "
        "pinned chart pulls (e.g. a newer driver), each with the reason; every other lock entry "
        "must carry the chart's own tag.",
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
    own_sites_only: bool = Field(
        False, description="Everything stays on the factory's own sites: no cloud environment "
        "at all, even inside the jurisdiction (sovereignty-environment-own-site).")
