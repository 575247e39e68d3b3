"""What a provisioning hook and a host's first-boot files agree on.

The first-boot files (blueprints.compose.firstboot) read the join token from JOIN_TOKEN_PATH;
each hook puts it there its own way (Metal3 through the host's metaData secret under
TOKEN_METADATA_KEY, Tinkerbell through a workflow action, the command hook through its
JOIN_TOKEN variable) and re-provisions when a file's `digest` changes.
"""

from __future__ import annotations

import hashlib

JOIN_TOKEN_PATH = "/etc/aifactory/join-token"
"""Where the provisioner puts the kubeadm bootstrap token on the host (mode 0600)."""
TOKEN_METADATA_KEY = "aifactory_join_token"
"""Key of the join token in a Metal3 host's metaData secret (read with `cloud-init query`)."""


def digest(text: str) -> str:
    """sha256 of a rendered file: what hooks trigger re-provisioning on."""
    return hashlib.sha256(text.encode()).hexdigest()
