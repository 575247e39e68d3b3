"""Blueprint spec: tags, policy settings and waivers, the declared jurisdiction and its mirror."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from datetime import date
from typing import Literal, Protocol

from pydantic import Field, ValidationInfo, field_validator, model_validator

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
    def _known_rule(cls, v: str, info: ValidationInfo) -> str:
        rules: KnownRules | None = (info.context or {}).get(RULES_CONTEXT)
        if rules is None or rules.knows(v):  # no rule set given: the engine flags unused waivers
            return v
        names = sorted(rules.names)
        close = difflib.get_close_matches(v, names, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"rules are: {', '.join(names)}"
        raise ValueError(f"{v!r} is not a policy rule: {hint}")


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
