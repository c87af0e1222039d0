"""A folder this process cannot write into, for the tests of refused outputs.

Without root, permission bits do it (``chmod 555``). Root ignores them, so there the folder is a
read-only tmpfs mount. Where neither is possible (root in a container that refuses ``mount``) the
test cannot show what it is for: under CI (``CI`` set) that is a failure, never a silent pass;
elsewhere a skip whose reason ``pytest -rs`` prints.
"""

import contextlib
import os
import subprocess
from pathlib import Path

import pytest


@contextlib.contextmanager
def read_only_folder(d: Path, subfolders: tuple[str, ...] = ()):
    """Make the empty folder ``d`` (with empty ``subfolders``) read-only for the block."""
    if os.geteuid() != 0:
        for name in subfolders:
            (d / name).mkdir()
            (d / name).chmod(0o555)
        d.chmod(0o555)
        try:
            yield d
        finally:
            d.chmod(0o755)
            for name in subfolders:
                (d / name).chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(d)],
                      capture_output=True).returncode != 0:
        why = "no way to make a read-only folder here (root, and mount is refused)"
        pytest.fail(why) if os.environ.get("CI") else pytest.skip(why)
    try:
        for name in subfolders:
            (d / name).mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True)
        yield d
    finally:
        subprocess.run(["umount", str(d)], check=False)
