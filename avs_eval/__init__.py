"""avs-eval: the evaluation workbook of action sheet PA 3.1.2 (package of the notebooks)."""

__version__ = "0.1.0"


def _french_errors_in_notebooks() -> None:
    # in a Jupyter kernel, the package's own errors show as one French message
    from avs_eval import notebook_errors

    notebook_errors.install()


_french_errors_in_notebooks()
