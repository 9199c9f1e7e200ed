"""The explorer page in a real browser: Playwright driving Debian's Chromium (headless, no download), over
grey runs and a colour run of an unlabelled set."""
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
# All four channels (RGBA) of an image element's pixels, and how the page draws it.
RGBA = """(img) => { const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  return Array.from(g.getImageData(0, 0, c.width, c.height).data); }"""
DRAWN = """(img) => { const s = getComputedStyle(img);
  return {natural: [img.naturalWidth, img.naturalHeight], css: [parseFloat(s.width), parseFloat(s.height)],
          rendering: s.imageRendering}; }"""
KEEP = Path("/tmp/latentspace-explorer-screenshots")  # screenshots for a person to look at after the run


@pytest.fixture(scope="module")
def server(fake_models_in_module, tiny_ae2_run, tiny_ae_run, tmp_path_factory):
    """The app over a 2-D run, a 4-D run, a GAN and a colour model (32 px) of an unlabelled set, served by
    uvicorn on a free 127.0.0.1 port in a thread."""
    from latentspace.explorer.app import create_app
    from latentspace.explorer.served import ServedRun
    from tests.conftest import pristine_copy
    from tests.fakes import FakeGAN, FakeRGB, fake_colour_test_set

    root = tmp_path_factory.mktemp("explorer-runs")
    app = create_app([pristine_copy(tiny_ae2_run, root / tiny_ae2_run.name),
                      pristine_copy(tiny_ae_run, root / tiny_ae_run.name), ServedRun.from_model("gan", FakeGAN(), None),
                      ServedRun.from_model("rgb", FakeRGB(), fake_colour_test_set(300, labelled=False))],
                     limit_test=1000, allowed_hosts=["127.0.0.1", "localhost"])
    for url in _serve(app):
        yield url, app


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
    keep_screenshots(tmp_path)
    assert page.errors == [], page.errors


def keep_screenshots(folder: Path) -> None:
    KEEP.mkdir(exist_ok=True)
    for f in folder.glob("*.png"):
        shutil.copy(f, KEEP / f.name)


def assert_rgb_and_crisp(page, selector: str, size: int) -> None:
    """The image is colour (its red channel differs from its green one), `size` pixels square, and shown at
    a whole multiple of that size (at least twice) with pixelated rendering."""
    img = page.locator(selector)
    rgba = img.evaluate(RGBA)
    assert len(rgba) == size * size * 4, selector
    red, green = rgba[0::4], rgba[1::4]
    assert sum(abs(r - g) > 100 for r, g in zip(red, green)) > 0.05 * size * size, f"{selector} is not in colour"
    drawn = img.evaluate(DRAWN)
    assert drawn["natural"] == [size, size], (selector, drawn)
    for css in drawn["css"]:
        assert css >= 2 * size and css % size == 0, (selector, drawn)
    assert drawn["rendering"] == "pixelated", (selector, drawn)


def test_a_colour_run_shows_rgb_images_scaled_up_crisply_and_an_unlabelled_legend(server, page, tmp_path):
    url, _ = server
    page.goto(url)
    wait_decode_after(page, 0)
    page.select_option("#run-select", "rgb")
    page.wait_for_function("() => document.getElementById('run-info').textContent.includes('colour 32 × 32')",
                           timeout=15000)
    page.wait_for_function("() => document.getElementById('map-title').textContent.includes('PCA')", timeout=15000)
    assert page.locator("#legend li").count() == 1 and page.inner_text("#legend").strip() == "unlabelled"
    n = decodes(page)
    click_map(page, 0.55, 0.45)
    wait_decode_after(page, n)
    page.wait_for_function("() => !document.getElementById('original-fig').hidden"
                           " && document.getElementById('original').complete"
                           " && document.getElementById('reconstruction').complete", timeout=15000)
    assert page.inner_text("#original-caption").startswith("test image #")
    for selector in ("#decoded", "#original", "#reconstruction"):
        assert_rgb_and_crisp(page, selector, 32)
    # strips: an interpolation between two test images and samples from the prior, in colour as well
    page.click("#set-a")
    click_map(page, 0.25, 0.75)
    page.click("#set-b")
    page.wait_for_function("() => [...document.querySelectorAll('#interp-strip img')].filter(i => i.complete"
                           " && i.naturalWidth).length === 10", timeout=15000)
    page.click("#sample")
    page.wait_for_function("() => [...document.querySelectorAll('#sample-strip img')].filter(i => i.complete"
                           " && i.naturalWidth).length === 10", timeout=15000)
    for selector in ("#interp-strip img >> nth=0", "#interp-strip img >> nth=9", "#sample-strip img >> nth=4"):
        assert_rgb_and_crisp(page, selector, 32)
    n = decodes(page)
    page.click("#sample-strip img >> nth=2")
    wait_decode_after(page, n)
    assert_rgb_and_crisp(page, "#decoded", 32)
    assert page.locator("#original-fig").is_hidden()  # a sample has no test image
    n = decodes(page)
    click_map(page, 0.8, 0.3)  # back to a test image, for the screenshot
    wait_decode_after(page, n)
    page.wait_for_function("() => !document.getElementById('original-fig').hidden", timeout=15000)
    page.screenshot(path=str(tmp_path / "explorer-colour.png"), full_page=True)
    keep_screenshots(tmp_path)
    assert page.errors == [], page.errors


@pytest.fixture(scope="module")
def conditional_server(tmp_path_factory):
    """The app over a conditional VAE trained briefly (a class picker's run), on a free port."""
    from latentspace.explorer.app import create_app
    from latentspace.models.vae_config import VAEConfig
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    run = fit("vae", VAEConfig(latent_dim=8, conditional=True),
              TrainConfig(epochs=1, limit_train=4096, batch_size=128), out=tmp_path_factory.mktemp("cvae") / "cvae",
              progress=False)
    app = create_app([run.path], limit_test=500, allowed_hosts=["127.0.0.1", "localhost"])
    yield from _serve(app)


@pytest.mark.integration
def test_a_conditional_run_gets_a_class_picker_that_steers_decode_and_samples(conditional_server, page, tmp_path):
    page.goto(conditional_server)
    wait_decode_after(page, 0)
    assert page.locator("#class-picker").is_visible()
    assert page.locator("#class-select option").count() == 10
    # selecting a test image sets the picker to its class (its code is decoded with it)
    page.wait_for_function("() => !document.getElementById('original-fig').hidden", timeout=15000)
    caption = page.inner_text("#original-caption")
    shown = page.locator("#class-select option:checked").inner_text()
    assert f"({shown})" in caption, (caption, shown)
    # another class, the same code: a different garment
    before = page.evaluate(PIXELS)
    n = decodes(page)
    page.select_option("#class-select", label="Trouser" if shown != "Trouser" else "Bag")
    wait_decode_after(page, n)
    page.wait_for_function("() => document.getElementById('decoded').complete")
    assert page.evaluate(PIXELS) != before
    # samples of the chosen class, from the sampler menu's default (the VAE's prior)
    assert page.locator("#sampler-select option").count() >= 1
    page.select_option("#class-select", label="Sneaker")
    page.click("#sample")
    page.wait_for_function("() => document.querySelectorAll('#sample-strip img').length === 10", timeout=30000)
    shot = tmp_path / "explorer-conditional.png"
    page.screenshot(path=str(shot), full_page=True)
    keep_screenshots(tmp_path)
    assert page.errors == [], page.errors


def _serve(app):
    """uvicorn over `app` on a free 127.0.0.1 port in a thread; yields its URL, then stops it."""
    import uvicorn

    from latentspace.explorer.serve import bind

    sock = bind("127.0.0.1", 0)
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    srv.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def vqvae_server(tiny_vqvae_run, tmp_path_factory):
    """The app over the tiny VQ-VAE run (a 7 x 7 grid of 64 codes)."""
    from latentspace.explorer.app import create_app
    from tests.conftest import pristine_copy

    run = pristine_copy(tiny_vqvae_run, tmp_path_factory.mktemp("vq-explorer") / tiny_vqvae_run.name)
    yield from _serve(create_app([run], limit_test=500, allowed_hosts=["127.0.0.1", "localhost"]))


@pytest.mark.integration
def test_a_vqvae_run_shows_its_code_grid_and_a_clicked_cell_takes_a_chosen_code(vqvae_server, page, tmp_path):
    page.goto(vqvae_server)
    wait_decode_after(page, 0)
    page.wait_for_function("() => document.querySelectorAll('#code-grid .cell').length === 49", timeout=15000)
    assert page.locator("#codes-block").is_visible() and not page.locator("#sliders-block").is_visible()
    assert "7 × 7 codes of 64" in page.inner_text("#run-info")
    # click the centre cell, give it another code: the decoded image changes and the cell is marked
    page.click("#cell-24")
    assert "cell (3, 3)" in page.inner_text("#cell-name")
    old = int(page.input_value("#code-input"))
    before = page.evaluate(PIXELS)
    n = decodes(page)
    page.fill("#code-input", str((old + 17) % 64))
    page.dispatch_event("#code-input", "change")
    wait_decode_after(page, n)
    page.wait_for_function("() => document.getElementById('decoded').complete")
    assert page.inner_text("#cell-24") == str((old + 17) % 64)
    assert "changed" in (page.get_attribute("#cell-24", "class") or "")
    assert "(codes changed)" in page.inner_text("#selection-info")
    assert page.evaluate(PIXELS) != before, "a new code in the centre cell did not change the decoded image"
    page.screenshot(path=str(tmp_path / "explorer-vqvae.png"), full_page=True)
    keep_screenshots(tmp_path)
    assert page.errors == [], page.errors
