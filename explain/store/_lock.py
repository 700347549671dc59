"""The store's write lock: one writer at a time, removed on every exit, a dead holder's taken over.

The lock is an `flock` on STORE/.lock, so the kernel releases it whatever ends the holder
(exception, Ctrl-C, SIGKILL). The file holds who took it ({"pid", "host", "started"}): a
refusal names the holder, and a file still there when the flock is free was left by a run
that could not clean up (SIGKILL, power loss), which the next run takes over with a warning.
The holder removes the file before it releases the flock; a process that locked a removed
file sees that its inode is gone and tries again, so two writers never both hold "the" lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path

from emolens.explain.store._layout import LOCK

_ATTEMPTS = 5  # each retry means the holder removed the file between our open and our flock


def _record() -> dict:
    from emolens.explain.store._plan import now

    return {"pid": os.getpid(), "host": socket.gethostname(), "started": now()}


def _read(handle: int) -> dict:
    """The record in an open lock file; {} when empty or unreadable (an older emolens)."""
    try:
        record = json.loads(os.pread(handle, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _holder(record: dict) -> str:
    """'pid 12 on host "a" since <time>', or what of it is known."""
    if not record:
        return "an unknown process"
    host = record.get("host")
    where = "this host" if host == socket.gethostname() else f"host {host!r}"
    return f"pid {record.get('pid')} on {where} since {record.get('started')}"


def _is_alive(pid: object) -> bool:
    """True when `pid` is a process on this host (or one we may not signal)."""
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, TypeError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def _same_file(handle: int, path: Path) -> bool:
    """True when `path` still names the file open as `handle` (the holder may have removed it)."""
    try:
        here, there = os.fstat(handle), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _warn_taken_over(store: Path, record: dict) -> None:
    host = record.get("host")
    if host == socket.gethostname():
        state = "is no longer running" if not _is_alive(record.get("pid")) else "no longer holds it"
    else:
        state = "released it without removing it (killed, or its host went down)"
    warnings.warn(
        f"Took over the lock of store {str(store)!r} left by {_holder(record)}, which {state}; "
        "continuing its work.",
        stacklevel=6,  # the caller of index(): here, _acquire, store_lock, __enter__, index
    )


def _acquire(store: Path, fcntl) -> int:
    """Open, flock and fill STORE/.lock; the open handle.

    Raises:
        ValueError: another process holds the lock.
    """
    path = store / LOCK
    for _ in range(_ATTEMPTS):
        store.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the last holder removed the folder it had created
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            record = _read(handle)
            os.close(handle)
            raise ValueError(
                f"Another process is writing store {str(store)!r} ({_holder(record)}). "
                "Wait for it to finish, or pass another --out."
            ) from None
        except BaseException:
            os.close(handle)
            raise
        try:
            ours = _same_file(handle, path)  # ESTALE/EIO on a shared filesystem, or Ctrl-C
        except BaseException:
            os.close(handle)  # not unlinked: the file may be another holder's by now
            raise
        if not ours:
            os.close(handle)
            continue
        try:
            left = _read(handle)
            if left:
                _warn_taken_over(store, left)
            os.ftruncate(handle, 0)
            os.pwrite(handle, json.dumps(_record()).encode(), 0)  # ENOSPC on a full disk
        except BaseException:
            _release(store, handle)  # else the open handle keeps the lock for this process
            raise
        return handle
    raise ValueError(
        f"Could not lock store {str(store)!r}: other processes keep taking and removing its "
        f"{LOCK} file. Wait for them to finish, or pass another --out."
    )


def _release(store: Path, handle: int) -> None:
    """Remove STORE/.lock, then release the flock (in that order: see the module docstring)."""
    try:
        if _same_file(handle, store / LOCK):
            (store / LOCK).unlink(missing_ok=True)
    finally:
        os.close(handle)


@contextlib.contextmanager
def store_lock(store: Path) -> Iterator[None]:
    """Hold the store's write lock for the `with` block; the lock file is gone after it.

    Creates `store` if needed, and removes it again if it is empty at the end. Where `fcntl`
    is missing (not POSIX) nothing is locked.

    Raises:
        ValueError: another process is writing the store (the message names it).
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    created = not store.exists()
    try:
        handle = _acquire(store, fcntl)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                store.rmdir()
        raise
    try:
        yield
    finally:
        _release(store, handle)
        if created:
            with contextlib.suppress(OSError):  # not empty: the run wrote something, or
                store.rmdir()  # another writer's lock is already in it
