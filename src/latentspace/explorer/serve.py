"""Serving the explorer with uvicorn: bind (127.0.0.1 unless told otherwise), say where, run until Ctrl-C."""
from __future__ import annotations

import ipaddress
import socket
import sys

from latentspace.errors import LatentspaceError

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or one line saying why not (port taken, unknown address)."""
    if not 0 <= port <= 65535:
        raise LatentspaceError(f"--port must be between 0 and 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise LatentspaceError(f"--host {host}: cannot resolve ({e.strerror})") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this (Linux). Without it, a response written in two parts waits for
    # the client's delayed ACK: ~40 ms per request (uvicorn only sets it on sockets it binds itself).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(addr)
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise LatentspaceError(f"cannot listen on {host}:{port} ({e.strerror}); "
                               f"is another server using it? try --port {port + 1}") from None
    sock.set_inheritable(True)
    return sock


def url_for(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = host if ":" not in host.strip("[]") else f"[{host.strip('[]')}]"
    return f"http://{shown}:{port}/"


def serve(run_paths, host: str = "127.0.0.1", port: int = 8000, limit_test: int | None = None,
          log_level: str = "warning") -> int:
    import torch
    import uvicorn

    from latentspace.explorer.app import create_app

    sock = bind(host, port)  # first, so a taken port is reported before minutes of loading
    try:
        print(f"latentspace explorer: loading {len(run_paths)} run(s) ...", flush=True)
        loopback = is_loopback(host)
        app = create_app(run_paths, limit_test=limit_test,
                         allowed_hosts=["127.0.0.1", "localhost", "::1", "[::1]", host] if loopback else None)
        url = url_for(sock, host)
        names = ", ".join(app.state.runs)
        print(f"latentspace explorer: {url}  (runs: {names})")
        if loopback:
            print(f"bound to {host} only: reachable from this machine alone (--host 0.0.0.0 to share it)")
        else:
            print(f"bound to {host}: anyone who can reach this machine on port {sock.getsockname()[1]} can use it "
                  f"(there is no login)")
        print("press Ctrl-C to stop", flush=True)
        # Requests decode one image or a few: intra-op threads gain nothing there, and on a busy CPU
        # a parallel region waits for a descheduled thread (measured: p95 of one decode 290 ms with 2
        # threads under load, 20 ms with 1). The test set above was encoded with every thread.
        torch.set_num_threads(1)
        config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    sys.stdout.flush()
    return 0
