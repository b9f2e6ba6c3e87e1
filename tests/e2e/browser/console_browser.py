"""Shared helpers for the haven-console browser tests (headless Chromium
driven by Selenium; Debian's chromium, chromium-driver, python3-selenium).

Run with /usr/bin/python3 (the Debian interpreter that has selenium). Each
scenario script takes one argument, a JSON file the C++ test wrote (see
tests/e2e/console_browser_test.cc): the console's URL, the screenshot
folder, names, codes and commands. Waits are bounded; failures raise
AssertionError with what was expected and what the page showed.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import (StaleElementReferenceException,
                                        TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

DEFAULT_WAIT = 20  # seconds, for any one thing to appear


def load_config():
    if len(sys.argv) != 2:
        raise SystemExit("usage: %s CONFIG.json" % sys.argv[0])
    with open(sys.argv[1], encoding="utf-8") as f:
        return json.load(f)


def make_driver(config):
    """A headless Chromium that accepts the console's test certificate."""
    options = webdriver.ChromeOptions()
    options.binary_location = config.get("chromium", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,1400",
                "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-sync",
                "--password-store=basic"):
        options.add_argument(arg)
    if config.get("cert_spki"):
        options.add_argument("--ignore-certificate-errors-spki-list=" +
                             config["cert_spki"])
    options.accept_insecure_certs = True
    profile = config.get("profile_dir")
    if profile:
        options.add_argument("--user-data-dir=" + profile)
    service = Service(executable_path=config.get("chromedriver",
                                                  "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    return driver


class Screens:
    """Numbered screenshots in the test's screenshot folder."""

    def __init__(self, driver, folder):
        self.driver = driver
        self.folder = folder
        self.count = 0
        os.makedirs(folder, exist_ok=True)

    def shot(self, name):
        self.count += 1
        path = os.path.join(self.folder, "%02d-%s.png" % (self.count, name))
        # The whole page height, so a screenshot shows what a person scrolls.
        try:
            height = self.driver.execute_script(
                "return Math.min(document.documentElement.scrollHeight, 6000)")
            self.driver.set_window_size(1280, max(900, int(height) + 40))
        except Exception:  # pylint: disable=broad-except
            pass
        self.driver.save_screenshot(path)
        print("screenshot: " + path, flush=True)
        return path


def totp(secret_base32, at=None, digits=6, period=30):
    """RFC 6238 TOTP (HMAC-SHA1) as authenticator apps compute it."""
    secret = secret_base32.upper().replace(" ", "")
    secret += "=" * (-len(secret) % 8)
    key = base64.b32decode(secret)
    counter = int((time.time() if at is None else at) // period)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF)
    return str(code % (10 ** digits)).zfill(digits)


def fresh_totp(secret_base32, used):
    """A code from a time step not used before (a node refuses a code
    twice): waits, bounded, for the next step when needed."""
    for _ in range(3):
        step = int(time.time() // 30)
        if step not in used:
            used.add(step)
            return totp(secret_base32)
        time.sleep(30 - time.time() % 30 + 0.2)
    raise AssertionError("no fresh TOTP step")


def otpauth_secret(uri):
    """The base32 secret of an otpauth:// URI."""
    query = urllib.parse.urlparse(uri).query
    return urllib.parse.parse_qs(query)["secret"][0]


def wait_for(driver, condition, what, timeout=DEFAULT_WAIT):
    try:
        # A page that re-renders a list replaces its elements: an element
        # gone stale is looked up again on the next poll.
        return WebDriverWait(
            driver, timeout, poll_frequency=0.2,
            ignored_exceptions=[StaleElementReferenceException]).until(
                lambda d: condition(d))
    except TimeoutException:
        raise AssertionError("timed out waiting for " + what +
                             "; page text:\n" + page_text(driver)[:3000])


def element(driver, css, timeout=DEFAULT_WAIT):
    """The first visible element matching `css`."""
    def visible(d):
        for e in d.find_elements(By.CSS_SELECTOR, css):
            if e.is_displayed():
                return e
        return False
    return wait_for(driver, visible, "element " + css, timeout)


def wait_text(driver, css, text, timeout=DEFAULT_WAIT):
    """Waits until an element matching `css` holds `text`; returns it."""
    def has(d):
        for e in d.find_elements(By.CSS_SELECTOR, css):
            if text in e.text:
                return e
        return False
    return wait_for(driver, has, "'%s' in %s" % (text, css), timeout)


def page_text(driver):
    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except Exception:  # pylint: disable=broad-except
        return "(no page)"


def fill(driver, css, value):
    e = element(driver, css)
    e.clear()
    e.send_keys(value)
    return e


def click(driver, css):
    e = element(driver, css)
    driver.execute_script("arguments[0].scrollIntoView({block:'center'})", e)
    e.click()
    return e


def no_script_ran(driver):
    """Asserts that no hostile payload the tests plant ran on the page."""
    flag = driver.execute_script("return window.__havenXss === undefined")
    title = driver.title
    assert flag, "a payload ran: window.__havenXss is set"
    assert "pwned" not in title, "a payload ran: title is " + title


def fetch(driver, method, path, body=None, headers=None):
    """A fetch() from inside the page (same origin, with its cookie):
    returns {status, text}. For checks of the console's own refusals."""
    script = """
      const [method, path, body, headers, done] = arguments;
      const init = {method, credentials: 'same-origin', headers: headers || {}};
      if (body !== null) init.body = body;
      fetch(path, init).then(async (r) => done({status: r.status, text: await r.text()}))
        .catch((e) => done({status: 0, text: String(e)}));
    """
    return driver.execute_async_script(script, method, path, body, headers)


def enrol_and_sign_in(driver, screens, base_url, name, enrolment_code,
                      password, used_steps):
    """Enrols TOTP on the sign-in page, then signs in; returns the TOTP
    secret read from the page."""
    driver.get(base_url + "/")
    element(driver, "#enrol-form")
    screens.shot("sign-in")
    fill(driver, "#enrol-name", name)
    fill(driver, "#enrol-code", enrolment_code)
    fill(driver, "#enrol-password", password)
    click(driver, "#enrol-begin-button")
    uri = wait_for(driver,
                   lambda d: d.find_element(By.ID, "enrol-uri").text or False,
                   "the otpauth URI")
    assert uri.startswith("otpauth://totp/"), uri
    secret = otpauth_secret(uri)
    screens.shot("enrol-qr")
    fill(driver, "#enrol-confirm-code", fresh_totp(secret, used_steps))
    click(driver, "#enrol-confirm-button")
    wait_text(driver, "#enrol-status", "Your account is ready")
    sign_in(driver, name, password, secret, used_steps)
    return secret


def sign_in(driver, name, password, secret, used_steps):
    fill(driver, "#sign-in-name", name)
    fill(driver, "#sign-in-password", password)
    fill(driver, "#sign-in-code", fresh_totp(secret, used_steps))
    click(driver, "#sign-in-button")
    wait_text(driver, "[data-test=who-am-i]", "Signed in as " + name)


def run(main):
    """Runs a scenario main(config, driver, screens) and exits 0 on
    success, 1 on a failed check (with a last screenshot)."""
    config = load_config()
    driver = make_driver(config)
    screens = Screens(driver, config["screenshot_dir"])
    started = time.time()
    try:
        main(config, driver, screens)
        print("OK: %s in %.1f s" % (os.path.basename(sys.argv[0]),
                                    time.time() - started), flush=True)
        return 0
    except Exception as e:  # pylint: disable=broad-except
        print("FAIL: %s: %s" % (type(e).__name__, e), flush=True)
        try:
            screens.shot("failure")
            print("page text at failure:\n" + page_text(driver)[:4000])
        except Exception:  # pylint: disable=broad-except
            pass
        return 1
    finally:
        driver.quit()
