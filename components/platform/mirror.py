"""Charts and images from an in-jurisdiction mirror, pinned by digest.

A sovereign factory does not pull its operators from nvcr.io, quay.io or registry.k8s.io: the
charts are fetched from the mirror's OCI path and every image the chart values name is rewritten
to the mirror, at the digest the blueprint's image lock gives. The upstream reference is kept
below the mirror's path (nvcr.io/nvidia/gpu-operator -> <registry>/nvcr.io/nvidia/gpu-operator),
so two upstreams never collide. No live look-ups: the digests come from the blueprint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from blueprints.errors import ComponentArgsError
from catalog.charts import CHART_IMAGES, ChartImage, ChartRef

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class LockedImage:
    """The tag and digest one upstream repository was mirrored at."""

    tag: str
    """Upstream tag that was copied (kept for charts that only take a tag)."""
    digest: str
    """sha256:<hex> of the mirrored image."""


@dataclass(frozen=True)
class ImageMirror:
    """Where charts and images are mirrored, and the lock of image digests."""

    registry: str
    """Registry host/path the images are mirrored under."""
    charts: str
    """oci:// prefix the charts are mirrored under (chart name appended)."""
    images: Mapping[str, LockedImage]
    """Upstream repository (no tag) -> the tag and digest it was mirrored at."""


def split_reference(ref: str) -> tuple[str, str | None]:
    """(repository, tag) of `repo:tag`; tag None when there is none (a host:port is no tag)."""
    name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag or not name:
        return ref, None
    return name, tag


def image_mirror(registry: str, charts: str | None, lock: Mapping[str, str]) -> ImageMirror:
    """An ImageMirror from the blueprint's `repo:tag -> sha256:<hex>` lock."""
    images: dict[str, LockedImage] = {}
    for ref, digest in sorted(lock.items()):
        repo, tag = split_reference(ref)
        if tag is None:
            raise ComponentArgsError(f"`images`: {ref!r} has no tag: key the lock by the "
                                     "upstream reference that was mirrored, e.g. repo:v1.2.3")
        if not DIGEST.match(digest):
            raise ComponentArgsError(f"`images`: {ref!r} has digest {digest!r}: give "
                                     "sha256:<64 hex digits>")
        if repo in images:
            raise ComponentArgsError(f"`images`: {repo} is locked at two tags: keep the one the "
                                     "pinned chart version uses")
        images[repo] = LockedImage(tag, digest)
    root = registry.rstrip("/")
    return ImageMirror(registry=root, charts=(charts or f"oci://{root}/charts").rstrip("/"),
                       images=images)


def mirrored_chart(ref: ChartRef, mirror: ImageMirror | None) -> ChartRef:
    """The chart fetched from the mirror's OCI path, at the same pinned version."""
    if mirror is None:
        return ref
    return replace(ref, chart=f"{mirror.charts}/{ref.name}", repository=None,
                   source=f"{ref.source}; mirrored to {mirror.charts}")


def image_block(image: ChartImage, mirror: ImageMirror) -> dict[str, str]:
    """The values block that makes the chart pull `image` from the mirror, by digest."""
    locked = mirror.images.get(image.upstream)
    if locked is None:
        raise ComponentArgsError(
            f"`mirror.images` has no entry for {image.upstream}: mirror it into "
            f"{mirror.registry}/{image.upstream} and add '{image.upstream}:<tag>: "
            "sha256:<digest>' to sovereignty.mirror.images")
    path = f"{mirror.registry}/{image.upstream}"
    if image.style == "nvidia":
        repository, _, name = path.rpartition("/")
        return {"repository": repository, "image": name, "version": locked.digest}
    if image.style == "prometheus":
        return {"registry": mirror.registry, "repository": image.upstream, "tag": locked.tag,
                "sha": locked.digest.removeprefix("sha256:")}
    if image.style == "repository-digest":
        return {"repository": path, "tag": locked.tag, "digest": locked.digest}
    if image.style == "repository-image-tag":
        repository, _, name = path.rpartition("/")
        return {"repository": repository, "image": name, "tag": f"{locked.tag}@{locked.digest}"}
    if image.style == "digest":
        return {"registry": mirror.registry, "repository": image.upstream, "tag": locked.tag,
                "digest": locked.digest}
    if image.style == "jetstack":  # a full repository overrides registry, namespace and name
        return {"repository": path, "tag": locked.tag, "digest": locked.digest}
    if image.style == "registry-tagged":
        return {"registry": mirror.registry, "repository": image.upstream,
                "tag": f"{locked.tag}@{locked.digest}"}
    if image.style == "image-tag":
        return {image.keys[0]: path, image.keys[1]: f"{locked.tag}@{locked.digest}"}
    if image.style == "reference":
        return {image.keys[0]: f"{path}:{locked.tag}@{locked.digest}"}
    return {"repository": path, "tag": f"{locked.tag}@{locked.digest}"}


def mirrored_image(upstream: str, mirror: ImageMirror | None, tag: str) -> str:
    """An image of our own objects: upstream by tag, or from the mirror by its locked digest."""
    if mirror is None:
        return f"{upstream}:{tag}"
    image = ChartImage((), upstream, "reference", tag, keys=("image", ""))
    return image_block(image, mirror)["image"]


def image_reference(image: ChartImage, mirror: ImageMirror | None) -> str:
    """The reference an object of ours runs a chart-pinned image by (mirrored_image)."""
    return mirrored_image(image.upstream, mirror, image.default_tag)


def _copy(value: Any) -> Any:
    """A copy of nested dicts and lists; anything else (a Pulumi Output, a secret) shared."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def mirrored_values(ref: ChartRef, values: Mapping[str, Any],
                    mirror: ImageMirror | None) -> dict[str, Any]:
    """`values` with every image of the chart rewritten to the mirror (unchanged without one)."""
    if mirror is None:
        return dict(values)  # values may hold Outputs (a database's host), which never deepcopy
    out: dict[str, Any] = _copy(dict(values))
    for image in CHART_IMAGES.get(ref.name, ()):
        node = out
        for key in image.values_path:
            node = node.setdefault(key, {})
        node.update(image_block(image, mirror))
    return out

