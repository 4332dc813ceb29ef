"""The explorer in a real browser: JupyterLab driven by Playwright with Debian's Chromium.

JupyterLab runs on a free loopback port, on a temporary copy of the explorer notebook
(so nothing is saved into the committed one), with Jupyter's configuration, data and
runtime folders in the test's temporary folder (nothing read from or written to the
user's home). The test runs all cells, changes the indicator, checks that the chart
and the table change, exports the table, saves a screenshot, then stops JupyterLab by
its PID.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    require_chromium,
    stop_server,
    wait_for_server,
)

from avs_eval import paths

NOTEBOOK = paths.NOTEBOOKS_DIR / "explorateur.ipynb"
SCREENSHOT = paths.OUTPUTS_DIR / "capture_explorateur.png"
NEW_INDICATOR = "Permanence d'un partenaire dans les locaux"

pytestmark = [
    pytest.mark.lent,  # JupyterLab driven by a browser
    pytest.mark.usefixtures("one_browser_at_a_time"),  # one at a time under pytest-xdist
]


def _notebook_copy(folder: Path, exports: Path) -> Path:
    """The committed notebook, exporting into `exports` instead of the project's outputs/."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    lines = [
        f"dossier_sortie: str = {str(exports)!r}" if line.startswith("dossier_sortie") else line
        for line in cell.source.splitlines()
    ]
    cell.source = "\n".join(lines)
    folder.mkdir()
    nbformat.write(notebook, folder / NOTEBOOK.name)
    return folder / NOTEBOOK.name


def test_explorer_in_jupyterlab(tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)

    exports = tmp_path / "exports"
    _notebook_copy(tmp_path / "notebooks", exports)
    jupyter = tmp_path / "jupyter"
    env = os.environ | {
        "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
        "JUPYTER_DATA_DIR": str(jupyter / "data"),
        "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
        "IPYTHONDIR": str(jupyter / "ipython"),
        "JUPYTER_PREFER_ENV_PATH": "1",
    }
    # No "Would you like to get notified about Jupyter news?" toast over the page.
    notification = jupyter / "config/lab/user-settings/@jupyterlab/apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    # The labels below are English: the user's setting wins over the French default that
    # `make lab` (or test_jupyterlab, run first under pytest-xdist) installs in the venv.
    translation = jupyter / "config/lab/user-settings/@jupyterlab/translation-extension"
    translation.mkdir(parents=True)
    (translation / "plugin.jupyterlab-settings").write_text('{"locale": "en"}')
    port, token = free_port(), secrets.token_hex(16)
    log = tmp_path / "jupyterlab.log"
    command = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp_path / 'notebooks'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:  # containers and CI run as root
        command.append("--allow-root")
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as stream:
        process = subprocess.Popen(
            command, env=env, stdout=stream, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for_server(f"{base}/api/status?token={token}", process, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1600})
                page.set_default_timeout(60_000)
                page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
                page.locator(".jp-Notebook .jp-Cell").first.wait_for()
                page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).first.wait_for()
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

                explorer = page.locator(".avs-explorateur")
                table = explorer.locator(".avs-tableau")
                image = explorer.locator("img.avs-graphique")
                map_image = explorer.locator("img.avs-carte")
                try:
                    expect(table).to_contain_text("Taux de réponse")
                except AssertionError:
                    page.screenshot(path=str(tmp_path / "echec.png"))
                    raise
                expect(image).to_have_attribute("src", re.compile(r"^(blob|data):"))
                before_table = table.inner_text()
                before_image = image.get_attribute("src")
                assert before_image
                expect(map_image).to_have_attribute("src", re.compile(r"^(blob|data):"))
                before_map = map_image.get_attribute("src")

                explorer.locator(".widget-dropdown select").select_option(label=NEW_INDICATOR)
                expect(table).to_contain_text(NEW_INDICATOR)
                expect(image).not_to_have_attribute("src", before_image)
                expect(map_image).not_to_have_attribute("src", before_map)  # the map follows
                assert table.inner_text() != before_table

                explorer.get_by_role("button", name="Tableau en CSV").click()
                expect(explorer).to_contain_text("Tableau enregistré")
                assert list(exports.glob("explorateur_permanence_partenaire_*.csv"))

                shot = tmp_path / "capture_explorateur.png"
                explorer.scroll_into_view_if_needed()
                page.screenshot(path=str(shot), full_page=True)
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shot, SCREENSHOT)
            finally:
                browser.close()
    finally:
        stop_server(process)
    assert process.returncode is not None
