"""The `avs-eval` command: French help, French errors, no traceback for the user's mistakes."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from avs_eval import __version__
from avs_eval.errors import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_USAGE,
    AvsEvalError,
    UsageError,
    ValidationError,
)

EXIT_INVALID_DATA = EXIT_INVALID
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


def _data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "données (par défaut : l'échantillon fictif intégré, data/exemple/)"
    )
    group.add_argument(
        "--structures", metavar="FICHIER", help="registre des structures (CSV ou XLSX)"
    )
    group.add_argument("--reponses", metavar="FICHIER", help="réponses à l'enquête (CSV ou XLSX)")
    group.add_argument(
        "--classeur",
        metavar="FICHIER",
        help="classeur XLSX contenant les feuilles « structures » et « reponses »",
    )


def _min_effectif_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min-effectif",
        type=int,
        metavar="N",
        help="seuil du secret statistique (par défaut : celui de parameters/config.yaml)",
    )


def _territory_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--territoire",
        metavar="TERRITOIRE",
        help="un territoire : ses lignes, celles de sa collectivité et de l'ensemble",
    )


def _write_csv(content: str, rows: int, sortie: str | None) -> None:
    """A table to `sortie` (atomically, said on stderr), or to the standard output."""
    from avs_eval.output import write_atomic

    if sortie:
        write_atomic(Path(_from_cwd(sortie)), content)
        print(f"{rows} lignes écrites dans {sortie}", file=sys.stderr)
    else:
        sys.stdout.write(content)


def _from_cwd(path: str | None) -> str | None:
    """On the command line a relative path means the current folder, as in any shell tool."""
    return str(Path(path).absolute()) if path else None


def _load(args):
    from avs_eval.loading import DataSource, load

    files = (_from_cwd(args.structures), _from_cwd(args.reponses), _from_cwd(args.classeur))
    return load(DataSource.from_options(*files))


def _print_warnings(dataset_warnings, stream=sys.stderr) -> None:
    if not dataset_warnings:
        return
    count = len(dataset_warnings)
    print(f"{count} avertissement{'s' if count > 1 else ''} (données acceptées) :", file=stream)
    for warning in dataset_warnings:
        print(f"  - {warning}", file=stream)


def cmd_valider(args) -> int:
    from avs_eval.errors import EnvironmentProblem, findings_csv, listing
    from avs_eval.output import write_atomic

    target = Path(args.erreurs).absolute() if args.erreurs else None

    def write(findings) -> None:
        try:
            write_atomic(target, findings_csv(findings))
        except OSError as exc:
            raise EnvironmentProblem(
                f"impossible d'écrire {args.erreurs} ({exc.strerror}) : choisissez un "
                "dossier où vous pouvez écrire, ou fermez le fichier s'il est ouvert"
            ) from None

    try:
        dataset = _load(args)
    except ValidationError as invalid:
        print(invalid.report(), file=sys.stderr)
        if invalid.warnings:
            count = len(invalid.warnings)
            print(f"{count} avertissement{'s' if count > 1 else ''} :", file=sys.stderr)
            print("\n".join(listing(invalid.warnings, "avertissement")), file=sys.stderr)
        if target:  # every error: what the evaluator works through
            write(invalid.errors)
            print(f"toutes les erreurs sont écrites dans {args.erreurs}", file=sys.stderr)
        return EXIT_INVALID_DATA
    print(dataset.summary())
    if dataset.warnings:
        count = len(dataset.warnings)
        print(f"{count} avertissement{'s' if count > 1 else ''} (données acceptées) :")
        print("\n".join(listing(dataset.warnings, "avertissement")))
    if target:
        write(dataset.warnings)
        print(f"aucune erreur ; les avertissements sont écrits dans {args.erreurs}")
    return 0


def cmd_evolutions(args) -> int:
    from avs_eval import evolutions

    dataset = _load(args)
    _print_warnings(dataset.warnings)
    table = evolutions.compute(
        dataset,
        annee=args.annee,
        reference=args.reference,
        territoire=args.territoire,
        min_effectif=args.min_effectif,
    )
    _write_csv(evolutions.to_csv(table), len(table), args.sortie)
    return 0


def cmd_commentaires(args) -> int:
    from avs_eval import commentaires, paths
    from avs_eval.context import slug

    dataset = _load(args)
    year = dataset.check_year(args.annee)
    created, kept = commentaires.create_missing(
        year, {name: slug(name) for name in dataset.territories}
    )
    folder = paths.display_path(commentaires.folder(year))
    print(
        f"{len(created)} fichier(s) de commentaire créé(s), {len(kept)} déjà présent(s) et "
        f"laissé(s) tels quels, dans {folder}/"
    )
    for path in created:
        print(f"  + {path.name}")
    print(
        "Écrivez votre analyse sous les titres utiles : elle paraîtra dans la section "
        "« Analyse de l'évaluateur » des rapports de la prochaine production."
    )
    return 0


def cmd_indicateurs(args) -> int:
    from avs_eval import indicators

    dataset = _load(args)
    _print_warnings(dataset.warnings)
    table = indicators.compute(
        dataset,
        annees=[args.annee] if args.annee is not None else None,
        min_effectif=args.min_effectif,
        territoire=args.territoire,
    )
    if args.sortie and _is_xlsx(args.sortie):
        from avs_eval.excel import write_indicators

        threshold = dataset.config.min_effectif if args.min_effectif is None else args.min_effectif
        write_indicators(Path(args.sortie), table, threshold)
        print(f"{len(table)} lignes écrites dans {args.sortie}", file=sys.stderr)
    else:
        _write_csv(indicators.to_csv(table), len(table), args.sortie)
    return 0


def _is_xlsx(path: str) -> bool:
    return Path(path).suffix.lower() == ".xlsx"


def cmd_modele(args) -> int:
    from avs_eval.excel import write_template

    if not _is_xlsx(args.sortie):
        raise UsageError(
            f"le modèle est un classeur Excel : --sortie doit finir par .xlsx (lu : {args.sortie})"
        )
    write_template(Path(_from_cwd(args.sortie)))
    print(f"modèle de saisie écrit dans {args.sortie}", file=sys.stderr)
    return 0


def cmd_questionnaire(args) -> int:
    from avs_eval import questionnaire
    from avs_eval.config import load_config
    from avs_eval.loading import load_structures
    from avs_eval.output import write_atomic

    if args.format == "xlsform" and not _is_xlsx(args.sortie):
        raise UsageError(
            f"un XLSForm est un classeur Excel : --sortie doit finir par .xlsx (lu : {args.sortie})"
        )
    structures = load_structures(_from_cwd(args.structures)) if args.structures else None
    config = load_config()
    if args.format == "xlsform":
        content = questionnaire.xlsform(config, structures)
    else:
        content = questionnaire.markdown(config, structures)
    write_atomic(Path(_from_cwd(args.sortie)), content)
    print(f"questionnaire ({args.format}) écrit dans {args.sortie}", file=sys.stderr)
    return 0


def cmd_importer(args) -> int:
    from avs_eval import paths
    from avs_eval.importer import import_export
    from avs_eval.loading import load_structures
    from avs_eval.output import write_atomic

    if args.source == "correspondance" and not args.correspondance:
        raise UsageError(
            "--source correspondance demande --correspondance FICHIER.yaml (exemple : "
            "parameters/correspondances/google_forms.yaml)"
        )
    if args.source == "kobo" and args.correspondance:
        raise UsageError("--correspondance ne sert qu'avec --source correspondance")
    if Path(args.sortie).suffix.lower() != ".csv":
        raise UsageError(f"--sortie doit être un fichier .csv (lu : {args.sortie})")
    # Like every command, the sample's register by default: the import is checked against a
    # register either way, and the messages say which one.
    register = _from_cwd(args.structures) or str(paths.SAMPLE_STRUCTURES)
    hint = (
        ""
        if args.structures
        else "registre utilisé : celui de l'échantillon fictif (data/exemple/structures.csv) ; "
        "indiquez le vôtre avec --structures FICHIER"
    )
    try:
        result = import_export(
            args.source,
            _from_cwd(args.fichier),
            mapping=_from_cwd(args.correspondance),
            structures=load_structures(register),
        )
    except ValidationError as invalid:
        print(invalid.report(), file=sys.stderr)
        _print_warnings(invalid.warnings)
        if hint:
            print(hint, file=sys.stderr)
        return EXIT_INVALID_DATA
    _print_warnings(result.warnings)
    write_atomic(Path(_from_cwd(args.sortie)), result.csv())
    print(result.summary(), file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)
    print(f"réponses écrites dans {args.sortie}", file=sys.stderr)
    return 0


def cmd_rapports(args) -> int:
    from avs_eval.batch import exit_code, run_batch, summary
    from avs_eval.publication import PublicationBlocked

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs doit être au moins 1 (lu : {args.jobs})")
    try:
        result = run_batch(
            annee=args.annee,
            territoires=args.territoire,
            jobs=args.jobs,
            structures=_from_cwd(args.structures),
            reponses=_from_cwd(args.reponses),
            classeur=_from_cwd(args.classeur),
            sortie=_from_cwd(args.sortie),
            min_effectif=args.min_effectif,
            verbatims=args.verbatims,
            interne=args.interne,
            fond_de_carte=_from_cwd(args.fond_de_carte) or "",
            champ_insee=args.champ_insee,
            communes_territoires=_from_cwd(args.communes_territoires) or "",
            pdf=args.pdf,
            navigateur=args.navigateur,  # a path, or a command found on PATH
            fresh_kernel=args.noyau_neuf,
            timeout=args.delai,
            territory_notebook=_from_cwd(args.modele),
            journal=_from_cwd(args.journal),
            tout=args.tout,
        )
    except PublicationBlocked as blocked:  # the reports are made but not published
        if blocked.result is not None:
            print(summary(blocked.result))
        print(f"avs-eval : erreur : {blocked}", file=sys.stderr)
        return max(blocked.exit_code, exit_code(blocked.result) if blocked.result else 0)
    print(summary(result))
    return exit_code(result)


def build_parser() -> FrenchParser:
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

    valider = commands.add_parser(
        "valider",
        help="vérifier les fichiers de données",
        description=(
            "Vérifie les fichiers de données et affiche un résumé, ou les erreurs : les "
            "50 premières en entier, puis le nombre d'erreurs par règle. --erreurs écrit "
            "toutes les erreurs (ou, s'il n'y en a aucune, tous les avertissements) dans "
            "un fichier CSV."
        ),
    )
    valider.add_argument(
        "--erreurs",
        metavar="FICHIER",
        help=(
            "écrire toutes les erreurs, une ligne chacune (fichier, ligne, colonne, valeur, "
            "message), dans ce fichier CSV (UTF-8, séparateur « ; », lisible par Excel) ; "
            "sans erreur, il reçoit les avertissements"
        ),
    )
    _data_options(valider)
    valider.set_defaults(func=cmd_valider)

    indicateurs = commands.add_parser(
        "indicateurs",
        help="calculer la table des indicateurs (CSV ou Excel)",
        description=(
            "Calcule les indicateurs par territoire, collectivité et pour l'ensemble, avec "
            "leur intervalle de confiance à 95 % (Wilson) et le drapeau de secret statistique."
        ),
    )
    indicateurs.add_argument(
        "--annee", type=int, metavar="ANNEE", help="une année (par défaut : toutes les années)"
    )
    _territory_option(indicateurs)
    _min_effectif_option(indicateurs)
    indicateurs.add_argument(
        "--sortie",
        metavar="FICHIER",
        help="fichier à écrire : CSV, ou classeur Excel mis en forme s'il finit par .xlsx "
        "(par défaut : CSV sur la sortie standard)",
    )
    _data_options(indicateurs)
    indicateurs.set_defaults(func=cmd_indicateurs)

    commentaires = commands.add_parser(
        "commentaires",
        help="créer les fichiers de commentaire de l'évaluateur (sans jamais en écraser)",
        description=(
            "Crée, pour l'année, un fichier parameters/commentaires/<année>/<territoire>.md par "
            "territoire des données et synthese.md, à partir d'un modèle (les titres des "
            "sections du rapport). Un fichier existant n'est jamais modifié. Le texte écrit "
            "dans ces fichiers paraît dans la section « Analyse de l'évaluateur » des rapports."
        ),
    )
    commentaires.add_argument(
        "--annee",
        type=int,
        metavar="ANNEE",
        help="l'année des rapports (par défaut : la dernière année avec des réponses)",
    )
    _data_options(commentaires)
    commentaires.set_defaults(func=cmd_commentaires)

    evolutions = commands.add_parser(
        "evolutions",
        help="évolutions depuis l'année de référence, testées sur les mêmes structures (CSV)",
        description=(
            "Pour chaque périmètre et chaque indicateur oui/non : la part de l'année et celle de "
            "l'année de référence (par défaut, la première année où la question est posée), et "
            "l'évolution mesurée sur les structures ayant répondu les deux années, avec le test "
            "exact de McNemar. Table interne : les chiffres sous le secret y figurent avec "
            "secret=True."
        ),
    )
    evolutions.add_argument(
        "--annee",
        type=int,
        metavar="ANNEE",
        help="l'année comparée (par défaut : la dernière année avec des réponses)",
    )
    evolutions.add_argument(
        "--reference",
        type=int,
        metavar="ANNEE",
        help="l'année de référence, avant --annee (par défaut : la première année de chaque "
        "question)",
    )
    _territory_option(evolutions)
    _min_effectif_option(evolutions)
    evolutions.add_argument(
        "--sortie", metavar="FICHIER", help="fichier CSV à écrire (par défaut : sortie standard)"
    )
    _data_options(evolutions)
    evolutions.set_defaults(func=cmd_evolutions)

    modele = commands.add_parser(
        "modele",
        help="écrire le modèle Excel de saisie des données",
        description=(
            "Écrit un classeur Excel vide au format des données (feuilles « structures » et "
            "« reponses », listes déroulantes, feuille « listes » des codes, instructions). "
            "Rempli, il se lit tel quel avec --classeur."
        ),
    )
    modele.add_argument(
        "--sortie", required=True, metavar="FICHIER", help="classeur .xlsx à écrire"
    )
    modele.set_defaults(func=cmd_modele)

    questionnaire = commands.add_parser(
        "questionnaire",
        help="écrire le questionnaire (XLSForm ou document Markdown)",
        description=(
            "Écrit le questionnaire de l'enquête : un formulaire XLSForm (KoboToolbox, ODK…) "
            "dont les questions portent les noms des colonnes du fichier de réponses, ou un "
            "document Markdown lisible."
        ),
    )
    questionnaire.add_argument(
        "--format",
        required=True,
        choices=("xlsform", "markdown"),
        help="xlsform (classeur .xlsx) ou markdown (document .md)",
    )
    questionnaire.add_argument(
        "--structures",
        metavar="FICHIER",
        help="registre des structures (CSV ou XLSX) : la structure se choisit alors dans une "
        "liste (par défaut : identifiant saisi)",
    )
    questionnaire.add_argument(
        "--sortie", required=True, metavar="FICHIER", help="fichier à écrire"
    )
    questionnaire.set_defaults(func=cmd_questionnaire)

    importer = commands.add_parser(
        "importer",
        help="convertir l'export d'un outil d'enquête en fichier de réponses",
        description=(
            "Convertit l'export d'un outil d'enquête en fichier de réponses du contrat, vérifié "
            "comme toute donnée. --source kobo : export KoboToolbox ou ODK (XLSX ou CSV) du "
            "formulaire écrit par « avs-eval questionnaire --format xlsform », en « valeurs et "
            "en-têtes XML ». --source correspondance : tout autre export (Google Forms, "
            "LimeSurvey, tableur), avec un fichier YAML de correspondance des en-têtes et des "
            "libellés (celui de Google Forms : parameters/correspondances/google_forms.yaml). "
            "Si une structure a répondu plusieurs fois pour une année, la soumission la plus "
            "récente est gardée et les autres sont signalées. Rien n'est écrit en cas d'erreur."
        ),
    )
    importer.add_argument(
        "--source", required=True, choices=("kobo", "correspondance"), help="type d'export"
    )
    importer.add_argument(
        "--fichier", required=True, metavar="FICHIER", help="export à convertir (CSV ou XLSX)"
    )
    importer.add_argument(
        "--correspondance",
        metavar="FICHIER",
        help="fichier YAML de correspondance (obligatoire avec --source correspondance)",
    )
    importer.add_argument(
        "--sortie", required=True, metavar="FICHIER", help="fichier de réponses .csv à écrire"
    )
    importer.add_argument(
        "--structures",
        metavar="FICHIER",
        help="registre des structures (CSV ou XLSX) contre lequel vérifier les identifiants ; "
        "une structure choisie par son libellé « nom — commune » y est retrouvée (par défaut : "
        "le registre de l'échantillon fictif)",
    )
    importer.set_defaults(func=cmd_importer)

    rapports = commands.add_parser(
        "rapports",
        help="produire les rapports HTML d'une année (un par territoire, plus la synthèse)",
        description=(
            "Exécute le notebook de rapport pour chaque territoire et la synthèse, puis écrit "
            "SORTIE/ANNEE/<territoire>/rapport.html, indicateurs.csv, synthese.html, index.html "
            "et manifest.json. Seuls les rapports dont quelque chose a changé depuis le lot "
            "précédent sont refaits (données, notebooks, code, parameters/, options, ou leur "
            "commentaire) ; les autres sont repris tels quels, et manifest.json dit lesquels "
            "et pourquoi. Avec --territoire, ces territoires et la synthèse sont refaits et "
            "les autres rapports de l'année gardés. Les rapports précédents ne sont remplacés "
            "qu'à la fin, d'un bloc ; un lot interrompu (panne, arrêt forcé) est réparé par le "
            "lot suivant. Le journal du lot est écrit dans SORTIE/journaux/."
        ),
        epilog=EXIT_CODES_HELP,
    )
    rapports.add_argument(
        "--annee", type=int, metavar="ANNEE", help="par défaut : la dernière année avec réponses"
    )
    rapports.add_argument(
        "--territoire",
        nargs="+",
        metavar="TERRITOIRE",
        help="refaire ces territoires (et la synthèse) seulement ; les autres rapports de "
        "l'année sont gardés tels quels (par défaut : tous les territoires)",
    )
    rapports.add_argument(
        "--tout",
        action="store_true",
        help="tout refaire, même les rapports dont rien n'a changé depuis le lot précédent",
    )
    rapports.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="notebooks exécutés en parallèle (défaut : le nombre de cœurs, au plus le nombre "
        "de rapports à produire)",
    )
    rapports.add_argument(
        "--sortie",
        default="outputs",
        metavar="DOSSIER",
        help="dossier de sortie (défaut : outputs)",
    )
    _min_effectif_option(rapports)
    rapports.add_argument(
        "--verbatims", action="store_true", help="reproduire les réponses en texte libre"
    )
    cartes = rapports.add_argument_group("cartes")
    cartes.add_argument(
        "--fond-de-carte",
        metavar="FICHIER",
        help="communes (GeoJSON, GeoPackage ou Shapefile) ; par défaut celles du Rhône fournies "
        "(data/fond_de_carte/communes-69.geojson)",
    )
    cartes.add_argument(
        "--champ-insee",
        default="code",
        metavar="CHAMP",
        help="propriété du fond de carte qui porte le code INSEE (défaut : code)",
    )
    cartes.add_argument(
        "--communes-territoires",
        metavar="FICHIER",
        help="table code_insee,territoire (CSV ou XLSX) pour dessiner des territoires entiers ; "
        "sans elle, un territoire est l'ensemble des communes de ses structures",
    )
    impression = rapports.add_argument_group("PDF")
    impression.add_argument(
        "--pdf",
        action="store_true",
        help="imprimer aussi chaque rapport en PDF (rapport.pdf, synthese.pdf, et leurs copies "
        "à envoyer dans envoi/), avec Chromium, Google Chrome ou Microsoft Edge ; sans "
        "navigateur, les rapports HTML sont publiés et le code de sortie est 3",
    )
    impression.add_argument(
        "--navigateur",
        metavar="CHEMIN",
        help="navigateur qui imprime les PDF (par défaut : Chromium, Google Chrome ou Microsoft "
        "Edge, cherché aux emplacements habituels)",
    )
    rapports.add_argument(
        "--interne",
        action="store_true",
        help="édition interne, à ne pas diffuser (structures sans réponse nommées, provenance, "
        "qualité des données, tables complètes), écrite dans SORTIE/ANNEE-interne/ et jamais "
        "dans SORTIE/ANNEE/",
    )
    rapports.add_argument(
        "--noyau-neuf",
        action="store_true",
        help="un noyau Python neuf par notebook (plus lent ; par défaut, noyaux réutilisés)",
    )
    rapports.add_argument(
        "--delai",
        type=int,
        default=600,
        metavar="SECONDES",
        help="durée maximale d'un notebook avant arrêt (défaut : 600)",
    )
    rapports.add_argument(
        "--modele",
        metavar="NOTEBOOK",
        help="notebook de rapport de territoire à utiliser à la place de "
        "notebooks/rapport_territoire.ipynb (version adaptée par l'évaluateur)",
    )
    rapports.add_argument(
        "--journal",
        metavar="FICHIER",
        help="journal du lot (défaut : SORTIE/journaux/ANNEE-DATE-HEURE.txt, hors des "
        "rapports publiés)",
    )
    _data_options(rapports)
    rapports.set_defaults(func=cmd_rapports)
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
        _print_warnings(invalid.warnings)
        return EXIT_INVALID_DATA
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
