"The demo as users meet it: the page in a real browser (headless Chromium), and its endpoints through gradio_client."
import os, shutil, urllib.request
from pathlib import Path
import numpy as np
import pytest
from conftest import REPO, make_clip

gr = pytest.importorskip('gradio', reason='the demo extra is not installed: pip install "facemask[demo]"')
import av
from PIL import Image
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from facemask.core import read_image
from facemask.demo import build_demo

HOPPER = REPO/'examples'/'grace_hopper.jpg'
CHROMIUM, CHROMEDRIVER = shutil.which('chromium') or shutil.which('chromium-browser'), shutil.which('chromedriver')

@pytest.fixture(scope='module')
def url():
    app = build_demo(device='cpu')
    app.launch(prevent_thread_lock=True, server_name='127.0.0.1', quiet=True, show_error=True)
    yield app.local_url
    app.close()

@pytest.fixture(scope='module')
def client(url): return Client(url, verbose=False)

def test_photo_endpoint(client, masker):
    mask, over, cut, files = client.predict(handle_file(str(HOPPER)), 'fast', 0.5, api_name='/mask_photo')
    np.testing.assert_array_equal(read_image(mask)[..., 0], masker.predict(HOPPER))  # what `facemask predict` writes
    assert [Path(f).name for f in files] == ['grace_hopper_mask.png', 'grace_hopper_overlay.jpg', 'grace_hopper_cutout.png']
    alpha = np.asarray(Image.open(cut))[..., 3]
    assert 0 < ((alpha > 0) & (alpha < 255)).sum() < (alpha == 255).sum()  # a feathered edge around a solid face

def test_photo_errors_name_the_file(client, tmp_path):
    (tmp_path/'holiday.jpg').write_bytes(HOPPER.read_bytes()[:2000])
    with pytest.raises(AppError, match='holiday.jpg: unreadable image'):
        client.predict(handle_file(str(tmp_path/'holiday.jpg')), 'fast', 0.5, api_name='/mask_photo')

def test_video_endpoint(client, tmp_path):
    over, files = client.predict(handle_file(str(make_clip(tmp_path/'pan.mp4', read_image(HOPPER)))), 'fast', 0.5, api_name='/mask_video')
    over = over['video'] if isinstance(over, dict) else over
    with av.open(over) as c:
        assert [(s.type, s.codec_context.name) for s in c.streams] == [('video', 'h264'), ('audio', 'aac')]
        assert c.streams.video[0].codec_context.pix_fmt == 'yuv420p' and c.streams.video[0].frames == 12
    with av.open(files[1]) as c: values = np.unique(np.stack([f.to_ndarray(format='gray') for f in c.decode(video=0)]))
    assert set(values.tolist()) <= {0, 255} and 255 in values

def test_long_video_refused(client, tmp_path):
    long = make_clip(tmp_path/'lecture.mp4', read_image(HOPPER), 31, rate=1, size=(32, 32), audio=None)
    with pytest.raises(AppError, match='lecture.mp4: 31 s is longer than this demo takes'):
        client.predict(handle_file(str(long)), 'fast', 0.5, api_name='/mask_video')

@pytest.fixture(scope='module')
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get('FACEMASK_REQUIRE_BROWSER'): pytest.fail('chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)')
        pytest.skip('no chromium / chromedriver on this machine')
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions(); opts.binary_location = CHROMIUM
    for arg in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1600,1000'): opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()

def _upload_and_run(browser, url, path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(url)
    wait = WebDriverWait(browser, 120)
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, '#photo-in input[type=file]'))[0].send_keys(str(path))
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, '#photo-in img'))  # the upload is shown
    browser.find_element(By.CSS_SELECTOR, '#photo-go').click()
    return wait

def test_browser_shows_the_mask(browser, url, masker, tmp_path):
    from selenium.webdriver.common.by import By
    wait = _upload_and_run(browser, url, HOPPER)
    img = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, '#photo-mask img'))[0]
    got = tmp_path/'mask.png'; urllib.request.urlretrieve(img.get_attribute('src'), got)
    np.testing.assert_array_equal(read_image(got)[..., 0], masker.predict(HOPPER))
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, '#photo-cut-out img')) and len(b.find_elements(By.CSS_SELECTOR, '#photo-files a')) >= 3)
    browser.save_screenshot(str(tmp_path/'demo.png'))
    if os.environ.get('FACEMASK_SCREENSHOT'): shutil.copy(tmp_path/'demo.png', os.environ['FACEMASK_SCREENSHOT'])

def test_browser_shows_errors_in_the_page(browser, url, tmp_path):
    (tmp_path/'holiday.jpg').write_bytes(HOPPER.read_bytes()[:2000])
    wait = _upload_and_run(browser, url, tmp_path/'holiday.jpg')
    wait.until(lambda b: 'holiday.jpg: unreadable image' in b.find_element('tag name', 'body').text)

def test_browser_plays_the_overlay_video(browser, masker, tmp_path):
    "The overlay of a clip with sound, opened by Chromium's own <video> player: it decodes, has the clip's size and length, and plays."
    make_clip(tmp_path/'talk.mov', read_image(HOPPER), seconds=1.5, rate=10, audio='pcm_s16le')
    masker.predict_video(tmp_path/'talk.mov', None, tmp_path/'talk_overlay.mp4', progress=False)
    (tmp_path/'page.html').write_text('<video id="v" src="talk_overlay.mp4" muted></video>')
    browser.get((tmp_path/'page.html').as_uri())
    from selenium.webdriver.support.ui import WebDriverWait
    state = lambda b: b.execute_script("const v = document.getElementById('v'); return [v.readyState, v.error && v.error.code, v.videoWidth, v.videoHeight, v.duration, v.currentTime];")
    WebDriverWait(browser, 30).until(lambda b: state(b)[0] >= 2 or state(b)[1])
    ready, error, w, h, duration, _ = state(browser)
    assert not error and (w, h) == (160, 200) and abs(duration - 1.5) < 0.15, state(browser)
    browser.execute_script("document.getElementById('v').play();")
    WebDriverWait(browser, 30).until(lambda b: state(b)[5] > 0.3)
