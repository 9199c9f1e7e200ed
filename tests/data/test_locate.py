"""Where a dataset is found: --data-dir, then $LATENTSPACE_DATA, then the cache, then Debian's."""
from __future__ import annotations

import pytest

from latentspace.data.download import locate
from latentspace.errors import LatentspaceError
from tests.datafiles import fake_dataset


def test_locate_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    a, b, c = (tmp_path / n for n in ("a", "b", "c"))
    for d in (a, b, c):
        d.mkdir()
        fake_dataset(d)
    monkeypatch.setenv("LATENTSPACE_DATA", str(b))
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    (tmp_path / "fashion-mnist").symlink_to(c)
    assert locate("fashion-mnist", data_dir=a, download=False) == a
    assert locate("fashion-mnist", download=False) == b
    monkeypatch.delenv("LATENTSPACE_DATA")
    assert locate("fashion-mnist", download=False) == tmp_path / "fashion-mnist"


def test_not_found_without_download_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    with pytest.raises(LatentspaceError, match="not found .* downloading is off"):
        locate("kmnist", data_dir=tmp_path / "nothing", download=False)


def test_an_explicit_data_dir_is_never_replaced_by_another_copy(tmp_path, monkeypatch):
    """Debian's Fashion-MNIST exists, but --data-dir names another place: that place, or an error."""
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    assert locate("fashion-mnist", download=False).is_dir()  # found elsewhere without --data-dir
    with pytest.raises(LatentspaceError, match="not found in /no/such/dir and downloading is off"):
        locate("fashion-mnist", data_dir="/no/such/dir", download=False)
