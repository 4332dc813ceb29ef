"""The `avs-eval` command: French help, French errors, no traceback for the user's mistakes."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from avs_eval import __version__, commands
from avs_eval.errors import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_USAGE,
    AvsEvalError,
    ValidationError,
)
from avs_eval.options import BatchOptions, ReportOptions, default_of

EXIT_CODES_HELP = (
    "Codes de sortie : 0 tout va bien ; 1 données ou paramètres invalides, ou un rapport\n"
    "en échec ; 2 option mal employée ; 3 problème d'environnement (autre lot en cours,\n"
    "dossier non inscriptible, disque plein, fichier ouvert dans un autre programme,\n"
    "aucun navigateur pour --pdf) ; 130 interrompu (Ctrl-C). Si plusieurs s'appliquent,\n"
    "le plus élevé l'emporte."
)

_ARGPARSE_FR = [
    (r"^the following arguments are required: (.*)$", r"arguments obligatoires manquants : \1"),
    (r"^unrecognized arguments: (.*)$", r"arguments non reconnus : \1"),
    (
        r"^argument (\S+): invalid int value: (.*)$",
        r"argument \1 : nombre entier attendu (lu : \2)",
    ),
    (
        r"^argument (\S+): invalid choice: (.*?) \(choose from (.*)\)$",
        r"argument \1 : choix \2 invalide (choix possibles : \3)",
    ),
    (r"^argument (\S+): expected one argument$", r"argument \1 : une valeur est attendue"),
    (
        r"^argument (\S+): expected at least one argument$",
        r"argument \1 : au moins une valeur est attendue",
    ),
    (r"^argument (\S+): not allowed with argument (.*)$", r"argument \1 : incompatible avec \2"),
    (r"^ambiguous option: (.*)$", r"option ambiguë : \1"),
]


class _FrenchFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "utilisation : " if prefix is None else prefix)


class FrenchParser(argparse.ArgumentParser):
    """argparse speaking French: titles, usage line and its own error messages."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _FrenchFormatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def error(self, message: str):
        for pattern, replacement in _ARGPARSE_FR:
            message = re.sub(pattern, replacement, message)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog} : erreur : {message}\n")


# --- the commands and their options, as a table --------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option of a command, as `argparse.add_argument` takes it (None: not given)."""

    flag: str
    help: str
    metavar: str | None = None
    type: Callable[[str], object] | None = None
    default: object = None
    action: str | None = None
    nargs: str | None = None
    choices: tuple[str, ...] | None = None
    required: bool | None = None

    def add_to(self, parser) -> None:
        given = {k: v for k, v in vars(self).items() if v is not None and k != "flag"}
        parser.add_argument(self.flag, **given)


@dataclass(frozen=True)
class Group:
    """Options shown together under a title in the command's help."""

    title: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str
    run: Callable[[argparse.Namespace], int]
    options: tuple[Option | Group, ...]
    epilog: str | None = None


DATA = Group(
    "données (par défaut : l'échantillon fictif intégré, data/exemple/)",
    (
        Option("--structures", "registre des structures (CSV ou XLSX)", "FICHIER"),
        Option("--reponses", "réponses à l'enquête (CSV ou XLSX)", "FICHIER"),
        Option(
            "--classeur",
            "classeur XLSX contenant les feuilles « structures » et « reponses »",
            "FICHIER",
        ),
    ),
)
MIN_EFFECTIF = Option(
    "--min-effectif",
    "seuil du secret statistique (par défaut : celui de parameters/config.yaml)",
    "N",
    int,
)
FORMAT = Option(
    "--format",
    "forme du CSV : machine (UTF-8, séparateur « , », point décimal, True/False : pour les "
    "programmes) ou excel (celle des tables publiées, qui s'ouvre dans Excel en français : "
    "séparateur « ; », virgule décimale, libellés, oui/non) ; défaut : %(default)s",
    choices=("machine", "excel"),
    default="machine",
)
MODELE_WORD = Option(
    "--modele-word",
    "modèle Word de l'institution (.docx : styles, en-tête, pied de page, logo) pour les "
    "fichiers de --docx (par défaut : modele_word de parameters/config.yaml, sinon le "
    "modèle sobre fourni)",
    "FICHIER",
)
OUTPUT_FOLDER = Option(  # of the year's batch and of the bilan: the same folder
    "--sortie",
    "dossier de sortie (défaut : %(default)s)",
    "DOSSIER",
    default=default_of(BatchOptions, "sortie"),
)
TERRITORY = Option(
    "--territoire",
    "un territoire : ses lignes, celles de sa collectivité et de l'ensemble",
    "TERRITOIRE",
)

COMMANDS = (
    Command(
        "valider",
        "vérifier les fichiers de données",
        "Vérifie les fichiers de données et affiche un résumé, ou les erreurs : les "
        "50 premières en entier, puis le nombre d'erreurs par règle. --erreurs écrit "
        "toutes les erreurs (ou, s'il n'y en a aucune, tous les avertissements) dans "
        "un fichier CSV.",
        commands.cmd_valider,
        (
            Option(
                "--erreurs",
                "écrire toutes les erreurs, une ligne chacune (fichier, ligne, colonne, valeur, "
                "message), dans ce fichier CSV (UTF-8, séparateur « ; », lisible par Excel) ; "
                "sans erreur, il reçoit les avertissements",
                "FICHIER",
            ),
            DATA,
        ),
    ),
    Command(
        "indicateurs",
        "calculer la table des indicateurs (CSV ou Excel)",
        "Calcule les indicateurs par territoire, collectivité et pour l'ensemble, avec "
        "leur intervalle de confiance à 95 % (Wilson) et le drapeau de secret statistique.",
        commands.cmd_indicateurs,
        (
            Option("--annee", "une année (par défaut : toutes les années)", "ANNEE", int),
            TERRITORY,
            MIN_EFFECTIF,
            Option(
                "--sortie",
                "fichier à écrire : CSV, ou classeur Excel mis en forme s'il finit par .xlsx "
                "(par défaut : CSV sur la sortie standard)",
                "FICHIER",
            ),
            FORMAT,
            DATA,
        ),
    ),
    Command(
        "commentaires",
        "créer les fichiers de commentaire de l'évaluateur (sans jamais en écraser)",
        "Crée, pour l'année, un fichier parameters/commentaires/<année>/<territoire>.md par "
        "territoire des données et synthese.md, à partir d'un modèle (les titres des "
        "sections du rapport). Un fichier existant n'est jamais modifié. Le texte écrit "
        "dans ces fichiers paraît dans la section « Analyse de l'évaluateur » des rapports.",
        commands.cmd_commentaires,
        (
            Option(
                "--annee",
                "l'année des rapports (par défaut : la dernière année avec des réponses)",
                "ANNEE",
                int,
            ),
            Option(
                "--bilan",
                "créer plutôt parameters/commentaires/bilan.md, les conclusions et "
                "recommandations du bilan du schéma (avs-eval bilan)",
                action="store_true",
            ),
            DATA,
        ),
    ),
    Command(
        "suivi",
        "créer le fichier de suivi des actions d'une année (sans jamais en écraser)",
        "Crée parameters/suivi/<année>.yaml, le suivi des actions de la fiche pour l'année : "
        "une entrée par action ouverte cette année-là, avec l'état et les jalons non "
        "réalisés repris du fichier de l'année précédente, à mettre à jour. Un fichier "
        "existant n'est jamais modifié. Les rapports (section « Mise en œuvre des "
        "actions »), suivi_actions.csv et le bilan le lisent.",
        commands.cmd_suivi,
        (
            Option(
                "--annee",
                "l'année à suivre (par défaut : l'année en cours, dans la période du schéma)",
                "ANNEE",
                int,
            ),
        ),
    ),
    Command(
        "evolutions",
        "évolutions depuis l'année de référence, testées sur les mêmes structures (CSV)",
        "Pour chaque périmètre et chaque indicateur oui/non : la part de l'année et celle de "
        "l'année de référence (par défaut, la première année où la question est posée), et "
        "l'évolution mesurée sur les structures ayant répondu les deux années, avec le test "
        "exact de McNemar. Table interne : les chiffres sous le secret y figurent avec "
        "secret=True.",
        commands.cmd_evolutions,
        (
            Option(
                "--annee",
                "l'année comparée (par défaut : la dernière année avec des réponses)",
                "ANNEE",
                int,
            ),
            Option(
                "--reference",
                "l'année de référence, avant --annee (par défaut : la première année de chaque "
                "question)",
                "ANNEE",
                int,
            ),
            TERRITORY,
            MIN_EFFECTIF,
            Option("--sortie", "fichier CSV à écrire (par défaut : sortie standard)", "FICHIER"),
            FORMAT,
            DATA,
        ),
    ),
    Command(
        "modele",
        "écrire le modèle Excel de saisie des données",
        "Écrit un classeur Excel vide au format des données (feuilles « structures » et "
        "« reponses », listes déroulantes, feuille « listes » des codes, instructions). "
        "Rempli, il se lit tel quel avec --classeur.",
        commands.cmd_modele,
        (Option("--sortie", "classeur .xlsx à écrire", "FICHIER", required=True),),
    ),
    Command(
        "questionnaire",
        "écrire le questionnaire (XLSForm ou document Markdown)",
        "Écrit le questionnaire de l'enquête : un formulaire XLSForm (KoboToolbox, ODK…) "
        "dont les questions portent les noms des colonnes du fichier de réponses, ou un "
        "document Markdown lisible.",
        commands.cmd_questionnaire,
        (
            Option(
                "--format",
                "xlsform (classeur .xlsx) ou markdown (document .md)",
                choices=("xlsform", "markdown"),
                required=True,
            ),
            Option(
                "--structures",
                "registre des structures (CSV ou XLSX) : la structure se choisit alors dans une "
                "liste (par défaut : identifiant saisi)",
                "FICHIER",
            ),
            Option("--sortie", "fichier à écrire", "FICHIER", required=True),
        ),
    ),
    Command(
        "importer",
        "convertir l'export d'un outil d'enquête en fichier de réponses",
        "Convertit l'export d'un outil d'enquête en fichier de réponses du contrat, vérifié "
        "comme toute donnée. --source kobo : export KoboToolbox ou ODK (XLSX ou CSV) du "
        "formulaire écrit par « avs-eval questionnaire --format xlsform », en « valeurs et "
        "en-têtes XML ». --source correspondance : tout autre export (Google Forms, "
        "LimeSurvey, tableur), avec un fichier YAML de correspondance des en-têtes et des "
        "libellés (celui de Google Forms : parameters/correspondances/google_forms.yaml). "
        "Si une structure a répondu plusieurs fois pour une année, la soumission la plus "
        "récente est gardée et les autres sont signalées. Rien n'est écrit en cas d'erreur.",
        commands.cmd_importer,
        (
            Option("--source", "type d'export", choices=("kobo", "correspondance"), required=True),
            Option("--fichier", "export à convertir (CSV ou XLSX)", "FICHIER", required=True),
            Option(
                "--correspondance",
                "fichier YAML de correspondance (obligatoire avec --source correspondance)",
                "FICHIER",
            ),
            Option("--sortie", "fichier de réponses .csv à écrire", "FICHIER", required=True),
            Option(
                "--structures",
                "registre des structures (CSV ou XLSX) contre lequel vérifier les identifiants ; "
                "une structure choisie par son libellé « nom — commune » y est retrouvée (par "
                "défaut : le registre de l'échantillon fictif)",
                "FICHIER",
            ),
        ),
    ),
    Command(
        "rapports",
        "produire les rapports HTML d'une année (un par territoire, plus la synthèse)",
        "Exécute le notebook de rapport pour chaque territoire et la synthèse, puis écrit "
        "SORTIE/ANNEE/<territoire>/rapport.html, indicateurs.csv, synthese.html, index.html "
        "et manifest.json. Seuls les rapports dont quelque chose a changé depuis le lot "
        "précédent sont refaits (données, notebooks, code, parameters/, options, ou leur "
        "commentaire) ; les autres sont repris tels quels, et manifest.json dit lesquels "
        "et pourquoi. Avec --territoire, ces territoires et la synthèse sont refaits et "
        "les autres rapports de l'année gardés. Les rapports précédents ne sont remplacés "
        "qu'à la fin, d'un bloc ; un lot interrompu (panne, arrêt forcé) est réparé par le "
        "lot suivant. Le journal du lot est écrit dans SORTIE/journaux/.",
        commands.cmd_rapports,
        (
            Option("--annee", "par défaut : la dernière année avec réponses", "ANNEE", int),
            Option(
                "--territoire",
                "refaire ces territoires (et la synthèse) seulement ; les autres rapports de "
                "l'année sont gardés tels quels (par défaut : tous les territoires)",
                "TERRITOIRE",
                nargs="+",
            ),
            Option(
                "--tout",
                "tout refaire, même les rapports dont rien n'a changé depuis le lot précédent",
                action="store_true",
            ),
            Option(
                "--jobs",
                "notebooks exécutés en parallèle (défaut : le nombre de cœurs, au plus le nombre "
                "de rapports à produire)",
                "N",
                int,
            ),
            OUTPUT_FOLDER,
            MIN_EFFECTIF,
            Option("--verbatims", "reproduire les réponses en texte libre", action="store_true"),
            Group(
                "cartes",
                (
                    Option(
                        "--fond-de-carte",
                        "communes (GeoJSON, GeoPackage ou Shapefile) ; par défaut celles du "
                        "Rhône fournies (data/fond_de_carte/communes-69.geojson)",
                        "FICHIER",
                    ),
                    Option(
                        "--champ-insee",
                        "propriété du fond de carte qui porte le code INSEE (défaut : %(default)s)",
                        "CHAMP",
                        default=default_of(ReportOptions, "champ_insee"),
                    ),
                    Option(
                        "--communes-territoires",
                        "table code_insee,territoire (CSV ou XLSX) pour dessiner des territoires "
                        "entiers ; sans elle, un territoire est l'ensemble des communes de ses "
                        "structures",
                        "FICHIER",
                    ),
                ),
            ),
            Group(
                "PDF et Word",
                (
                    Option(
                        "--pdf",
                        "imprimer aussi chaque rapport en PDF (rapport.pdf, synthese.pdf, et "
                        "leurs copies à envoyer dans envoi/), avec Chromium, Google Chrome ou "
                        "Microsoft Edge ; sans navigateur, les rapports HTML sont publiés et le "
                        "code de sortie est 3",
                        action="store_true",
                    ),
                    Option(
                        "--navigateur",
                        "navigateur qui imprime les PDF (par défaut : Chromium, Google Chrome ou "
                        "Microsoft Edge, cherché aux emplacements habituels)",
                        "CHEMIN",
                    ),
                    Option(
                        "--docx",
                        "écrire aussi chaque rapport en Word, à compléter et à mettre au modèle "
                        "de l'institution (rapport.docx, synthese.docx, et leurs copies à "
                        "envoyer dans envoi/) ; se combine avec --pdf",
                        action="store_true",
                    ),
                    MODELE_WORD,
                ),
            ),
            Option(
                "--interne",
                "édition interne, à ne pas diffuser (structures sans réponse nommées, "
                "provenance, qualité des données, tables complètes), écrite dans "
                "SORTIE/ANNEE-interne/ et jamais dans SORTIE/ANNEE/",
                action="store_true",
            ),
            Option(
                "--noyau-neuf",
                "un noyau Python neuf par notebook (plus lent ; par défaut, noyaux réutilisés)",
                action="store_true",
            ),
            Option(
                "--delai",
                "durée maximale d'un notebook avant arrêt (défaut : %(default)s)",
                "SECONDES",
                int,
                default=default_of(BatchOptions, "delai"),
            ),
            Option(
                "--modele",
                "notebook de rapport de territoire à utiliser à la place de "
                "notebooks/rapport_territoire.ipynb (version adaptée par l'évaluateur)",
                "NOTEBOOK",
            ),
            Option(
                "--journal",
                "journal du lot (défaut : SORTIE/journaux/ANNEE-DATE-HEURE.txt, hors des "
                "rapports publiés)",
                "FICHIER",
            ),
            DATA,
        ),
        epilog=EXIT_CODES_HELP,
    ),
    Command(
        "bilan",
        "produire le bilan du schéma sur plusieurs années (HTML, PDF, tables)",
        "Exécute le notebook notebooks/bilan.ipynb sur la période et publie "
        "SORTIE/bilan-DEBUT-FIN/ : bilan.html, bilan.ipynb, bilan.pdf (avec --pdf ; "
        "bilan-interne.pdf avec --interne), "
        "trajectoires.csv, evolutions.csv, suivi_actions.csv, bilan.xlsx, index.html et "
        "manifest.json. Le titre dit « Bilan intermédiaire » tant que FIN précède la dernière "
        "année du schéma. Comme pour une année, le dossier n'est remplacé qu'à la fin, d'un "
        "bloc ; le bilan n'est refait que si quelque chose dont il dépend a changé (données, "
        "notebook, code, parameters/ dont le suivi des actions, options, ou "
        "parameters/commentaires/bilan.md). Le journal est écrit dans SORTIE/journaux/.",
        commands.cmd_bilan,
        (
            Option(
                "--debut",
                "première année du bilan (par défaut : le début de la période de "
                "parameters/config.yaml, ou la première année avec des réponses)",
                "ANNEE",
                int,
            ),
            Option(
                "--fin",
                "dernière année du bilan (par défaut : la fin de la période de "
                "parameters/config.yaml, ou la dernière année avec des réponses)",
                "ANNEE",
                int,
            ),
            OUTPUT_FOLDER,
            MIN_EFFECTIF,
            Option(
                "--interne",
                "édition interne, à ne pas diffuser (tables complètes, provenance), écrite dans "
                "SORTIE/bilan-DEBUT-FIN-interne/ et jamais dans SORTIE/bilan-DEBUT-FIN/",
                action="store_true",
            ),
            Option(
                "--tout",
                "refaire le bilan même si rien de ce dont il dépend n'a changé",
                action="store_true",
            ),
            Group(
                "PDF",
                (
                    Option(
                        "--pdf",
                        "imprimer aussi le bilan en PDF (bilan.pdf) avec Chromium, Google "
                        "Chrome ou Microsoft Edge ; sans navigateur, le bilan HTML est publié "
                        "et le code de sortie est 3",
                        action="store_true",
                    ),
                    Option(
                        "--navigateur",
                        "navigateur qui imprime le PDF (par défaut : Chromium, Google Chrome ou "
                        "Microsoft Edge, cherché aux emplacements habituels)",
                        "CHEMIN",
                    ),
                    Option(
                        "--docx",
                        "écrire aussi le bilan en Word (bilan.docx), à compléter et à mettre au "
                        "modèle de l'institution ; se combine avec --pdf",
                        action="store_true",
                    ),
                    MODELE_WORD,
                ),
            ),
            Option(
                "--delai",
                "durée maximale du notebook avant arrêt (défaut : %(default)s)",
                "SECONDES",
                int,
                default=default_of(BatchOptions, "delai"),
            ),
            Option(
                "--journal",
                "journal (défaut : SORTIE/journaux/bilan-DEBUT-FIN-DATE-HEURE.txt)",
                "FICHIER",
            ),
            DATA,
        ),
        epilog=EXIT_CODES_HELP,
    ),
    Command(
        "lab",
        "ouvrir JupyterLab sur les notebooks de l'évaluation",
        "Ouvre JupyterLab, en français, sur le dossier notebooks/ du projet et sa page "
        "d'accueil (LISEZMOI.md, qui dit quel notebook fait quoi), comme « make lab ». "
        "La configuration de Jupyter reste dans le projet (.jupyter/), rien n'est écrit "
        "dans votre dossier personnel. Arrêt : Ctrl-C dans ce terminal.",
        commands.cmd_lab,
        (
            Option(
                "options_jupyterlab",
                "options transmises à JupyterLab, après « -- » (ex. : avs-eval lab -- "
                "--port=8890 --no-browser)",
                "OPTION",
                nargs="*",
            ),
        ),
    ),
)


def build_parser() -> FrenchParser:
    """The `avs-eval` parser, built from the table of commands above."""
    parser = FrenchParser(
        prog="avs-eval",
        description=(
            "Évaluation de la fiche action PA 3.1.2 du schéma de l'animation de la vie sociale "
            "(Caf du Rhône, Métropole de Lyon, Département du Rhône)."
        ),
        epilog="Aide d'une commande : avs-eval COMMANDE --help\n\n" + EXIT_CODES_HELP,
    )
    parser.add_argument(
        "--version", action="version", version=f"avs-eval {__version__}", help="afficher la version"
    )
    commands = parser.add_subparsers(
        title="commandes", dest="commande", metavar="COMMANDE", parser_class=FrenchParser
    )
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=command.description,
            epilog=command.epilog,
        )
        for entry in command.options:
            if isinstance(entry, Group):
                group = sub.add_argument_group(entry.title)
                for option in entry.options:
                    option.add_to(group)
            else:
                entry.add_to(sub)
        sub.set_defaults(func=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except ValidationError as invalid:
        print(invalid.report(), file=sys.stderr)
        commands.print_warnings(invalid.warnings)
        return EXIT_INVALID
    except AvsEvalError as error:
        print(f"avs-eval : erreur : {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("\navs-eval : interrompu.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
