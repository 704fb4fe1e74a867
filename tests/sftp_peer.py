"""A real SFTP server for the drop tests: asyncssh on 127.0.0.1, rooted in a folder.

It runs on its own event loop in a daemon thread, with a host key made for the
run; it lets one user in by password or by a private key the test also gets.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

USER = "dropper"
PASSWORD = "drop-secret-1"


@dataclass
class SftpPeer:
    """The running server: where it listens, who may log in, what folder it serves."""

    port: int
    root: Path
    client_key: str  # a private key (OpenSSH) the server accepts for USER
    host_key: str  # the server's public host key (OpenSSH)


@contextmanager
def sftp_server(root: Path) -> Iterator[SftpPeer]:
    """Serve ``root`` over SFTP on 127.0.0.1 until the block ends."""
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    authorized = client_key.export_public_key().decode()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    class _Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return username == USER and password == PASSWORD

        def public_key_auth_supported(self) -> bool:
            return True

        def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
            return username == USER and key.export_public_key().decode() == authorized

    def _serve() -> None:
        asyncio.set_event_loop(loop)

        async def start() -> None:
            holder["server"] = await asyncssh.listen(
                "127.0.0.1",
                0,
                server_host_keys=[host_key],
                server_factory=_Server,
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()),
                allow_scp=False,
            )

        loop.run_until_complete(start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=_serve, name="sftp-peer", daemon=True)
    thread.start()
    started.wait()
    server = holder["server"]
    port = server.sockets[0].getsockname()[1]
    try:
        yield SftpPeer(
            port=port,
            root=root,
            client_key=client_key.export_private_key().decode(),
            host_key=host_key.export_public_key().decode().strip(),
        )
    finally:

        async def stop() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
