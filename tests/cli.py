"""Running the command line in a test: its exit code whether `main` returns it or argparse raises it (a flag
outside its declared range is a usage error, SystemExit 2), and what it printed."""
from __future__ import annotations

import pytest

from latentspace.cli import main


def exit_code(*argv) -> int:
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main([str(a) for a in argv]))
    return e.value.code


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = exit_code(*argv)
    out, err = capsys.readouterr()
    return code, out, err
