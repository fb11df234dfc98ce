"""Shared by the hardening probes: running `incident` as another (unprivileged) user, small
full disks, and a store that another process keeps open."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.test_cli import Run, clean_env

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="needs root (to mount a tmpfs or run as nobody)")


def incident_as(user: int | None, *args: str | Path, db: Path | str | None = None,
                stdin: str | None = None) -> Run:
    """`incident ...` as `user` (None: as we are); asserts no traceback."""
    command = [sys.executable, "-m", "incident_core.cli", *map(str, args)]
    if db is not None:
        command += ["--db", str(db)]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
                   *command]
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300,
                          env=clean_env(), cwd="/")
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


@contextmanager
def small_disk(parent: Path, kilobytes: int) -> Iterator[Path]:
    """A tmpfs of `kilobytes` mounted under `parent` (a disk that fills up)."""
    mount = parent / f"disk-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(mount)],
                   check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


HOLDER = textwrap.dedent("""
    import sys, time
    from incident_core import Application
    from incident_core.examples.bank import domain
    app = Application.open(sys.argv[1], domain)
    app.store.head()
    print("open", flush=True)
    sys.stdin.readline()
    app.close()
""")


@contextmanager
def held_open(target: Path | str) -> Iterator[subprocess.Popen[str]]:
    """Another process with the store open (until the block ends)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(target)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        yield holder
    finally:
        if holder.stdin is not None:
            holder.stdin.close()
        holder.wait(timeout=30)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A folder another user can reach (pytest's tmp_path is private to root)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="incident-harden-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
