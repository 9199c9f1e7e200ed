"""Where the study lives: bad storage URLs, and PostgreSQL's advisory lock as the budget lock."""

from __future__ import annotations

import threading

import pytest

from latentspace.cli import main
from latentspace.commands.search.storage import BudgetLock
from tests.commands.search.helpers import _free_port

# ------------------------------------------------------------------------------ errors

@pytest.mark.parametrize("storage, message", [
    ("not a url", "not a database URL"),
    ("nosuchdb://host/x", "unknown database kind"),
    ("postgresql://me:secret@127.0.0.1:{port}/db", "cannot use the database postgresql://me:***@127.0.0.1"),
])
def test_bad_storage_is_one_line_exit_2(storage, message, tmp_path, capsys):
    storage = storage.format(port=_free_port())
    code = main(["search", "ae", "--storage", storage, "--out", str(tmp_path / "s"), "--trials", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert message in err[0] and "secret" not in err[0]


def test_postgres_advisory_lock_excludes_a_second_holder(postgres_url, tmp_path):
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://") + "postgres"  # the explicit form works too
    first, second = BudgetLock(url, "s", tmp_path), BudgetLock(url, "s", tmp_path)
    entered = threading.Event()

    def take():
        with second:
            entered.set()

    try:
        with first:
            t = threading.Thread(target=take)
            t.start()
            assert not entered.wait(1.0)
        assert entered.wait(10)
        t.join()
    finally:
        first.close()
        second.close()
