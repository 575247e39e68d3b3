"""Where a blueprint lies: its repository, and the path every report names it by.

A plan, a SARIF log and a review name the blueprint by its path from the root of the git
repository that holds it (the same bytes from whichever folder the command ran), else by its
path from the current folder, else by its file name.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def repository_root(path: str | Path) -> Path | None:
    """The root of the git work tree holding `path` (a file or folder), if any."""
    here = Path(path).resolve()
    for folder in (here, *here.parents) if here.is_dir() else here.parents:
        if (folder / ".git").exists():
            return folder
    return None


def shown_path(path: str | Path) -> str:
    """How reports name a blueprint: from its repository's root, else from the current
    folder, else its file name."""
    resolved = Path(path).resolve()
    for base in (repository_root(resolved), Path.cwd().resolve()):
        if base is None:
            continue
        try:
            return resolved.relative_to(base).as_posix()
        except ValueError:
            continue
    return resolved.name


def locate(shown: str, *near: str | Path) -> Path | None:
    """The file a plan's `blueprint` names, looked for from the repositories of `near`
    (e.g. the plan file) and of the current folder, and from the current folder."""
    candidates: list[Path] = []
    for place in (*near, Path.cwd()):
        root = repository_root(place)
        if root is not None:
            candidates.append(root / shown)
    candidates.append(Path.cwd() / shown)
    return next((c for c in candidates if c.is_file()), None)


def git_commit(path: str | Path) -> tuple[str | None, bool]:
    """(commit, clean) of the repository holding `path`: the HEAD commit, and whether the file
    is unchanged from it (None, False outside a repository or without git)."""
    root = repository_root(path)
    if root is None:
        return None, False
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=False)
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--",
                                 str(Path(path).resolve())], capture_output=True, text=True,
                                timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None, False
    if head.returncode != 0:
        return None, False
    return head.stdout.strip(), status.returncode == 0 and not status.stdout.strip()
