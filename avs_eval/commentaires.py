"""The evaluator's own analysis, kept in `parameters/commentaires/<année>/` between batches.

A report is regenerated many times a year; what the evaluator writes about it must
not live in the generated notebook, where the next batch would erase it. So each
report reads its Markdown file (`<slug>.md`, `synthese.md`) and shows it in a
section « Analyse de l'évaluateur ». The text is the evaluator's, but the report is
sent to partners: raw HTML is shown as text, and images are never fetched.
"""

from __future__ import annotations

import html
from pathlib import Path

from avs_eval import layout, paths
from avs_eval.catalog import load_catalog
from avs_eval.config import load_config
from avs_eval.output import write_atomic

SYNTHESIS_NAME = "synthese"


def folder(annee: int) -> Path:
    return paths.PARAMETERS_DIR / "commentaires" / str(annee)


def path_for(annee: int, slug: str) -> Path:
    """The commentary file of a report: `<slug>.md`, or `synthese.md` for the synthesis."""
    return folder(annee) / f"{slug}.md"


def read(annee: int, slug: str) -> str:
    """The commentary as written, or "" when there is none (then the report says nothing)."""
    path = path_for(annee, slug)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ""


def has_content(text: str) -> bool:
    """Whether a file holds more than the template's headings and hints."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "<!--", ">")):
            return True
    return False


def render(text: str) -> str:
    """Markdown as HTML for a report that partners receive.

    Raw HTML (a `<script>`, an `<img src=http…>`) is escaped, so it reads as text;
    Markdown images are replaced by their description (nothing is fetched from the
    web when the report opens); harmful link targets (javascript:) are neutralised.
    """
    import mistune

    class _NoImages(mistune.HTMLRenderer):
        def image(self, text: str, url: str, title: str | None = None) -> str:
            return html.escape(f"[image non affichée : {text}]")

    lines = [line for line in text.splitlines() if not line.strip().startswith("<!--")]
    markdown = mistune.create_markdown(escape=True, renderer=_NoImages(escape=True))
    return markdown("\n".join(lines))


def template(kind: str, name: str, annee: int) -> str:
    """The starting file: the report's section titles as headings, and how to write."""
    catalog, config = load_catalog(), load_config()
    titles = [
        title
        for key, title, _, _ in layout.plan(kind, catalog, config)
        if key not in (layout.ANALYSIS, "a-retenir", "methode")
    ]
    lines = [
        f"<!-- Analyse de l'évaluateur : {name}, {annee}. Ce texte paraît tel quel dans la "
        "section « Analyse de l'évaluateur » du rapport (édition partenaires comprise). -->",
        "<!-- Écrivez sous les titres utiles, supprimez les autres. Markdown : **gras**, "
        "*italique*, listes « - ». Pas d'image ni de HTML : ils s'affichent comme du texte. -->",
        "<!-- Un fichier laissé tel quel (titres seuls) n'ajoute rien au rapport. -->",
        "",
    ]
    for title in titles:
        lines += [f"## {title}", ""]
    return "\n".join(lines)


def create_missing(annee: int, territories: dict[str, str]) -> tuple[list[Path], list[Path]]:
    """Write the template of every report that has no file yet; never overwrite one.

    `territories` maps each territory's name to its slug. Returns (created, kept).
    """
    created, kept = [], []
    targets = [("synthese", "Synthèse", SYNTHESIS_NAME)]
    targets += [("territoire", name, slug) for name, slug in territories.items()]
    for kind, name, slug in targets:
        path = path_for(annee, slug)
        if path.exists():
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, template(kind, name, annee))
        created.append(path)
    return created, kept
