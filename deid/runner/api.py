"""The Python API of a batch run: :func:`run` mirrors ``deid run``.

Examples
--------
>>> import os, tempfile
>>> from pydicom.data import get_testdata_file
>>> class Blank:  # a stand-in plan; normally use recipe=... or profile=...
...     def apply(self, ds, context=None):
...         ds.PatientName = ""
...         return []
>>> out = os.path.join(tempfile.mkdtemp(), "out")
>>> summary = run([get_testdata_file("CT_small.dcm")], out, plan=Blank(), workers=1)
>>> summary.written, summary.exit_code
(1, 0)
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from deid.runner.conditions import SaveCondition, parse_conditions
from deid.runner.executors import SerialExecutor, make_executor
from deid.runner.job import (
    DEFAULT_MAX_FILE_SIZE,
    EXISTING_MODES,
    JobSpec,
    parse_size,
    remove_stale_temporaries,
)
from deid.runner.report import CrosswalkWriter, ReportWriter, RunSummary, load_done
from deid.runner.sources import (
    DEFAULT_MAX_ARCHIVE_SIZE,
    ArchiveExpander,
    FileTask,
    RunnerError,
    check_output_location,
    collect_tasks,
    is_url,
)

__all__ = ["build_plan", "default_report_path", "pixel_options_for", "run"]

#: Profile option names that claim the pixels were cleaned (and their spellings).
_CLEAN_PIXEL_OPTIONS = frozenset({"clean-pixel-data", "clean-pixel"})


def build_plan(
    recipe: Any = None,
    profile: str | None = None,
    options: Sequence[str] = (),
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """Compile recipes and/or a profile into one plan (profile rules first, then recipes).

    Parameters
    ----------
    recipe : str, Recipe, DeidRecipe or a list of them, optional
        Recipe files, shipped recipe tags, parsed recipes or upstream ``DeidRecipe`` objects.
    profile : str, optional
        A PS3.15 profile name (``basic``) from :mod:`deid.profiles`.
    options : sequence of str
        Profile options (``retain-uids``, ...).
    functions : mapping, optional
        Extra functions available to ``func:`` values.

    Raises
    ------
    RunnerError
        When neither a recipe nor a profile is given.
    deid.errors.RecipeError, deid.errors.PlanError, deid.errors.ProfileError
        From the recipe language, the engine or the profiles.

    Examples
    --------
    >>> build_plan()
    Traceback (most recent call last):
    ...
    deid.runner.sources.RunnerError: give a recipe and/or a profile ...
    """
    if recipe is None and profile is None:
        raise RunnerError("give a recipe and/or a profile (nothing would be de-identified)")
    from deid.recipe import load_recipe

    if options and profile is None:
        raise RunnerError("profile options were given without a profile")
    items: list[Any]
    if recipe is None:
        items = []
    elif isinstance(recipe, (list, tuple)):
        items = list(recipe)
    else:
        items = [recipe]
    parts: list[Any] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            parts.append(load_recipe(os.fspath(item)))
        elif hasattr(item, "to_recipe"):
            parts.append(item.to_recipe())
        else:
            parts.append(item)
    if profile is not None:
        from deid.profiles import profile_plan

        return profile_plan(profile, tuple(options), recipes=parts or None, functions=functions)
    from deid.engine import compile_plan

    if len(parts) == 1:
        combined = parts[0]
    else:
        from deid.recipe import stack

        combined = stack(parts)
    return compile_plan(combined, functions=dict(functions or {}))


def default_report_path(output: str) -> str | None:
    """The report written by ``deid run`` when ``--report`` is not given.

    It sits next to the output folder (never inside it, so it is not released with the data).

    Examples
    --------
    >>> default_report_path("/data/release")
    '/data/release.deid-report.jsonl'
    >>> default_report_path("memory://bucket/out") is None
    True
    """
    if is_url(output):
        return None
    return os.path.realpath(output).rstrip(os.sep) + ".deid-report.jsonl"


def _series_blocks(executor: Any, tasks: list[FileTask]) -> list[FileTask]:
    results = list(executor.imap("conditions", tasks))
    failing: dict[str, list[str]] = {}
    for res in results:
        series = res.get("series")
        if series is not None:
            failing.setdefault(series, [])
            if not res["passed"]:
                failing[series].append(res["input"])
    by_input = {res["input"]: res.get("series") for res in results}
    out = []
    for task in tasks:
        series = by_input.get(task.input)
        block = tuple(sorted(failing.get(series, []))) if series is not None else ()
        out.append(replace(task, series_block=block))
    return out


def _pixel_filters(source: Any) -> tuple[Any, ...]:
    """Collect the ``%filter`` groups of recipe paths/objects; the shipped default when none."""
    from deid._optional import require

    require("deid.pixels.process", "pixels")
    from deid.recipe import load_recipe

    items = (
        [] if source is None else list(source) if isinstance(source, (list, tuple)) else [source]
    )
    groups: list[Any] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            item = load_recipe(os.fspath(item))
        elif hasattr(item, "to_recipe"):
            item = item.to_recipe()
        groups.extend(getattr(item, "filters", ()))
    if not groups:
        groups.extend(load_recipe("dicom").filters)
    return tuple(groups)


def _claims_clean_pixels(options: Sequence[str]) -> bool:
    return any(
        str(o).strip().lower().replace("_", "-") in _CLEAN_PIXEL_OPTIONS for o in options or ()
    )


def pixel_options_for(
    pixel_options: Any = None,
    *,
    accept_burned_in: bool = False,
    reject_blacklist: bool = False,
    suspect_modalities: Sequence[str] = (),
    suspect_image_types: Sequence[str] = (),
) -> Any:
    """The :class:`deid.pixels.PixelOptions` of a run.

    Without ``pixel_options`` the runner's defaults apply: an image that its header marks as
    carrying burned-in annotation (BurnedInAnnotation YES, or a modality / image type listed as
    suspect) and in which no ``%filter`` rule blanks any pixel is rejected; matches of a
    ``blacklist`` LABEL are reported but reject only with ``reject_blacklist`` (the shipped
    recipe's blacklist flags every image without ImageType).

    Examples
    --------
    >>> o = pixel_options_for(accept_burned_in=True, suspect_modalities=["us"])
    >>> o.reject_uncovered, o.reject_groups, o.suspect_modalities
    (False, (), ('US',))
    >>> pixel_options_for(reject_blacklist=True).reject_groups
    ('blacklist',)
    """
    from deid.pixels.process import PixelOptions

    if pixel_options is None:
        pixel_options = PixelOptions(reject_groups=())
    changes: dict[str, Any] = {}
    if accept_burned_in:
        changes["reject_uncovered"] = False
    if reject_blacklist and "blacklist" not in pixel_options.reject_groups:
        changes["reject_groups"] = tuple(pixel_options.reject_groups) + ("blacklist",)
    if suspect_modalities:
        changes["suspect_modalities"] = tuple(pixel_options.suspect_modalities) + tuple(
            m.strip().upper() for m in suspect_modalities
        )
    if suspect_image_types:
        changes["suspect_image_types"] = tuple(pixel_options.suspect_image_types) + tuple(
            t.strip().upper() for t in suspect_image_types
        )
    return replace(pixel_options, **changes) if changes else pixel_options


def _resolve_key(key: Any, key_file: str | None) -> Any:
    from deid.engine.keys import load_key

    return load_key(key, key_file=key_file)


def _progress(enabled: bool | None, total: int) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from deid._optional import require

    tqdm = require("tqdm", "progress")
    return tqdm.tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True)


def run(
    inputs: str | Sequence[str],
    output: str,
    plan: Any = None,
    *,
    recipe: Any = None,
    profile: str | None = None,
    options: Sequence[str] = (),
    functions: Mapping[str, Callable[..., Any]] | None = None,
    key: Any = None,
    key_file: str | None = None,
    variables: Mapping[str, Mapping[str, Any]] | None = None,
    conditions: Iterable[str | SaveCondition] = (),
    series_aggregate: bool = False,
    existing: str = "error",
    quarantine: str | None = None,
    report: str | None = None,
    crosswalk: str | None = None,
    resume: bool = False,
    workers: int | None = None,
    scheduler: Any = None,
    pattern: str | None = None,
    pixels: bool = True,
    pixel_recipe: Any = None,
    pixel_options: Any = None,
    accept_burned_in: bool = False,
    reject_blacklist: bool = False,
    suspect_modalities: Sequence[str] = (),
    suspect_image_types: Sequence[str] = (),
    force: bool = False,
    progress: bool | None = None,
    keep_records: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    max_file_size: int | str | None = DEFAULT_MAX_FILE_SIZE,
    expand_zip: bool = True,
    max_archive_size: int | str | None = DEFAULT_MAX_ARCHIVE_SIZE,
    chunksize: int | None = None,
) -> RunSummary:
    """De-identify a tree of files; the Python twin of ``deid run``.

    Parameters
    ----------
    inputs : str or sequence of str
        Files, folders, glob patterns or fsspec URLs.
    output : str
        Output folder or URL; it mirrors the input tree. Never equal to, inside or around an
        input folder.
    recipe, profile, options, functions
        What to apply (see :func:`build_plan`); or pass a compiled ``plan``.
    plan : object, optional
        A compiled plan (``apply(ds, context)``), which overrides recipe/profile; anything
        else given here (a recipe path or tag, a parsed ``Recipe``, a ``DeidRecipe``) is taken
        as ``recipe``.
    key : str or bytes or deid.engine.keys.Key, optional
        Secret key for keyed pseudonyms. It is resolved once, here (argument, ``key_file``,
        ``$DEID_KEY``, else one random key for the whole run), so every worker uses the same key.
    key_file : str, optional
        File holding the key.
    variables : mapping, optional
        Per-file variables: input path (absolute, or as listed) -> {name: value}; ``"*"`` for all.
    conditions : iterable of str or SaveCondition
        Save conditions (``"Modality in [CT, MR]"``); a file that fails one is rejected.
    series_aggregate : bool
        Release a series only when every file of it meets the conditions.
    existing : {"error", "skip", "overwrite"}
        What to do when an output file exists.
    quarantine : str, optional
        Folder where rejected and failed inputs are copied.
    report : str, optional
        JSON-lines report path (one record per file).
    crosswalk : str, optional
        CSV of original vs de-identified identifiers for written files.
    resume : bool
        Continue from ``report``: files already done are not processed again.
    workers : int, optional
        Local worker processes (default: every core; 1 = in this process).
    scheduler : str or distributed.Client, optional
        Run on a Dask cluster instead.
    pattern : str, optional
        Only files whose base name matches this ``fnmatch`` pattern.
    pixels : bool
        The pixel step (default True; False is the opt-out, ``--no-pixels``). The ``%filter``
        sections are evaluated on every input header (compiled once per run; the image is not
        decoded); regions of matching LABELs are blanked; an image whose input header marks it
        as carrying burned-in annotation (BurnedInAnnotation YES, or a suspect modality/type)
        and that no rule blanks is rejected. Images no rule touches keep their Pixel Data byte
        for byte. ``pixels=False`` together with the ``clean-pixel-data`` profile option is
        refused (the output would claim a cleaning that never happened).
    pixel_recipe : recipe or list, optional
        Where the ``%filter`` sections come from (default: ``recipe``; when that has none, the
        shipped ``dicom`` recipe).
    pixel_options : deid.pixels.PixelOptions, optional
        Options of the pixel step (default: see :func:`pixel_options_for`).
    accept_burned_in : bool
        Write images marked as burned-in that no rule covers, pixels unchanged and
        BurnedInAnnotation YES kept (``--accept-burned-in``). Refused with ``clean-pixel-data``.
    reject_blacklist : bool
        Also reject images that match a ``%filter blacklist`` LABEL and that no rule blanks.
    suspect_modalities, suspect_image_types : sequence of str
        Modalities / ImageType values treated like BurnedInAnnotation YES.
    force : bool
        Read files without the DICOM preamble.
    progress : bool, optional
        Progress bar on stderr (default: only when stderr is a terminal).
    keep_records : bool
        Keep every record on the returned summary (``summary.records``).
    on_record : callable, optional
        Called with each record as it arrives.
    max_file_size : int or str or None
        Files (and archive members) larger than this are not read and are reported ``failed``
        with the reason; ``"512M"``, ``"4G"`` or a number of bytes; None or 0 for no limit.
        Default 2 GiB. Below the limit, big binary elements (Pixel Data) are copied from the
        input file in chunks rather than held in memory.
    expand_zip : bool
        Expand ``.zip`` inputs (each into its own temporary folder, removed at the end): the
        members are processed as files named ``<archive>!/<member>`` and written under a
        folder named after the archive (``study.zip`` -> ``OUTPUT/study/...``).
    max_archive_size : int or str or None
        Most bytes one archive may expand to (default 16 GiB).
    chunksize : int, optional
        Files sent to a worker process at a time (default: chosen from the number of files
        and workers).

    Returns
    -------
    RunSummary
        ``exit_code`` is 0 when every file was written or skipped, else 1.

    Raises
    ------
    RunnerError
        Bad inputs/outputs/options (nothing processed).
    deid.errors.RecipeError, deid.errors.PlanError, deid.errors.ProfileError
        Bad recipe or profile (nothing processed).

    Examples
    --------
    See the module docstring.
    """
    if plan is not None and not callable(getattr(plan, "apply", None)):
        if recipe is not None:
            raise RunnerError("give the recipe either as plan= or as recipe=, not both")
        plan, recipe = None, plan
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [os.fspath(inputs)]
    inputs = [os.fspath(i) for i in inputs]
    if existing not in EXISTING_MODES:
        raise RunnerError(f"existing={existing!r}: expected one of {', '.join(EXISTING_MODES)}")
    if resume and not report:
        raise RunnerError("resume needs the report of the interrupted run")
    conds = parse_conditions(conditions)
    if series_aggregate and not conds:
        raise RunnerError("series aggregation needs at least one save condition")
    if _claims_clean_pixels(options):
        if not pixels:
            raise RunnerError(
                "the clean-pixel-data option needs the pixel step: drop --no-pixels "
                "(pixels=False) or the option"
            )
        if accept_burned_in:
            raise RunnerError(
                "the clean-pixel-data option cannot be combined with --accept-burned-in "
                "(accept_burned_in=True): uncovered burned-in images would be marked clean"
            )
    filters: tuple[Any, ...] = ()
    screen = None
    if pixels:
        from deid.runner.screen import FilterScreen

        filters = _pixel_filters(pixel_recipe if pixel_recipe is not None else recipe)
        screen = FilterScreen.cached(filters)
        pixel_options = pixel_options_for(
            pixel_options,
            accept_burned_in=accept_burned_in,
            reject_blacklist=reject_blacklist,
            suspect_modalities=suspect_modalities,
            suspect_image_types=suspect_image_types,
        )
    if plan is None:
        plan = build_plan(recipe, profile, options, functions)
    if chunksize is not None and chunksize < 1:
        raise RunnerError(f"chunksize={chunksize}: must be at least 1")
    try:
        limit = parse_size(max_file_size)
        archive_limit = parse_size(max_archive_size)
    except ValueError as exc:
        raise RunnerError(str(exc)) from None
    expander = ArchiveExpander(max_member=limit, max_total=archive_limit) if expand_zip else None
    try:
        tasks = collect_tasks(inputs, output, pattern, archives=expander)
        if quarantine:
            check_output_location(inputs, quarantine)
            same = (
                not is_url(quarantine)
                and not is_url(output)
                and (os.path.realpath(quarantine) == os.path.realpath(output))
            )
            if same:
                raise RunnerError("the quarantine folder must differ from the output folder")
        input_set = {t.input for t in tasks}
        for path in (report, crosswalk):
            if path and os.path.realpath(path) in input_set:
                raise RunnerError(f"{path!r} is one of the inputs; it would be overwritten")

        key = _resolve_key(key, key_file)
        vars_abs: dict[str, Mapping[str, Any]] = {}
        for name, values in (variables or {}).items():
            vars_abs[name if name == "*" or is_url(name) else os.path.realpath(name)] = values
        spec = JobSpec(
            plan=plan,
            key=key,
            variables=vars_abs,
            conditions=conds,
            existing="overwrite" if resume and existing == "error" else existing,
            quarantine=quarantine,
            pixels=pixels,
            pixel_filters=filters,
            pixel_screen=screen,
            pixel_options=pixel_options,
            force=force,
            crosswalk=crosswalk is not None,
            max_file_size=limit,
        )
        executor = make_executor(spec, workers, scheduler, chunksize=chunksize)
        if getattr(executor, "pickles_spec", not isinstance(executor, SerialExecutor)):
            try:  # refused now, with a clear message, rather than in every worker
                pickle.dumps(spec)
            except Exception as exc:
                executor.close()
                raise RunnerError(
                    f"the plan cannot be sent to worker processes ({type(exc).__name__}: {exc}); "
                    "use module-level functions, or workers=1"
                ) from exc
        summary = RunSummary(
            report=report,
            key_source=getattr(key, "source", None),
            reproducible=getattr(key, "reproducible", True),
        )
        done: dict[str, dict[str, Any]] = {}
        if resume and report:
            done = load_done(report)
            remove_stale_temporaries(output)
            if quarantine:
                remove_stale_temporaries(quarantine)
        writer = ReportWriter(report, append=resume)
        xwalk = CrosswalkWriter(crosswalk, append=resume)
        bar = None
        try:
            executor.start()
            if series_aggregate:
                tasks = _series_blocks(executor, tasks)
            todo = []
            for task in tasks:
                prev = done.get(task.input)
                if prev is not None:
                    summary.add(prev)
                    summary.resumed += 1
                else:
                    todo.append(task)
            bar = _progress(progress, len(todo))
            for record in executor.imap("process", todo):
                writer.write(record)
                xwalk.write(record)
                summary.add(record)
                if keep_records:
                    summary.records.append(record)
                if on_record is not None:
                    on_record(record)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
            executor.close()
            writer.close()
            xwalk.close()
        return summary.finish()
    finally:
        if expander is not None:
            expander.cleanup()
