"""Drop locations: list, fetch and move the lead files a source leaves in a folder.

Two kinds behind one small interface (``DropLocation``): a folder on this
machine, always under an allowed root (``local_folder`` refuses anything that
would step outside it), and a path on an SFTP server (``SftpDrop``, over
asyncssh). The SFTP host passes the same SSRF guard as outbound posts, and the
connection goes to the address that was checked. The server's host key is
pinned: the first connection reports it (``host_key``), later ones must see the
same key or are refused before any password is sent.

Files are read from the drop path itself; a handled file goes to ``done/`` or
``failed/`` beside it. Every failure is a ``DropError`` with a message a vendor
can act on. No database here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import shutil
import warnings
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, TypeVar

with warnings.catch_warnings():
    # asyncssh names DSA key types, which cryptography deprecates on import; drops never
    # use DSA, and the warning would be printed on every `flask` command.
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    import asyncssh

from connectors.outbound.ssrf import DestinationRefused, check_host

# What a drop imports; anything else in the folder is left alone.
SUFFIXES = (".csv", ".txt", ".xlsx", ".xml")
DONE = "done"
FAILED = "failed"
CONNECT_TIMEOUT = 15.0
MAX_NAME = 200
T = TypeVar("T")


class DropError(Exception):
    """The drop cannot be reached or used; ``message`` says why and what to check."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DropEntry:
    """A file waiting in a drop: its name (no folder), size in bytes and mtime in seconds."""

    name: str
    size: int
    mtime: int


class DropLocation(Protocol):
    """What the poller needs of a drop, whatever carries it."""

    def list_files(self) -> list[DropEntry]: ...

    def fetch(self, name: str, target: Path) -> None: ...

    def move(self, name: str, folder: str) -> str: ...

    def put(self, source: Path, folder: str, name: str) -> str: ...

    def close(self) -> None: ...


def wanted(name: str) -> bool:
    """Whether a file of this name is one to import (no hidden or partial files)."""
    return (
        not name.startswith(".")
        and len(name) <= MAX_NAME
        and "/" not in name
        and "\\" not in name
        and name.lower().endswith(SUFFIXES)
    )


def moved_name(name: str, taken: Iterable[str], tag: str) -> str:
    """``name``, or ``name`` with ``tag`` before its suffix when that name is taken already."""
    if name not in set(taken):
        return name
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{tag}.{suffix}" if dot else f"{name}.{tag}"


def check_relative(path: str) -> str:
    """A relative folder path inside a drop root, tidied; ``DropError`` if it leaves the root."""
    text = (path or "").strip().replace("\\", "/")
    if not text or text in (".", "/"):
        return ""
    if text.startswith("/") or "\x00" in text:
        raise DropError("must be a folder inside the drop root, not an absolute path")
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if any(part == ".." for part in parts):
        raise DropError("may not contain '..'")
    return "/".join(parts)


def local_folder(root: Path, relative: str) -> Path:
    """The folder ``relative`` under ``root``, made if missing; refused if it escapes ``root``
    (through '..' or a symbolic link)."""
    base = root.resolve()
    folder = (base / check_relative(relative)).resolve()
    if folder != base and base not in folder.parents:
        raise DropError("leads outside the drop root (a symbolic link?)")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class LocalFolder:
    """A drop folder on this machine."""

    def __init__(self, folder: Path):
        if not folder.is_dir():
            raise DropError(f"the folder {folder.name or folder} does not exist")
        self.folder = folder

    def list_files(self) -> list[DropEntry]:
        entries = []
        with os.scandir(self.folder) as found:
            for entry in found:
                if entry.is_file(follow_symlinks=False) and wanted(entry.name):
                    stat = entry.stat(follow_symlinks=False)
                    entries.append(DropEntry(entry.name, stat.st_size, int(stat.st_mtime)))
        return sorted(entries, key=lambda e: (e.mtime, e.name))

    def fetch(self, name: str, target: Path) -> None:
        source = self._file(name)
        if not source.is_file():
            raise DropError(f"{name} is no longer in the drop folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    def move(self, name: str, folder: str) -> str:
        into = self._into(folder)
        new = moved_name(name, os.listdir(into), "again")
        os.replace(self._file(name), into / new)
        return f"{folder}/{new}"

    def put(self, source: Path, folder: str, name: str) -> str:
        into = self._into(folder)
        target = into / name
        if target.is_symlink():
            raise DropError(f"{folder}/{name} is a symbolic link; nothing is written through it")
        shutil.copyfile(source, target)
        return f"{folder}/{name}"

    def exists(self, relative: str) -> bool:
        return (self.folder / relative).is_file()

    def close(self) -> None:
        return None

    def _into(self, folder: str) -> Path:
        into = self.folder / folder
        if into.is_symlink():
            raise DropError(f"{folder}/ is a symbolic link; files are not moved through it")
        into.mkdir(exist_ok=True)
        return into

    def _file(self, name: str) -> Path:
        if not wanted(name):
            raise DropError(f"{name!r} is not a file name this drop handles")
        return self.folder / name


@dataclass(frozen=True)
class SftpSettings:
    """Where and as whom to log in; ``host_key`` is the pinned key, if one was seen."""

    host: str
    port: int
    username: str
    path: str
    password: str | None = None
    private_key: str | None = None
    host_key: str | None = None
    allow_hosts: tuple[str, ...] = ()
    timeout: float = CONNECT_TIMEOUT


def check_sftp_host(host: str, port: int, allow_hosts: Iterable[str] = ()) -> str:
    """The address to connect to for ``host``; ``DropError`` for an internal address."""
    try:
        return check_host(host, port, allow_hosts).addresses[0]
    except DestinationRefused as exc:
        raise DropError(str(exc)) from None


def check_private_key(text: str) -> None:
    """``DropError`` unless ``text`` is a private key asyncssh can read (no passphrase)."""
    try:
        asyncssh.import_private_key(text)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise DropError(f"is not a private key we can read ({exc})") from None


class SftpDrop:
    """A drop path on an SFTP server: one connection, used from synchronous code."""

    def __init__(self, settings: SftpSettings):
        address = check_sftp_host(settings.host, settings.port, settings.allow_hosts)
        self.path = settings.path.rstrip("/") or "/"
        self._loop = asyncio.new_event_loop()
        self._conn: Any = None
        self._sftp: Any = None
        try:
            self._conn = self._run(self._connect(settings, address))
            self._sftp = self._run(self._conn.start_sftp_client())
            if not self._run(self._sftp.isdir(self.path)):
                raise DropError(f"the path {self.path} does not exist on {settings.host}")
        except BaseException:
            self.close()
            raise
        key = self._conn.get_server_host_key()
        self.host_key: str | None = key.export_public_key().decode().strip() if key else None

    def list_files(self) -> list[DropEntry]:
        entries = []
        for item in self._run(self._sftp.readdir(self.path)):
            attrs = item.attrs
            name = str(item.filename)
            if attrs.type == asyncssh.FILEXFER_TYPE_REGULAR and wanted(name):
                entries.append(DropEntry(name, int(attrs.size or 0), int(attrs.mtime or 0)))
        return sorted(entries, key=lambda e: (e.mtime, e.name))

    def fetch(self, name: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        self._run(self._sftp.get(self._remote(name), str(target)))

    def move(self, name: str, folder: str) -> str:
        into = self._folder(folder)
        new = moved_name(name, self._run(self._sftp.listdir(into)), "again")
        self._run(self._sftp.rename(self._remote(name), posixpath.join(into, new)))
        return f"{folder}/{new}"

    def put(self, source: Path, folder: str, name: str) -> str:
        into = self._folder(folder)
        self._run(self._sftp.put(str(source), posixpath.join(into, name)))
        return f"{folder}/{name}"

    def exists(self, relative: str) -> bool:
        return bool(self._run(self._sftp.isfile(posixpath.join(self.path, relative))))

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.exit()
        if self._conn is not None:
            self._conn.close()
            # Closing a connection that already broke may raise; it is closed either way.
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._conn.wait_closed())
        self._sftp = self._conn = None
        if not self._loop.is_closed():
            self._loop.close()

    def _folder(self, folder: str) -> str:
        into = posixpath.join(self.path, folder)
        if not self._run(self._sftp.isdir(into)):
            self._run(self._sftp.mkdir(into))
        return into

    def _remote(self, name: str) -> str:
        if "/" in name or name in ("", ".", ".."):
            raise DropError(f"{name!r} is not a file name this drop handles")
        return posixpath.join(self.path, name)

    def _run(self, step: Coroutine[Any, Any, T]) -> T:
        try:
            return self._loop.run_until_complete(step)
        except DropError:
            raise
        except asyncssh.PermissionDenied:
            raise DropError("the server refused the user name, password or key") from None
        except asyncssh.HostKeyNotVerifiable:
            raise DropError(
                "the server's host key is not the one it showed before; "
                "if the server was replaced, save the drop again to accept its new key"
            ) from None
        except asyncssh.SFTPError as exc:
            raise DropError(f"the SFTP server said: {exc.reason}") from None
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            raise DropError(f"could not reach the SFTP server: {reason}") from None

    @staticmethod
    async def _connect(settings: SftpSettings, address: str) -> Any:
        keys = [asyncssh.import_private_key(settings.private_key)] if settings.private_key else None
        known: Any = None
        if settings.host_key:
            known = ([asyncssh.import_public_key(settings.host_key)], [], [])
        return await asyncssh.connect(
            address,
            settings.port,
            username=settings.username,
            password=settings.password or None,
            client_keys=keys,
            known_hosts=known,
            agent_path=None,
            config=[],
            connect_timeout=settings.timeout,
            login_timeout=settings.timeout,
        )
