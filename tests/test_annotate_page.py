"""The labelling page in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium),
served by the real `hf-llmgen annotate` command: label by clicking and by keyboard, reload mid-way, and
check the labels file."""

import json
import os
import re
import signal
import subprocess
import sys

import datasets
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from hf_llmgen.interventions.labelling import LabelsFile, Mark

pytestmark = pytest.mark.slow

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "banking77_train_sample.jsonl")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic")


@pytest.fixture
def page(tmp_path):
    """The annotate command serving 8 random rows of a saved Banking77 sample, and a browser on its page."""
    rows = [json.loads(line) for line in open(FIXTURE, encoding="utf-8")]
    names = sorted({r["label"] for r in rows})
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)})
    folder = tmp_path / "data"
    datasets.Dataset.from_dict({"text": [r["text"] for r in rows], "label": [r["label"] for r in rows]},
                               features=features).save_to_disk(str(folder))
    server = subprocess.Popen(
        [sys.executable, "-m", "hf_llmgen.cli", "annotate", str(folder), "--n", "8", "--strategy", "random",
         "--port", "0"], stdout=subprocess.PIPE, text=True,
    )
    try:
        url = re.search(r"http://\S+/", server.stdout.readline()).group(0)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        browser.get(url)
        yield browser, names, LabelsFile(str(folder / "human_labels.jsonl"))
        browser.quit()
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:  # a set-up that failed (no browser) leaves no server running
            server.kill()
            server.wait()


def _wait_for(browser, progress):
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "progress").text == progress)


def _shown(browser):
    return int(browser.find_element(By.ID, "row").text), browser.find_element(By.ID, "text").text


def _press(browser, key):
    browser.find_element(By.TAG_NAME, "body").send_keys(key)


def test_click_keyboard_reload_and_the_labels_file(page):
    browser, names, labels = page
    _wait_for(browser, "0 / 8 marked")
    expected = {}

    row, text = _shown(browser)
    browser.find_element(By.CSS_SELECTOR, f'#labels button[data-label="{names[3]}"]').click()
    expected[row] = Mark(row, text, names[3])
    _wait_for(browser, "1 / 8 marked")

    row, text = _shown(browser)
    _press(browser, "2")
    expected[row] = Mark(row, text, names[1])
    _wait_for(browser, "2 / 8 marked")

    row, text = _shown(browser)
    _press(browser, "0")
    expected[row] = Mark(row, text, None, True)
    _wait_for(browser, "3 / 8 marked")

    row, text = _shown(browser)
    browser.find_element(By.ID, "out-of-scope").click()
    expected[row] = Mark(row, text, None, True)
    _wait_for(browser, "4 / 8 marked")
    assert labels.read() == expected

    browser.refresh()  # closing and reopening the page loses nothing and resumes at the first unmarked row
    _wait_for(browser, "4 / 8 marked")
    assert _shown(browser)[0] not in expected

    _press(browser, Keys.ARROW_LEFT)  # back to the last row marked out of scope: relabel it, then clear it
    assert "chosen" in browser.find_element(By.ID, "out-of-scope").get_attribute("class")
    _press(browser, "1")
    expected[row] = Mark(row, text, names[0])
    _wait_for(browser, "4 / 8 marked")
    WebDriverWait(browser, 10).until(lambda b: _shown(b)[0] != row)  # saved: the page went on
    assert labels.read() == expected
    _press(browser, Keys.ARROW_LEFT)
    assert _shown(browser) == (row, text)
    _press(browser, Keys.BACKSPACE)
    del expected[row]
    _wait_for(browser, "3 / 8 marked")

    _press(browser, Keys.ARROW_RIGHT)  # the filter box: "/" focuses it, Enter takes the first match
    row, text = _shown(browser)
    _press(browser, "/")
    browser.switch_to.active_element.send_keys(names[5][:6], Keys.ENTER)
    expected[row] = Mark(row, text, names[5])
    _wait_for(browser, "4 / 8 marked")
    assert labels.read() == expected
    counts = browser.find_element(By.ID, "counts").text
    assert f"{names[5]}: 1" in counts and f"{names[2]}: 0" in counts
