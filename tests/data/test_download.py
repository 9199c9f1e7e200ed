"""The download path against a local HTTP server serving the real files: success, checksum failure, fallback."""
from __future__ import annotations

import dataclasses
import functools
import http.server
import shutil
import threading

import pytest

from latentspace.data import download, registry
from latentspace.data.download import download_dataset, locate, md5sum
from latentspace.data.idx import read_idx
from latentspace.data.images import load_splits
from latentspace.data.registry import get_spec
from latentspace.errors import LatentspaceError
from tests.conftest import FMNIST


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A local HTTP mirror on 127.0.0.1 holding the real Fashion-MNIST files (and a corrupt copy)."""
    root = tmp_path_factory.mktemp("mirror")
    (root / "good").mkdir()
    (root / "bad").mkdir()
    for f in FMNIST.glob("*.gz"):
        shutil.copy(f, root / "good" / f.name)
        data = bytearray(f.read_bytes())
        data[len(data) // 2] ^= 0xFF
        (root / "bad" / f.name).write_bytes(bytes(data))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def spec():
    """The registry's spec with the MD5s of the files served (Debian's gzip differs from the official one)."""
    base = get_spec("fashion-mnist")
    return dataclasses.replace(base, files={role: (name, md5sum(FMNIST / name))
                                            for role, (name, _) in base.files.items()})


def test_download_verifies_and_lands_complete_files(mirror, spec, tmp_path):
    target = tmp_path / "data"
    download_dataset(spec, target, [mirror + "/good/"], progress=False)
    for name, md5 in spec.files.values():
        assert md5sum(target / name) == md5
    assert not list(target.glob("*.part")), "temporary files left behind"
    assert read_idx(target / spec.files["test_images"][0]).shape == (10000, 28, 28)


def test_checksum_failure_leaves_no_file(mirror, spec, tmp_path):
    target = tmp_path / "data"
    with pytest.raises(LatentspaceError, match="does not match the expected"):
        download_dataset(spec, target, [mirror + "/bad/"], progress=False)
    assert list(target.iterdir()) == [], "a corrupt or partial file was left looking complete"


def test_falls_back_to_the_next_mirror(mirror, spec, tmp_path):
    target = tmp_path / "data"
    download_dataset(spec, target, [mirror + "/missing/", mirror + "/bad/", mirror + "/good/"], progress=False)
    assert sorted(p.name for p in target.iterdir()) == sorted(n for n, _ in spec.files.values())


def test_locate_downloads_into_the_data_dir_when_nothing_is_found(mirror, spec, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(registry.DATASETS, "fashion-mnist", spec)
    monkeypatch.setattr(download, "candidate_dirs", lambda name, data_dir=None: [tmp_path / "dl"])
    found = locate("fashion-mnist", download=True, mirrors=[mirror + "/good/"], progress=False)
    assert found == tmp_path / "dl"
    splits = load_splits("fashion-mnist", data_dir=found, download=False)
    assert len(splits.test) == 10000


def test_unreachable_mirror_is_one_clear_error(spec, tmp_path):
    with pytest.raises(LatentspaceError, match="could not download"):
        download_dataset(spec, tmp_path, ["http://127.0.0.1:9/"], progress=False)
