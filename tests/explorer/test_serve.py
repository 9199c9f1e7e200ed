"""Serving the explorer: the address it binds, the URL it prints, one-line errors for a taken port or a bad run."""
from __future__ import annotations

import socket

import pytest

from latentspace.cli import main
from latentspace.errors import LatentspaceError
from latentspace.explorer.serve import bind, is_loopback, url_for
from tests.cli import run_cli


def test_cli_explore_prints_url_and_binding(tiny_ae_run, monkeypatch, capsys):
    import uvicorn

    from latentspace import cli

    served = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: served.append(sockets[0].getsockname()))
    assert cli.main(["explore", str(tiny_ae_run.path), "--port", "0", "--limit-test", "50"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:" in out and "bound to 127.0.0.1 only" in out and tiny_ae_run.path.name in out
    assert served and served[0][0] == "127.0.0.1"
    assert cli.main(["explore", str(tiny_ae_run.path), "--host", "0.0.0.0", "--port", "0", "--limit-test", "50"]) == 0
    out = capsys.readouterr().out
    assert "bound to 0.0.0.0: anyone who can reach this machine" in out and served[1][0] == "0.0.0.0"


def test_cli_explore_errors_are_one_line(tiny_ae_run, tmp_path, capsys):
    from latentspace import cli

    assert cli.main(["explore", str(tmp_path / "nope"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such run directory" in err
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        assert cli.main(["explore", str(tiny_ae_run.path), "--port", str(s.getsockname()[1])]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot listen on 127.0.0.1" in err
    finally:
        s.close()
    for flags, message in ((["--port", "70000"], "--port must be between 0 and 65535, got 70000"),
                           (["--port", "0", "--limit-test", "1"], "--limit-test must be at least 2, got 1")):
        code, _, err = run_cli(capsys, "explore", tiny_ae_run.path, *flags)
        assert code == 2 and message in err and err.count("\n") == 1


def test_loopback_addresses_and_urls():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    sock = bind("127.0.0.1", 0)
    try:
        assert url_for(sock, "127.0.0.1") == f"http://127.0.0.1:{sock.getsockname()[1]}/"
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        with pytest.raises(LatentspaceError, match="cannot listen on 127.0.0.1:.*try --port"):
            bind("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()
    with pytest.raises(LatentspaceError, match="--port must be between 0 and 65535"):
        bind("127.0.0.1", 70000)
    with pytest.raises(LatentspaceError, match="cannot resolve"):
        bind("no-such-host.invalid", 0)
    assert main(["explore", "/no/such/run"]) == 2
