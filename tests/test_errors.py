"""The one error type a user can cause: the CLI prints it as one line and exits 2."""
from __future__ import annotations

from latentspace import cli
from latentspace.errors import LatentspaceError


def test_a_user_error_is_one_line_and_exit_2(monkeypatch, capsys):
    def fails(args):
        raise LatentspaceError("the data directory is empty")

    monkeypatch.setattr(cli, "cmd_data", fails)
    assert cli.main(["data"]) == 2
    assert capsys.readouterr().err == "latentspace: error: the data directory is empty\n"
    assert issubclass(LatentspaceError, Exception)
