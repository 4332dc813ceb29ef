"""The evaluator's own analysis, kept in `parameters/commentaires/<année>/` between batches.

A report is regenerated many times a year; what the evaluator writes about it must
not live in the generated notebook, where the next batch would erase it. So each
report reads its Markdown file (`<slug>.md`, `synthese.md`).

The file's headings are the report's section titles (`template`): what is written
under one is shown in that section of the report, right below its heading, as
« Analyse de l'évaluateur »; what is written under « Analyse générale » (or before any
heading, or under a title the report does not have) right after « À retenir ». The
evaluator's own subheadings are put below the section's heading level, so that the
report's outline lists each section once. The text is the evaluator's, but the report
is sent to partners: raw HTML is shown as text, and images are never fetched.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from avs_eval import layout, paths
from avs_eval.catalog import load_catalog
from avs_eval.config import load_config
from avs_eval.output import write_atomic

SYNTHESIS_NAME = "synthese"
GENERAL = "Analyse générale"  # the file's heading of the part shown after « À retenir »
LABEL = "Analyse de l'évaluateur"
# The report's headings are h2 (sections); the box's own headings start at h4.
FIRST_LEVEL = 4
_HEADING = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_NUMBER = re.compile(r"^\d+\.\s*")


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


def _key(title: str) -> str:
    """A title as compared: no number, no case, single spaces (« 3. Chiffres  clés »)."""
    return " ".join(_NUMBER.sub("", title.strip()).casefold().split())


def parts(text: str, titles: list[str]) -> dict[str, str]:
    """The file cut at its `## ` headings: {section title: Markdown}, GENERAL for the rest.

    `titles` are the report's section titles; a part under another title (a typo, a
    section of the other edition) joins the general part with its title in bold, so
    that nothing the evaluator wrote is lost. Parts with nothing to say are left out.
    """
    known = {_key(t): t for t in titles}
    found: dict[str, list[str]] = {}
    current, lines = GENERAL, []

    def close() -> None:
        if has_content("\n".join(lines)):
            found.setdefault(current, []).append("\n".join(lines))

    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading is None:
            lines.append(line)
            continue
        close()
        title = heading.group(1)
        if _key(title) in known:
            current, lines = known[_key(title)], []
        else:
            current, lines = GENERAL, ([] if _key(title) == _key(GENERAL) else [f"**{title}**", ""])
    close()
    return {title: "\n\n".join(chunks) for title, chunks in found.items()}


def box(markdown: str) -> str:
    """A part of the commentary as the report shows it: a labelled box, safe HTML."""
    return (
        f'<div class="avs-analyse"><p class="avs-analyse-titre"><strong>{html.escape(LABEL)}'
        f"</strong></p>{render(markdown)}</div>"
    )


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

        def heading(self, text: str, level: int, **attrs) -> str:
            # below the report's section heading: never an h1-h3 in the outline
            shown = min(6, max(FIRST_LEVEL, level + 1))
            return f"<h{shown}>{text}</h{shown}>\n"

    lines = [line for line in text.splitlines() if not line.strip().startswith("<!--")]
    markdown = mistune.create_markdown(escape=True, renderer=_NoImages(escape=True))
    return markdown("\n".join(lines))


def template(kind: str, name: str, annee: int) -> str:
    """The starting file: the report's section titles as headings, and how to write."""
    catalog, config = load_catalog(), load_config()
    titles = [GENERAL] + [
        title
        for key, title, _, _ in layout.plan(kind, catalog, config)
        if key not in ("a-retenir", "methode")
    ]
    lines = [
        f"<!-- Analyse de l'évaluateur : {name}, {annee}. Ce texte paraît tel quel dans le "
        "rapport (édition partenaires comprise) : ce qui est écrit sous « Analyse générale » "
        "juste après « À retenir », ce qui est écrit sous le titre d'une section en tête de "
        "cette section. -->",
        "<!-- Écrivez sous les titres utiles, supprimez les autres. Markdown : **gras**, "
        "*italique*, listes « - », sous-titres « ### ». Pas d'image ni de HTML : ils "
        "s'affichent comme du texte. -->",
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
