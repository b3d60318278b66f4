"""The public profile API: list, build, compile and explain PS3.15 profiles.

Profiles become ordinary recipe rules (:func:`profile_recipe`) compiled by the same engine as
user recipes (:func:`profile_plan`), with a pre step (capture per-file state before any change)
and a post step (Clean Structured Content, output markers, new file meta and preamble).

Examples
--------
>>> available_profiles()
['basic']
>>> "retain-uids" in available_options()
True
>>> recipe = profile_recipe("basic", ["retain-uids"])
>>> recipe.header[0].span.file
'PS3.15 2026c Table E.1-1'
>>> rows = explain_rules("basic", ["retain-long-modified-dates"])
>>> [r for r in rows if r.tag == "(0008,0020)"][0].action
'REPLACE ps315_shift'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deid.engine.changelog import Change, RuleRef
from deid.profiles.compose import (
    PROFILES,
    effective_rules,
    normalize_options,
    rules_to_recipe,
)
from deid.profiles.table import DEFAULT_EDITION, OPTION_IDS, format_tag, load_table
from deid.recipe.ast import Recipe

__all__ = [
    "ExplainRow",
    "ProfilePrepare",
    "ProfileSteps",
    "available_options",
    "available_profiles",
    "explain",
    "explain_rules",
    "profile_plan",
    "profile_post",
    "profile_recipe",
]


def available_profiles() -> list[str]:
    """Names of the profiles deid implements.

    Examples
    --------
    >>> available_profiles()
    ['basic']
    """
    return sorted(set(PROFILES.values()))


@dataclass(frozen=True)
class OptionDescription:
    """An option as listed by ``deid profiles``."""

    id: str
    title: str
    code: str
    scheme: str
    rows: int
    header: bool


def available_options(edition: str = DEFAULT_EDITION, *, detailed: bool = False) -> list[Any]:
    """Option ids (or, with ``detailed=True``, :class:`OptionDescription` records).

    ``header`` is False for options that act on pixels only (Clean Pixel Data, Clean
    Recognizable Visual Features): the header engine only records them in the markers.

    Examples
    --------
    >>> available_options()[:2]
    ['retain-safe-private', 'retain-uids']
    >>> available_options(detailed=True)[-2].header
    False
    """
    table = load_table(edition)
    if not detailed:
        return list(OPTION_IDS)
    out = []
    for oid in OPTION_IDS:
        info = table.options[oid]
        rows = sum(1 for r in table.rows if oid in r.options)
        out.append(
            OptionDescription(
                oid, info.title, info.code, info.scheme, rows, info.column is not None
            )
        )
    return out


def profile_recipe(
    name: str = "basic",
    options: Iterable[str] | str | None = (),
    *,
    edition: str = DEFAULT_EDITION,
) -> Recipe:
    """A PS3.15 profile as recipe rules (one ``%header`` action per table row that acts).

    Each action's span names the table and row (``PS3.15 2026c Table E.1-1``, line = row).

    Raises
    ------
    ProfileError
        Unknown profile, option or edition, or conflicting options.

    Examples
    --------
    >>> r = profile_recipe("basic")
    >>> any(a.field.text == "(0010,0010)" and a.action == "REPLACE" for a in r.header)
    True
    """
    table = load_table(edition)
    opts = normalize_options(options)
    rules = effective_rules(name, opts, table=table)
    import deid.profiles.functions  # noqa: F401  (registers the ps315_ functions)

    return rules_to_recipe(rules, table, options=opts)


@dataclass(frozen=True)
class ProfileSteps:
    """The profile's post step, run by the plan after the header rules (picklable).

    Called as ``steps(ds, context, changelog)`` (the engine's ``post`` hook signature): cleans
    SR content items (Clean Structured Content), writes the PS3.15 markers, rebuilds the file
    meta and clears the preamble, records what it did in the changelog, and finally drops the
    per-file state the ``ps315_`` functions kept in ``context.extra``.
    """

    options: tuple[str, ...] = ()
    edition: str = DEFAULT_EDITION
    mark: bool = True
    rebuild_meta: bool = True

    def run(self, ds: Any, context: Any = None) -> list[Change]:
        """Do the post step on ``ds``; return the changes made."""
        from deid.profiles.post import clean_content_items, mark_dataset, rebuild_file_meta

        table = load_table(self.edition)
        changes: list[Change] = []
        ref = RuleRef(f"PS3.15 {table.edition} Annex E", 0, "profile post step")
        if "clean-structured-content" in self.options:
            n = clean_content_items(ds, self.options, _content_replacer(context), table)
            if n:
                changes.append(
                    Change(
                        "(0040,A730)",
                        0x0040A730,
                        "ContentSequence",
                        "CLEAN",
                        ref,
                        "SQ",
                        f"{n} content item(s) cleaned by Table E.3.4-1",
                    )
                )
        if self.mark:
            mark_dataset(ds, self.options, table)
            for tag, kw in (
                (0x00120062, "PatientIdentityRemoved"),
                (0x00120063, "DeidentificationMethod"),
                (0x00120064, "DeidentificationMethodCodeSequence"),
                (0x00280303, "LongitudinalTemporalInformationModified"),
            ):
                changes.append(Change(format_tag(tag), tag, kw, "ADD", ref, None, None))
        if self.rebuild_meta:
            rebuild_file_meta(ds)
            changes.append(
                Change(
                    "(0002,0000)",
                    0x00020000,
                    "FileMetaInformation",
                    "REPLACE",
                    ref,
                    None,
                    "file meta rebuilt, preamble cleared",
                )
            )
        extra = getattr(context, "extra", None)
        if isinstance(extra, dict):
            state = extra.pop("ps315_state", None)
            if hasattr(state, "release"):
                state.release()
        return changes

    def __call__(self, ds: Any, context: Any = None, changelog: Any = None) -> None:
        changes = self.run(ds, context)
        if changelog is not None:
            changelog.extend(changes)


@dataclass(frozen=True)
class ProfilePrepare:
    """The profile's pre step: captures, from the dataset as read, what the ``ps315_``
    functions of this plan will need (patient identity, identifying terms, safe private set)
    and nothing else. Called as ``step(ds, context)`` (the engine's ``pre`` hook signature).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> from deid.engine import Context
    >>> ctx = Context()
    >>> ds = Dataset(); ds.PatientName = "Roe^Rita"
    >>> ProfilePrepare(("terms",))(ds, ctx)
    >>> "Roe" in ctx.extra["ps315_state"].terms
    True
    """

    needs: tuple[str, ...] = ()

    def __call__(self, ds: Any, context: Any = None) -> None:
        from deid.profiles.functions import prepare

        extra = getattr(context, "extra", None)
        if isinstance(extra, dict):
            extra.pop("ps315_state", None)  # never reuse another dataset's state
        prepare(ds, context, self.needs)


def _needs(recipe: Recipe, options: Sequence[str]) -> tuple[str, ...]:
    """What the per-file state must capture before any change for ``recipe`` and ``options``."""
    names = {a.value.name for a in recipe.header if a.value is not None}
    needs = set()
    if "ps315_clean_text" in names or "clean-structured-content" in options:
        needs.add("terms")
    if "ps315_shift" in names or "clean-structured-content" in options:
        needs.add("patient")
    if "ps315_private_unsafe" in names:
        needs.add("safe_private")
    return tuple(sorted(needs))


def _content_replacer(context: Any) -> Callable[[str, Any, Any, Any], Any]:
    from deid.engine.walk import Field
    from deid.profiles import functions as fn

    def replace(code: str, element: Any, item: Any, root: Any) -> Any:
        f = Field(element, element.keyword or "", format_tag(int(element.tag)))
        if element.VR == "SQ":
            return None if code in ("D", "Z", "X") else element.value
        if code == "U" or element.VR == "UI":
            return fn.ps315_uid(dicom=root, field=f, context=context)
        if code == "C":
            if element.VR in ("DA", "DT", "TM"):
                return fn.ps315_shift(dicom=root, field=f, context=context)
            return fn.ps315_clean_text(dicom=root, field=f, context=context)
        if code == "Z":
            return "" if element.VR not in ("FL", "FD", "US", "UL", "SS", "SL") else None
        return fn.ps315_dummy(dicom=root, field=f, context=context)

    return replace


def profile_post(
    name: str = "basic",
    options: Iterable[str] | str | None = (),
    *,
    edition: str = DEFAULT_EDITION,
    mark: bool = True,
    rebuild_meta: bool = True,
) -> list[Callable[..., Any]]:
    """The ``post`` hooks of a profile, for ``compile_plan(recipe, post=...)``.

    Examples
    --------
    >>> [type(p).__name__ for p in profile_post("basic", ["retain-uids"])]
    ['ProfileSteps']
    """
    from deid.profiles.compose import _canonical_profile

    _canonical_profile(name)
    return [ProfileSteps(normalize_options(options), edition, mark, rebuild_meta)]


def profile_plan(
    name: str = "basic",
    options: Iterable[str] | str | None = (),
    *,
    recipes: Sequence[Recipe] | Recipe | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    edition: str = DEFAULT_EDITION,
    mark: bool = True,
    rebuild_meta: bool = True,
) -> Any:
    """Compile a profile (optionally with site recipes stacked after it) into a plan.

    Site recipes come after the profile rules, so a site ``KEEP`` or ``REPLACE`` wins over the
    profile for the attributes it names (the engine's ordinary precedence).

    Parameters
    ----------
    name, options, edition
        As for :func:`profile_recipe`.
    recipes : Recipe or sequence of Recipe, optional
        Site recipes (parsed) to apply on top.
    functions : mapping, optional
        Extra ``func:`` callables for the site recipes.
    mark, rebuild_meta : bool
        Write the PS3.15 markers / rebuild file meta and preamble (on by default).

    Returns
    -------
    deid.engine.Plan
        ``apply(ds, context) -> ChangeLog``; the profile's post step is one of its hooks.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> plan = profile_plan("basic", ["retain-uids"])
    >>> ds = Dataset(); ds.PatientName = "Doe^Jane"; ds.SOPInstanceUID = "1.2.3"
    >>> ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    >>> _ = plan.apply(ds)
    >>> str(ds.PatientName).startswith("ANON^"), ds.SOPInstanceUID, ds.PatientIdentityRemoved
    (True, '1.2.3', 'YES')
    """
    opts = normalize_options(options)
    recipe = profile_recipe(name, opts, edition=edition)
    if recipes is not None:
        from deid.recipe import stack

        extra = [recipes] if isinstance(recipes, Recipe) else list(recipes)
        recipe = stack([recipe] + extra)
    from deid.engine import compile_plan

    post = profile_post(name, opts, edition=edition, mark=mark, rebuild_meta=rebuild_meta)
    pre = [ProfilePrepare(_needs(recipe, opts))]
    return compile_plan(recipe, functions=dict(functions or {}), post=post, pre=pre)


@dataclass(frozen=True)
class ExplainRow:
    """One line of ``deid explain``: what happens to an attribute, and why."""

    tag: str
    keyword: str
    name: str
    action: str
    why: str
    source: str


def _keyword(row: Any) -> str:
    if row.kind != "tag" or row.tag is None:
        return ""
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(row.tag) or ""


def explain_rules(
    name: str = "basic",
    options: Iterable[str] | str | None = (),
    *,
    recipes: Sequence[Recipe] | Recipe | None = None,
    edition: str = DEFAULT_EDITION,
) -> list[ExplainRow]:
    """The effective rules, one row per table row, then deid's rules for attributes the table
    does not list (:func:`deid.profiles.compose.policy_rules`), plus site-recipe rules on top.

    ``action`` is ``keep``, ``REMOVE``, ``BLANK`` or ``REPLACE <function>``; ``why`` cites the
    code and the option; ``source`` is ``PS3.15 <edition> Table E.1-1:<row>`` or the recipe line.
    A site rule naming the same tag (or keyword) replaces the row's explanation.

    Examples
    --------
    >>> rows = explain_rules("basic")
    >>> r = [r for r in rows if r.tag == "(0010,0010)"][0]
    >>> (r.keyword, r.action)
    ('PatientName', 'REPLACE ps315_name')
    """
    table = load_table(edition)
    rules = effective_rules(name, options, table=table)
    out: list[ExplainRow] = []
    index: dict[int, int] = {}
    for rule in rules:
        row = rule.row
        action = "keep" if rule.action is None else rule.action
        if rule.function:
            action += f" {rule.function}"
        out.append(
            ExplainRow(
                row.tag_text,
                _keyword(row),
                row.name,
                action,
                rule.why,
                f"PS3.15 {table.edition} Table E.1-1:{row.line}",
            )
        )
        if row.kind == "tag" and row.tag is not None:
            index[row.tag] = len(out) - 1
    from deid.profiles.compose import POLICY_SOURCE, policy_rules

    for rule in policy_rules(normalize_options(options), table=table):
        action = "keep" if rule.action is None else rule.action
        if rule.function:
            action += f" {rule.function}"
        out.append(
            ExplainRow(
                rule.row.tag_text,
                "",
                rule.row.name,
                action,
                rule.why,
                f"{POLICY_SOURCE}:{rule.row.line}",
            )
        )
    if recipes is not None:
        site = [recipes] if isinstance(recipes, Recipe) else list(recipes)
        for recipe in site:
            for act in recipe.header:
                out_row = _site_row(act)
                tag = _field_tag(act.field)
                if tag is not None and tag in index:
                    base = out[index[tag]]
                    out[index[tag]] = ExplainRow(
                        base.tag,
                        base.keyword,
                        base.name,
                        out_row.action,
                        f"{out_row.why} (overrides: {base.action}, {base.why})",
                        out_row.source,
                    )
                else:
                    out.append(out_row)
    return out


def _field_tag(fe: Any) -> int | None:
    if fe.kind == "tag":
        return int(fe.tag)
    if fe.kind == "keyword":
        from pydicom.datadict import tag_for_keyword

        tag = tag_for_keyword(fe.arg or fe.text)
        return int(tag) if tag is not None else None
    return None


def _site_row(act: Any) -> ExplainRow:
    tag = _field_tag(act.field)
    from pydicom.datadict import keyword_for_tag

    kw = keyword_for_tag(tag) if tag is not None else ""
    value = f" {act.value.text}" if act.value is not None else ""
    text = f"{act.action} {act.field.text}{value}"
    return ExplainRow(
        format_tag(tag) if tag is not None else act.field.text,
        kw or "",
        "",
        act.action if act.action != "KEEP" else "keep",
        f"site recipe: {text}",
        f"{act.span.file}:{act.span.line}",
    )


def explain(name: str = "basic", options: Iterable[str] | str | None = (), **kwargs: Any) -> str:
    """:func:`explain_rules` as aligned text, one attribute per line.

    Examples
    --------
    >>> explain("basic").splitlines()[0].split()
    ['tag', 'keyword', 'action', 'why']
    """
    rows = explain_rules(name, options, **kwargs)
    head = ("tag", "keyword", "action", "why")
    table = [head] + [(r.tag, r.keyword, r.action, r.why) for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(3)]
    lines = ["  ".join(t[i].ljust(widths[i]) for i in range(3)) + "  " + t[3] for t in table]
    return "\n".join(line.rstrip() for line in lines)
