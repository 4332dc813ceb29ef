"""The evaluator's JupyterLab: in French, inside the project, opened on its start page.

`make lab` and `avs-eval lab` (the conda route, Windows included) both start it through
`command` and `environment`, and the browser test starts it the same way, so what an
evaluator sees is what is tested. Three things are the project's, not the user's
profile's:

- Jupyter's configuration, data and runtime folders (and IPython's) are under
  `.jupyter/` in the project, so nothing is read from or written to the home folder;
- the interface language and the Markdown viewer are set by the settings file the
  project ships (`jupyter/overrides.d/avs-eval.json`), copied into the environment's
  `share/jupyter/lab/settings/overrides.d/`, where JupyterLab reads an application's
  defaults (an editable install does not copy data files, hence `install_settings`);
- the start page, `notebooks/LISEZMOI.md`, says which notebook does what.

A user who changes the language in Settings keeps the choice: overrides are defaults.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from avs_eval import paths

SETTINGS_FILE: Path = paths.PROJECT_ROOT / "jupyter" / "overrides.d" / "avs-eval.json"
START_PAGE: Path = paths.NOTEBOOKS_DIR / "LISEZMOI.md"
JUPYTER_HOME: Path = paths.PROJECT_ROOT / ".jupyter"
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"


# What JupyterLab adds to a notebook it saves and git must not see (nbstripout's filter
# already drops outputs, execution counts and cell timings): the kernel's language details
# beyond its name, which vary from machine to machine.
GIT_FILTER_EXTRA_KEYS = " ".join(
    f"metadata.language_info.{key}"
    for key in (
        "codemirror_mode",
        "file_extension",
        "mimetype",
        "nbconvert_exporter",
        "pygments_lexer",
        "version",
    )
)


def install_git_filter(root: Path = paths.PROJECT_ROOT) -> None:
    """Make git strip what running and saving a notebook adds (`make` calls it).

    The filter is nbstripout's, declared in the repository's git configuration (what
    `nbstripout --install` writes, without its catch-all `*.ipynb` attribute): the
    project's `.gitattributes` applies it to `notebooks/` only, since the reference
    executions of the tests keep their outputs. A notebook saved with its outputs then
    commits as it was.
    """
    python = f'"{Path(sys.executable).as_posix()}"'
    settings = {
        "filter.nbstripout.clean": f"{python} -m nbstripout",
        "filter.nbstripout.smudge": "cat",
        "filter.nbstripout.required": "true",
        "filter.nbstripout.extrakeys": GIT_FILTER_EXTRA_KEYS,
        "diff.ipynb.textconv": f"{python} -m nbstripout -t",
    }
    for key, value in settings.items():
        subprocess.run(["git", "config", key, value], cwd=root, check=True, capture_output=True)


def settings_target(prefix: str | Path = sys.prefix) -> Path:
    """Where JupyterLab of the environment at `prefix` reads the project's defaults."""
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "avs-eval.json"


def install_settings(prefix: str | Path = sys.prefix) -> Path:
    """Copy the shipped settings into the environment (again only if they changed)."""
    target = settings_target(prefix)
    if not target.exists() or target.read_bytes() != SETTINGS_FILE.read_bytes():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SETTINGS_FILE, target)
    return target


def environment(home: Path = JUPYTER_HOME, base: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment with Jupyter's and IPython's folders under `home`."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "IPYTHONDIR": str(home / "ipython"),
            "JUPYTER_PREFER_ENV_PATH": "1",
        }
    )
    return env


def command(
    extra: list[str] | None = None,
    notebooks: Path = paths.NOTEBOOKS_DIR,
    start_page: Path | None = START_PAGE,
) -> list[str]:
    """The command line that starts JupyterLab on `notebooks`, opened on `start_page`."""
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebooks}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
        argv.append("--allow-root")
    argv += list(extra or [])
    if start_page is not None:
        argv.append(str(start_page))
    return argv


def widgets_missing(env: dict[str, str]) -> bool:
    """Whether the ipywidgets extension is absent (the explorer would show no controls)."""
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    text = listed.stdout + listed.stderr
    return not any(WIDGETS_EXTENSION in line and "enabled" in line for line in text.splitlines())


def main(extra: list[str] | None = None) -> int:
    """Start the evaluator's JupyterLab and wait until it is stopped (Ctrl-C)."""
    install_settings()
    env = environment()
    if widgets_missing(env):
        print(
            "extension ipywidgets absente de l'environnement : réinstallez-le "
            "(make installer, ou conda env update -f environment.yml)",
            file=sys.stderr,
        )
        return 1
    try:
        return subprocess.run(
            command(extra), env=env, cwd=paths.PROJECT_ROOT, check=False
        ).returncode
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
