"""Container image references: where they come from and whether they are pinned by digest.

Images appear in Kubernetes objects (`containers[].image`) and in helm values, whose charts
spell them in several ways: `image: "repo/name:tag"`, `image: {registry, repository, tag,
digest}` (kube-prometheus-stack: `sha`, the bare hex), `{repository, tag: "<tag>@sha256:<hex>"}`
for charts that take only a tag, or (the NVIDIA GPU operator) `{repository, image, version}`.
`images_in` finds them all in any nested inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_TAG_OR_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class ImageRef:
    """One image reference found in a resource's inputs."""

    ref: str
    """As written, or composed from a helm values block."""
    path: str
    """Where it was found, e.g. 'spec.template.spec.containers[0].image'."""
    pinned: bool
    """Pinned by a sha256 digest."""

    @property
    def registry(self) -> str:
        return registry_of(self.ref)

    def registry_allowed(self, allowed: Sequence[str]) -> bool:
        """The image comes from one of `allowed`."""
        return registry_allowed(self.ref, allowed)


def registry_of(ref: str) -> str:
    """The registry host of an image reference ('docker.io' when none is named)."""
    first, sep, _ = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def registry_allowed(ref: str, allowed: Sequence[str]) -> bool:
    """The image comes from one of `allowed` (hosts, or host/path prefixes)."""
    ref_l = ref.lower()
    host = registry_of(ref)
    for a in allowed:
        a = a.lower().rstrip("/")
        if "/" in a:
            if ref_l == a or ref_l.startswith(a + "/"):
                return True
        elif host == a:
            return True
    return False


def _composed(block: Mapping[str, Any]) -> tuple[str, bool] | None:
    """(reference, pinned) of a helm-style image block, or None when it is not one."""
    repo = block.get("repository")
    if not isinstance(repo, str) or not repo:
        return None
    parts = [block["registry"]] if isinstance(block.get("registry"), str) and \
        block.get("registry") else []
    parts.append(repo)
    if isinstance(block.get("image"), str) and block.get("image"):
        parts.append(block["image"])
    ref = "/".join(p.strip("/") for p in parts)
    digest = block.get("digest")
    sha = block.get("sha")  # kube-prometheus-stack: the bare hex of a sha256 digest
    version = block.get("tag") or block.get("version")
    if isinstance(digest, str) and digest:
        return f"{ref}@{digest}", bool(_TAG_OR_DIGEST.match(digest))
    if isinstance(sha, str) and sha:
        return f"{ref}@sha256:{sha}", bool(_TAG_OR_DIGEST.match(f"sha256:{sha}"))
    if isinstance(version, str) and _TAG_OR_DIGEST.match(version):
        return f"{ref}@{version}", True
    # charts that only take a tag are pinned with `tag: <tag>@sha256:<hex>`
    tagged = f"{ref}:{version}" if version else ref
    return tagged, bool(DIGEST.search(tagged))


def images_in(value: Any, path: str = "") -> Iterator[ImageRef]:
    """Every image reference in nested inputs (objects, helm values)."""
    if isinstance(value, Mapping):
        composed = _composed(value) if "repository" in value else None
        if composed is not None and ("image" in value or "tag" in value or "digest" in value
                                     or "version" in value):
            yield ImageRef(composed[0], path or ".", composed[1])
            return
        for key, v in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if key == "image" and isinstance(v, str) and v:
                # KServe spells {image: repository, tag: tag} (its explainer: defaultVersion)
                tag = value.get("tag") or value.get("defaultVersion")
                if isinstance(tag, str) and tag and "@" not in v \
                        and ":" not in v.rsplit("/", 1)[-1]:
                    v = f"{v}:{tag}" if not _TAG_OR_DIGEST.match(tag) else f"{v}@{tag}"
                yield ImageRef(v, sub, bool(DIGEST.search(v)))
            elif key == "image" and isinstance(v, Mapping):
                c = _composed(v)
                if c is not None:
                    yield ImageRef(c[0], sub, c[1])
                else:  # images by component, e.g. LeaderWorkerSet's image.manager
                    yield from images_in(v, sub)
            else:
                yield from images_in(v, sub)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for i, v in enumerate(value):
            yield from images_in(v, f"{path}[{i}]")
