"""What every browser test shares: Debian's chromium through Playwright, and the app served by ``streamlit run``."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def browser_or_skip():
    """Playwright's sync API, or a visible skip (a failure under CI, where the browser must be there)."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the playwright Python package is not installed"
    if reason is None and not CHROMIUM.is_file():
        reason = f"chromium is not installed ({CHROMIUM}); apt-get install --no-install-recommends chromium"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    return sync_playwright


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(tmp: Path, **env_changes):
    """``streamlit run app.py`` on a free port, with runs and cache under ``tmp``; yields the URL.

    ``env_changes`` set (or, with None, remove) environment variables of the server. On the way
    out, live runs are stopped and the server is ended.
    """
    port = free_port()
    env = dict(os.environ, TLCORE_RUNS_DIR=str(tmp / "runs"), TLCORE_CACHE_DIR=str(tmp / "cache"),
               PYTHONUNBUFFERED="1")
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    log_path = tmp / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"the app did not start: {log_path.read_text(errors='replace')[-2000:]}")
                time.sleep(0.3)
            yield url
        finally:
            from tlcore.runs import RunStore

            for info in RunStore(tmp / "runs").list():
                if info.active:
                    RunStore(tmp / "runs").stop(info.run_id, wait=True, grace_s=3)
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def chromium(playwright_api, extra_args=()):
    """A headless Debian chromium (never Playwright's own download)."""
    with playwright_api() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield b
        finally:
            b.close()
