"""The smoke study on a folder of the user's own 32 x 32 colour pictures, without labels: every step the data
allows runs, the classifier and the feature network are skipped with the reason, the captions speak of the
data in use, and the report, looked at in a real browser, shows colour figures."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentspace.commands.study.engine import run_study
from latentspace.commands.study.steps import steps_for
from tests.commands.study.helpers import parse_report

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
KEEP = Path("/tmp/latentspace-report-screenshots")  # for a person to look at after the run


def write_shapes(folder: Path, n: int = 300, size: int = 32) -> Path:
    """n coloured discs and squares on coloured backgrounds, PNG files in one flat folder (no labels)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        img = np.empty((size, size, 3), np.uint8)
        img[:] = rng.integers(0, 120, 3)
        cy, cx, r = rng.integers(8, size - 8, 2).tolist() + [int(rng.integers(4, 9))]
        mask = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r) if i % 2 else ((abs(yy - cy) <= r) & (abs(xx - cx) <= r))
        img[mask] = rng.integers(130, 256, 3)
        Image.fromarray(img).save(folder / f"picture-{i:04d}.png")
    return folder


@pytest.fixture(scope="module")
def folder_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("folder-study")
    folder = write_shapes(root / "pictures")
    report, sections = run_study("smoke", root / "study", dataset=f"folder:{folder}", log=lambda m: None)
    return report, sections


def test_every_step_the_data_allows_runs_and_the_rest_say_why_not(folder_study):
    report, sections = folder_study
    status = {s.key: s.status for s in sections}
    assert [s.key for s in sections] == [s.key for s in steps_for("smoke")]
    skipped = {k for k, v in status.items() if v != "done"}
    assert skipped == {"classifier", "features"}, [(s.key, s.status, s.error) for s in sections]
    assert all(s.by_design and "no labels" in s.error for s in sections if s.key in skipped)
    html = parse_report(report)
    for key in skipped:
        assert "no labels" in html[key]["text"]
    text = report.read_text()
    assert "3x32x32" in text and "has no labels" in text


def test_the_captions_speak_of_the_data_in_use(folder_study):
    _, sections = folder_study
    captions = " ".join(f.caption for s in sections for f in s.figures) + " ".join(s.intro for s in sections)
    for word in ("garment", "clothing", "shirt", "Fashion-MNIST"):
        assert word not in captions, word
    assert "no labels" in captions or "one colour" in captions
    assert "recognisable pictures like those in pictures/" in captions and "recognisable folder:" not in captions


def test_the_report_in_a_browser_shows_colour_figures(folder_study, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.pixels import rgb

    report, _ = folder_study
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make system does it)")
    shot = tmp_path / "report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        broken = page.evaluate("() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                               ".length")
        count = page.evaluate("() => document.images.length")
        page.locator("#ae20 figure img").nth(1).screenshot(path=str(shot))
        page.screenshot(path=str(tmp_path / "report-page.png"), full_page=True)
        browser.close()
    KEEP.mkdir(exist_ok=True)
    for f in tmp_path.glob("*.png"):
        shutil.copy(f, KEEP / f.name)
    assert errors == [] and count >= 10 and broken == 0
    pixels = rgb(shot)
    assert pixels.std() > 10, "the reconstruction figure is blank"
    assert (np.abs(pixels[..., 0] - pixels[..., 2]) > 60).mean() > 0.01, "the reconstructions are not in colour"
