"""Checks, before a run, that its output can be written where it is asked for: a run must
not simulate for hours and then fail to write."""
import os
import tempfile

PROBE_PREFIX = ".distsnn-probe-"   # the probe files (other ranks may be probing the same directory)


def check_can_create(path, what, named=None):
    """Refuse `path` if nothing could be created there: the nearest existing directory at or
    above it must be a directory in which a file can be created, which a probe file tests
    (os.access says yes for root, and on filesystems that refuse anyway). The missing
    directories below it would be created by the writer. Creates nothing lasting. A
    ValueError that names the path as `what` `named` (default: `path` itself)."""
    named = path if named is None else named
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"{what} {named}: {existing} is a file, not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=existing)
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise ValueError(f"{what} {named}: cannot write in {existing} ({err.strerror or err})") from None


def check_writable(path, what="output", example="run.h5"):
    """Refuse, before a run, an output file path that could not be written at its end: an
    existing directory, a path below a file, or a place where no file can be created. what:
    the path's name in the error; example: a file name to suggest in a directory."""
    if os.path.isdir(path):
        raise ValueError(f"{what} {path}: is a directory; give a file name, e.g. {os.path.join(path, example)}")
    check_can_create(os.path.dirname(os.path.abspath(path)), what, path)
