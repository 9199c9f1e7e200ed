"""The explorer page in a real browser: Playwright driving Debian's Chromium (headless, no download)."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-extensions", "--disable-sync"]

# The pixels of the decoded image, read back through a canvas (the PNG is a same-origin blob).
PIXELS = """() => { const img = document.getElementById('decoded');
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  return Array.from(g.getImageData(0, 0, c.width, c.height).data.filter((_, k) => k % 4 === 0)); }"""


@pytest.fixture(scope="module")
def server(fake_models_in_module, tiny_ae2_run, tiny_ae_run, tmp_path_factory):
    """The app over a 2-D run and a 4-D run, served by uvicorn on a free 127.0.0.1 port in a thread."""
    import uvicorn

    from latentspace.explorer.app import create_app
    from latentspace.explorer.serve import bind
    from latentspace.explorer.served import ServedRun
    from tests.conftest import pristine_copy
    from tests.fakes import FakeGAN

    root = tmp_path_factory.mktemp("explorer-runs")
    app = create_app([pristine_copy(tiny_ae2_run, root / tiny_ae2_run.name),
                      pristine_copy(tiny_ae_run, root / tiny_ae_run.name), ServedRun.from_model("gan", FakeGAN(), None)],
                     limit_test=1000, allowed_hosts=["127.0.0.1", "localhost"])
    sock = bind("127.0.0.1", 0)
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/", app
    srv.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def page():
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make system does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 1000})
        pg.errors = []
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
        yield pg
        browser.close()


def decodes(page) -> int:
    return int(page.get_attribute("#decoded", "data-decodes") or 0)


def wait_decode_after(page, n: int):
    page.wait_for_function(f"() => +(document.getElementById('decoded').dataset.decodes || 0) > {n}"
                           " && document.getElementById('decoded').complete", timeout=15000)


def click_map(page, fx: float, fy: float):
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def test_map_click_slider_interpolation_and_run_switch(server, page, tmp_path):
    url, app = server
    names = list(app.state.runs)
    page.goto(url)
    wait_decode_after(page, 0)
    assert page.locator("#run-switcher").is_visible()
    assert page.locator("#legend li").count() == 10
    assert "T-shirt/top" in page.inner_text("#legend")

    # 2-D latent space: a click decodes and selects the clicked coordinate
    n = decodes(page)
    click_map(page, 0.3, 0.4)
    wait_decode_after(page, n)
    assert "selected: z = (" in page.inner_text("#selection-info")
    assert page.locator("#sliders input[type=range]").count() == 2
    x_clicked = float(page.input_value("#slider-0"))
    before = page.evaluate(PIXELS)
    assert len(before) == 28 * 28

    # moving a slider re-decodes: the image changes
    n = decodes(page)
    page.focus("#slider-0")
    page.keyboard.press("End")
    wait_decode_after(page, n)
    page.wait_for_function("() => document.getElementById('decoded').complete")
    after = page.evaluate(PIXELS)
    assert float(page.input_value("#slider-0")) > x_clicked
    assert after != before, "moving a slider did not change the decoded image"
    assert "(sliders moved)" in page.inner_text("#selection-info")

    # two points: an interpolation strip
    page.click("#set-a")
    click_map(page, 0.8, 0.7)
    page.click("#set-b")
    page.wait_for_function("() => document.querySelectorAll('#interp-strip img').length === 10", timeout=15000)
    page.screenshot(path=str(tmp_path / "explorer-2d.png"), full_page=True)

    # a larger latent space: PCA map, the nearest test image beside its reconstruction
    page.select_option("#run-select", names[1])
    page.wait_for_function("() => document.getElementById('map-title').textContent.includes('PCA')", timeout=15000)
    assert page.locator("#interp-strip img").count() == 0
    n = decodes(page)
    click_map(page, 0.5, 0.5)
    wait_decode_after(page, n)
    page.wait_for_function("() => !document.getElementById('original-fig').hidden", timeout=15000)
    assert "test image #" in page.inner_text("#original-caption")
    assert page.locator("#sliders input[type=range]").count() == 4
    before = page.evaluate(PIXELS)
    n = decodes(page)
    page.focus("#slider-2")
    page.keyboard.press("Home")
    wait_decode_after(page, n)
    page.wait_for_function("() => document.getElementById('decoded').complete")
    assert page.evaluate(PIXELS) != before
    # an autoencoder has no prior, but samples through the mixture on its training codes, as everywhere
    page.click("#sample")
    page.wait_for_function("() => document.querySelectorAll('#sample-strip img').length === 10", timeout=30000)
    assert page.locator("#no-map").is_hidden()
    page.screenshot(path=str(tmp_path / "explorer-pca.png"), full_page=True)

    # a model without an encoder (GAN): no map; samples, and sliders over the chosen sample's noise
    page.select_option("#run-select", names[2])
    page.wait_for_function("() => document.getElementById('map-title').textContent === 'No map'", timeout=15000)
    assert page.locator("#map").is_hidden() and page.locator("#legend").is_hidden()
    assert page.locator("#no-map").is_visible()
    page.click("#sample")
    page.wait_for_function("() => document.querySelectorAll('#sample-strip img').length === 10", timeout=15000)
    n = decodes(page)
    page.click("#sample-strip img >> nth=3")
    wait_decode_after(page, n)
    assert "sample 4" in page.inner_text("#selection-info")
    before = page.evaluate(PIXELS)
    n = decodes(page)
    page.focus("#slider-0")
    page.keyboard.press("PageUp")
    wait_decode_after(page, n)
    page.wait_for_function("() => document.getElementById('decoded').complete")
    assert page.evaluate(PIXELS) != before
    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    keep = Path("/tmp/latentspace-explorer-screenshots")  # for a person to look at after the run
    keep.mkdir(exist_ok=True)
    for f in tmp_path.glob("*.png"):
        shutil.copy(f, keep / f.name)
    assert page.errors == [], page.errors
