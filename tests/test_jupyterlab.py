"""The evaluator's JupyterLab, tried as a new evaluator would, in Chromium driven by Playwright.

JupyterLab is started the way `make lab` starts it (`avs_eval.lab.command` and
`environment`), on a copy of the project whose package the kernels import
(PYTHONPATH), made a git repository with the project's notebook filter. The test
checks the menus are in French, opens the report notebook, runs all its cells, saves
it, then checks what saving must not do: re-make any report of a batch made before,
or leave the notebook dirty for git.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    require_chromium,
    stop_server,
    wait_for_server,
)

from avs_eval import lab, paths

pytestmark = [
    pytest.mark.lent,  # JupyterLab driven by a browser
    pytest.mark.usefixtures("one_browser_at_a_time"),  # one at a time under pytest-xdist
]

IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".jupyter", "outputs", "__pycache__", ".pytest_cache", ".ruff_cache"
)
SCREENSHOT = paths.OUTPUTS_DIR / "capture_jupyterlab.png"
MENUS = ["Fichier", "Édition", "Affichage", "Exécution", "Noyau"]


def _git(root: Path, *arguments: str) -> str:
    done = subprocess.run(
        ["git", *arguments], cwd=root, capture_output=True, text=True, check=True, timeout=600
    )
    return done.stdout


def _project_copy(root: Path) -> Path:
    """The project as committed, with git and the notebook filter that `make` installs."""
    shutil.copytree(paths.PROJECT_ROOT, root, ignore=IGNORED)
    _git(root, "init", "-q")
    _git(root, "config", "user.email", "test@example.org")
    _git(root, "config", "user.name", "test")
    lab.install_git_filter(root)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "copie")
    return root


def _batch(root: Path, env: dict[str, str], out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "avs_eval.cli", "rapports", "--sortie", str(out), "--jobs", "1"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((out / "2025" / "manifest.json").read_text(encoding="utf-8"))


def test_french_jupyterlab_run_all_then_save_remakes_nothing(tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=90_000)
    root = _project_copy(tmp_path / "avs-eval")
    lab.install_settings()
    env = lab.environment(tmp_path / "jupyter") | {"PYTHONPATH": str(root)}
    env.pop(paths.CONTEXT_ENV, None)
    # No "Would you like to get notified about Jupyter news?" toast over the page.
    news = tmp_path / "jupyter/config/lab/user-settings/@jupyterlab/apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    out = tmp_path / "sorties"
    first = _batch(root, env, out)
    assert first["refaits"] == len(first["notebooks"])

    port, token = free_port(), secrets.token_hex(16)
    extra = [
        "--no-browser",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    argv = lab.command(extra, notebooks=root / "notebooks", start_page=None)
    log = tmp_path / "jupyterlab.log"
    with open(log, "wb") as stream:
        process = subprocess.Popen(
            argv, cwd=root, env=env, stdout=stream, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base}/api/status?token={token}", process, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(90_000)
                page.goto(f"{base}/lab/tree/rapport_territoire.ipynb?token={token}")
                page.locator(".jp-Notebook .jp-Cell").first.wait_for()
                labels = page.locator(".lm-MenuBar-itemLabel")
                expect(labels.first).to_have_text("Fichier")
                shown = labels.all_inner_texts()
                assert all(menu in shown for menu in MENUS), shown
                page.get_by_text(
                    re.compile(r"Python 3 \(ipykernel\) \| (Inactif|Idle)")
                ).first.wait_for()
                labels.filter(has_text="Exécution").first.click()
                page.get_by_role(
                    "menuitem", name="Exécuter toutes les cellules", exact=True
                ).click()
                # the run is over when the last cell has its execution number
                last = page.locator(".jp-Notebook .jp-CodeCell").last
                try:
                    expect(last.locator(".jp-InputPrompt")).to_have_text(
                        re.compile(r"\[\d+\]"), timeout=300_000
                    )
                except AssertionError:
                    page.screenshot(path=str(tmp_path / "echec.png"))
                    raise
                expect(page.locator(".jp-Notebook .jp-OutputArea-output")).not_to_have_count(0)
                errors = page.locator(".jp-Notebook .jp-RenderedText[data-mime-type*='error']")
                assert errors.count() == 0, errors.first.inner_text()
                page.keyboard.press("Control+s")
                expect(page.locator(".jp-mod-dirty")).to_have_count(0)
                page.screenshot(path=str(tmp_path / "jupyterlab.png"))
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(tmp_path / "jupyterlab.png", SCREENSHOT)
            finally:
                browser.close()
    finally:
        stop_server(process)

    saved = json.loads((root / "notebooks" / "rapport_territoire.ipynb").read_text("utf-8"))
    assert any(c.get("outputs") for c in saved["cells"] if c["cell_type"] == "code")
    # what git would commit is the notebook as it was: outputs and machine details stripped
    # by the filter (git status may still list the file until `git add`, as the size of the
    # file on disk changed: git compares sizes before it runs a filter)
    assert _git(root, "diff", "--stat", "--", "notebooks") == ""
    _git(root, "add", "notebooks")
    assert _git(root, "status", "--porcelain", "notebooks") == ""
    second = _batch(root, env, out)
    assert second["refaits"] == 0, [r for r in second["notebooks"] if r.get("refait")]
