"""pydicom/deid's ``deid.config``: :class:`DeidRecipe` and recipe loading (drop-in, fail closed).

``DeidRecipe.deid`` is upstream's mutable dict; :meth:`DeidRecipe.to_recipe` re-reads it on
every call, so code that edits ``recipe.deid["header"]`` keeps working.

Examples
--------
>>> recipe = DeidRecipe()
>>> recipe.get_format(), "graylist" in recipe.ls_filters()
('dicom', True)
>>> recipe.deid["header"] = [{"action": "BLANK", "field": "PatientName"}]
>>> recipe.to_recipe().header[0].action
'BLANK'
"""

from __future__ import annotations

import os
from typing import Any

from deid.config.standards import actions, formats, sections
from deid.config.utils import find_deid, get_deid, load_combined_deid, load_deid, load_recipe_entry
from deid.errors import RecipeError
from deid.recipe.ast import Recipe
from deid.recipe.compat import recipe_from_dict, recipe_to_dict
from deid.recipe.parser import stack

__all__ = [
    "DeidRecipe",
    "actions",
    "bot",
    "find_deid",
    "formats",
    "get_deid",
    "load_combined_deid",
    "load_deid",
    "sections",
]


def __getattr__(name: str) -> Any:
    if name == "bot":  # upstream re-exports its logger here
        from deid.logger import bot

        return bot
    raise AttributeError(name)


class DeidRecipe:
    """A de-identification recipe, loaded from files, tags or dicts (pydicom/deid's class).

    Parameters
    ----------
    deid : str, path, dict, Recipe, or list of those, optional
        Recipe file, folder holding one ``deid*`` file, shipped tag (``dicom``,
        ``dicom.ultrasound``, ``dicom.xray.chest``), an upstream-style dict, or a list (applied
        in order). None loads the default recipe.
    base : bool
        Also load ``default_base`` AFTER the given recipes (so its actions run last).
    default_base : str
        Tag or path of the base recipe.

    Raises
    ------
    deid.errors.RecipeError
        When any entry cannot be loaded or has errors (upstream warns and de-identifies nothing).

    Examples
    --------
    >>> r = DeidRecipe("dicom.xray.chest")
    >>> r.ls_filters(), r.has_actions()
    (['whitelist', 'blacklist'], False)
    >>> str(r)
    '[deid]'
    """

    def __init__(self, deid: Any = None, base: bool = False, default_base: str = "dicom") -> None:
        self.deid: Any = None
        self._files: list[Any] = []
        self._recipe: Recipe | None = None
        self._init_deid(deid, base=base, default_base=default_base)

    def __str__(self) -> str:
        return "[deid]"

    __repr__ = __str__

    def _init_deid(self, deid: Any = None, base: bool = False, default_base: str = "dicom") -> None:
        """Load the recipe entries into ``self.deid`` (upstream's private initialiser)."""
        if deid is None:
            base = True
            entries: list[Any] = []
        elif isinstance(deid, (list, tuple)):
            entries = list(deid)
        else:
            entries = [deid]
        if base and default_base is not None:
            entries.append(default_base)
        self._files = list(entries)
        if not entries:
            from deid.diagnostics import Diagnostic
            from deid.recipe.ast import Span

            raise RecipeError(
                [
                    Diagnostic(
                        "E100",
                        "error",
                        "no recipe given (an empty list, base=False)",
                        Span("<recipe>", 0, 0, 0, 0),
                        "pass a recipe, or base=True",
                    )
                ]
            )
        recipes = [load_recipe_entry(e) for e in entries]
        self._recipe = recipes[0] if len(recipes) == 1 else stack(recipes)
        self.deid = recipe_to_dict(self._recipe)

    def load(self, deid: Any) -> None:
        """Append another recipe (or list of recipes) after the current one.

        Examples
        --------
        >>> r = DeidRecipe("dicom.xray.chest")
        >>> r.load("dicom")
        >>> r.has_actions()
        True
        """
        more = list(deid) if isinstance(deid, (list, tuple)) else [deid]
        current = self.to_recipe()
        self._recipe = stack([current] + [load_recipe_entry(e) for e in more])
        self._files.extend(more)
        self.deid = recipe_to_dict(self._recipe)

    def to_recipe(self, *, strict: bool = True) -> Recipe:
        """Return the recipe as an AST, re-read from ``self.deid`` (so edits are honoured).

        Raises
        ------
        deid.errors.RecipeError
            When the (possibly edited) dict holds errors, or ``deid`` is None.

        Examples
        --------
        >>> r = DeidRecipe("dicom.xray.chest")
        >>> r.deid["header"] = [{"action": "REMOVE", "field": "PatientID"}]
        >>> [a.field.text for a in r.to_recipe().header]
        ['PatientID']
        """
        from deid.diagnostics import Diagnostic
        from deid.recipe.ast import Span
        from deid.recipe.checks import check_recipe

        if self.deid is None:
            raise RecipeError(
                [
                    Diagnostic(
                        "E100",
                        "error",
                        "the recipe is empty (DeidRecipe.deid is None)",
                        Span("<dict>", 0, 0, 0, 0),
                    )
                ]
            )
        recipe = recipe_from_dict(self.deid, original=self._recipe)
        diags = check_recipe(recipe, strict=strict)
        if self.deid.get("format", "dicom") not in formats:
            from deid.diagnostics import Diagnostic as D

            diags.append(
                D(
                    "E106",
                    "error",
                    f"unsupported recipe format '{self.deid.get('format')}'",
                    Span("recipe.deid['format']", 0, 0, 0, 0),
                )
            )
        if any(d.severity == "error" for d in diags):
            raise RecipeError(diags)
        return recipe

    # -- upstream accessors -------------------------------------------------------------------
    def get_format(self) -> Any:
        """Return the recipe format (``dicom``)."""
        return self.deid.get("format") if self.deid else None

    def _get_section(self, name: str) -> Any:
        """Return section ``name`` of the dict, or None."""
        if self.deid is not None:
            return self.deid.get(name)
        return None

    def _get_named_section(self, section_name: str, name: str | None = None) -> Any:
        """Return a named section (``filter``/``values``/``fields``), or one group of it.

        None when the section is absent; ``[]`` for an unknown group name.
        """
        section = self._get_section(section_name)
        if section is not None and name is not None:
            return section.get(name, [])
        return section

    def get_filters(self, name: str | None = None) -> Any:
        """All ``%filter`` groups (dict), or the LABEL list of group ``name``."""
        return self._get_named_section("filter", name)

    def get_values_lists(self, name: str | None = None) -> Any:
        """All ``%values`` groups, or the lines of group ``name``."""
        return self._get_named_section("values", name)

    def get_fields_lists(self, name: str | None = None) -> Any:
        """All ``%fields`` groups, or the lines of group ``name``."""
        return self._get_named_section("fields", name)

    def _get_actions(
        self, action: str | None = None, field: str | None = None, section: str = "header"
    ) -> Any:
        """Actions of ``section``, filtered by action and/or exact field expression
        (case-insensitive)."""
        items = self._get_section(section)
        if items is None:
            return None
        if action is not None:
            items = [x for x in items if str(x.get("action", "")).upper() == action.upper()]
        if field is not None:
            items = [x for x in items if str(x.get("field", "")).upper() == field.upper()]
        return items

    def get_actions(self, action: str | None = None, field: str | None = None) -> Any:
        """Header action dicts, optionally filtered by action and/or field expression.

        Examples
        --------
        >>> len(DeidRecipe().get_actions(action="ADD"))
        6
        """
        return self._get_actions(action=action, field=field)

    def _has_list_content(self, name: str) -> bool:
        section = self.deid.get(name) if self.deid is not None else None
        return bool(section) and len(section) > 0

    def has_actions(self) -> bool:
        """True when the recipe has header actions."""
        return self._has_list_content("header")

    def has_values_lists(self) -> bool:
        """True when the recipe has ``%values`` groups."""
        return self._has_list_content("values")

    def has_fields_lists(self) -> bool:
        """True when the recipe has ``%fields`` groups."""
        return self._has_list_content("fields")

    def listof(self, section: str) -> list[str]:
        """Names of the groups of a named section (``filter``, ``values``, ``fields``)."""
        found = self._get_section(section)
        return list(found.keys()) if isinstance(found, dict) else []

    def ls_filters(self) -> list[str]:
        """Names of the ``%filter`` groups."""
        return self.listof("filter")

    def ls_valuelists(self) -> list[str]:
        """Names of the ``%values`` groups."""
        return self.listof("values")

    def ls_fieldlists(self) -> list[str]:
        """Names of the ``%fields`` groups."""
        return self.listof("fields")


def _path_like(x: Any) -> bool:  # pragma: no cover - kept for readers of the module
    return isinstance(x, (str, os.PathLike))
