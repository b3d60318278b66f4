"""Recipe loading under upstream's names (``deid.config.utils``), failing closed.

Unlike pydicom/deid, an unloadable path or tag raises :class:`~deid.errors.RecipeError` (not a
warning followed by no de-identification), and a folder without a ``deid*`` file is an error
rather than a silent switch to the default recipe.

Examples
--------
>>> d = load_deid(get_deid("dicom"))
>>> d["format"], "graylist" in d["filter"]
('dicom', True)
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from deid.diagnostics import Diagnostic
from deid.errors import RecipeError
from deid.recipe.ast import Recipe, Span
from deid.recipe.compat import recipe_to_dict
from deid.recipe.parser import parse_recipe, read_recipe_source, stack

__all__ = ["find_deid", "get_deid", "load_combined_deid", "load_deid", "load_recipe_entry"]


def find_deid(path: str | os.PathLike[str] | None = None) -> str:
    """Return the recipe file for ``path``: the file itself, or the ``deid*`` file of a folder
    (the first in name order, with a warning, when there are several).

    ``None`` means the current directory.

    Raises
    ------
    RecipeError
        When the path does not exist, or a folder holds no ``deid*`` file.

    Examples
    --------
    >>> find_deid(get_deid("dicom")).endswith("deid.dicom")
    True
    """
    target = Path(os.getcwd() if path is None else os.fspath(path))
    if not target.exists():
        raise RecipeError(
            [
                Diagnostic(
                    "E100",
                    "error",
                    f"cannot load recipe '{target}': no such file or folder",
                    Span(str(target), 0, 0, 0, 0),
                )
            ]
        )
    name, _ = read_recipe_source(target)
    return name


def get_deid(
    tag: str | os.PathLike[str] | None = None,
    exit_on_fail: bool = True,
    quiet: bool = False,
    load: bool = False,
) -> Any:
    """Resolve a tag (``dicom``, ``dicom.ultrasound`` ...) or path to a recipe file path.

    With ``load=True`` the parsed upstream dict is returned instead. When the recipe cannot be
    found, :class:`~deid.errors.RecipeError` is raised if ``exit_on_fail`` (upstream exits the
    interpreter), else None is returned.

    Examples
    --------
    >>> get_deid("dicom.xray.chest").endswith("deid.dicom.xray.chest")
    True
    >>> get_deid("no-such-tag", exit_on_fail=False) is None
    True
    """
    try:
        name, _ = read_recipe_source("dicom" if tag is None else tag)
    except RecipeError:
        if exit_on_fail:
            raise
        return None
    return load_deid(name) if load else name


def load_recipe_entry(entry: Any) -> Recipe:
    """Parse one entry a :class:`~deid.config.DeidRecipe` accepts: a path, tag, dict or recipe.

    Examples
    --------
    >>> len(load_recipe_entry("dicom.xray.chest").filters)
    2
    """
    from deid.recipe.checks import check_recipe
    from deid.recipe.compat import recipe_from_dict

    if isinstance(entry, Recipe):
        return entry
    if hasattr(entry, "to_recipe"):
        return entry.to_recipe()  # type: ignore[no-any-return]
    if isinstance(entry, dict):
        recipe = recipe_from_dict(entry)
        diags = check_recipe(recipe)
        if any(d.severity == "error" for d in diags):
            raise RecipeError(diags)
        return recipe
    if not isinstance(entry, (str, os.PathLike)):
        raise RecipeError(
            [
                Diagnostic(
                    "E100",
                    "error",
                    f"cannot load a recipe from {type(entry).__name__} {entry!r}",
                    Span("<recipe>", 0, 0, 0, 0),
                )
            ]
        )
    name, text = read_recipe_source(entry)
    return parse_recipe(text, name)  # memoised by text in deid.recipe.parser


def load_deid(path: str | os.PathLike[str] | None = None) -> OrderedDict[str, Any]:
    """Parse one recipe file (or the ``deid*`` file of a folder; None = current folder) into
    upstream's dict layout.

    Examples
    --------
    >>> list(load_deid(get_deid("dicom")))[:2]
    ['format', 'filter']
    """
    target = os.getcwd() if path is None else path
    return recipe_to_dict(load_recipe_entry(target))


def load_combined_deid(deids: Iterable[Any]) -> OrderedDict[str, Any] | None:
    """Parse several recipes (paths, tags, dicts) and combine them in order into one dict.

    Later ``%values``/``%fields``/``%labels`` are kept and same-named ``%filter`` groups are
    merged (upstream drops or replaces them).

    Examples
    --------
    >>> d = load_combined_deid(["dicom.xray.chest", "dicom"])
    >>> len(d["filter"]["whitelist"])
    4
    """
    items = list(deids) if not isinstance(deids, (str, os.PathLike, dict)) else [deids]
    if not items:
        return None
    return recipe_to_dict(stack(load_recipe_entry(x) for x in items))


# ------------------------------------------------------------------------------------------------
# line-level helpers under upstream's names (the recipe itself is parsed by deid.recipe)


def split_action_line(line: str) -> list[str]:
    """Split a recipe line into tokens the way upstream does (quoted runs stay whole).

    Examples
    --------
    >>> split_action_line('REMOVE (0033,"MITRA OBJECT 1.0",1E)')
    ['REMOVE', '(0033,"MITRA OBJECT 1.0",1E)']
    """
    from deid.recipe.transformer import upstream_tokens

    return upstream_tokens(line.strip())


def _remove_comments(parts: list[str]) -> str:
    """Join value tokens with one space and cut at the first ``#`` (upstream's value rule).

    Examples
    --------
    >>> _remove_comments(["John", "#", "note"])
    'John '
    """
    from deid.recipe.transformer import upstream_value

    return upstream_value(" ".join(parts))


def _derive_ctp_coordinate(raw: str) -> str:
    """Convert a CTP ``x,y,width,height`` region to ``x0,y0,x1,y1`` (``all`` passes through).

    Examples
    --------
    >>> _derive_ctp_coordinate("350,0,162,30")
    '350,0,512,30'
    """
    text = raw.strip()
    if text.lower() == "all":
        return text
    try:
        x, y, w, h = (int(p) for p in text.split(","))
    except ValueError:
        raise RecipeError(
            [
                Diagnostic(
                    "E116",
                    "error",
                    f"bad ctp coordinates '{raw}'",
                    Span("<ctp>", 0, 0, 0, 0),
                    "write four integers x,y,width,height",
                )
            ]
        ) from None
    return f"{x},{y},{x + w},{y + h}"


def parse_format(line: str) -> str:
    """Return the format of a ``FORMAT`` line (always ``dicom``); raise on anything else.

    Examples
    --------
    >>> parse_format("FORMAT dicom # comment")
    'dicom'
    """
    body = line.strip()
    body = body.removeprefix("FORMAT")
    fmt = body.split("#", 1)[0].strip().lower()
    if fmt != "dicom":
        raise RecipeError(
            [
                Diagnostic(
                    "E106",
                    "error",
                    f"unsupported recipe format '{fmt or line.strip()}'",
                    Span("<format>", 0, 0, 0, 0),
                    "write 'FORMAT dicom'",
                )
            ]
        )
    return fmt
