"""``verify(input, output)``: check a de-identified output set against its input set.

See :mod:`deid.verify` and ``docs/pages/verify.md`` for what is checked and the rules that
avoid false positives.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import pydicom
from pydicom import Dataset

from deid.errors import DeidError
from deid.verify.pairing import FileInfo, pair_files, read_crosswalk, read_report, signature
from deid.verify.report import FileReport, Finding, VerifyReport
from deid.verify.scan import find, header_bytes, probe
from deid.verify.values import (
    Needle,
    RetainSet,
    collect_needles,
    element_label,
    iter_elements,
    non_identifying_values,
    retain_from_options,
)

__all__ = ["REPORT_NAMES", "SIDECAR_SUFFIXES", "verify"]

#: Files in the output tree that are not DICOM outputs (reports, crosswalks, logs).
SIDECAR_SUFFIXES = (".json", ".jsonl", ".csv", ".log", ".txt", ".md", ".html")
#: Report files looked for in the output directory when none is given.
REPORT_NAMES = ("deid-report.jsonl", "report.jsonl", "deid_report.jsonl", "deid-run.jsonl")
_CROSSWALK_NAMES = ("crosswalk.csv", "deid-crosswalk.csv", "uid-crosswalk.csv")
_INSTANCE_KEYS = ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "FrameOfReferenceUID")


def _list_files(root: str) -> list[str]:
    if os.path.isfile(root):
        return [os.path.abspath(root)]
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            out.append(os.path.abspath(os.path.join(dirpath, name)))
    return out


def _rel(path: str, root: str) -> str:
    base = root if os.path.isdir(root) else os.path.dirname(root)
    return os.path.relpath(path, base)


def _read(path: str) -> Dataset:
    return pydicom.dcmread(path, force=True, defer_size="2 MB")


def _is_dicom(ds: Dataset) -> bool:
    return len(ds) > 0 and any(int(t) >> 16 not in (0x0002,) for t in ds.keys())  # noqa: SIM118 - Dataset iterates elements


def _flatten(ds: Dataset) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, elem, _ in iter_elements(ds):
        if elem.VR == "SQ":
            continue
        try:
            out[element_label(elem.tag, path)] = repr(elem.value)
        except Exception:  # noqa: BLE001
            out[element_label(elem.tag, path)] = "<unreadable>"
    return out


def _plan_differ(
    recipes: Iterable[str], profile: str | None, options: Iterable[str]
) -> Callable[[Dataset], set[str]] | None:
    """Build a function returning the labels a recipe/profile would change in a dataset."""
    recipes = list(recipes)
    if not recipes and not profile:
        return None
    try:
        from deid.engine import compile_plan
        from deid.recipe import load_recipe, stack
    except ImportError as exc:  # pragma: no cover - the engine ships with deid
        raise DeidError(f"deid verify: cannot evaluate the recipe/profile ({exc})") from exc
    parts = []
    if profile:
        from deid.profiles import profile_recipe

        parts.append(profile_recipe(profile, tuple(options)))
    parts.extend(load_recipe(r) for r in recipes)
    plan = compile_plan(stack(parts) if len(parts) > 1 else parts[0])

    def changed(ds: Dataset) -> set[str]:
        before = _flatten(ds)
        work = copy.deepcopy(ds)
        try:
            plan.apply(work)
        except Exception:  # noqa: BLE001 - the built-in categories still apply
            return set()
        after = _flatten(work)
        return {k for k, v in before.items() if after.get(k) != v}

    return changed


def _output_values(ds: Dataset) -> dict[str, list[str]]:
    """Label -> decoded text values of an output (lower-cased) for locating hits."""
    out: dict[str, list[str]] = {}
    for path, elem, _ in iter_elements(ds):
        if elem.VR == "SQ":
            continue
        try:
            value = elem.value
            if isinstance(value, bytes):
                text = value.decode("latin-1")
            elif isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
                text = "\\".join(str(v) for v in value)
            else:
                text = str(value)
        except Exception:  # noqa: BLE001, S112 - an undecodable value is in the raw scan
            continue
        label = element_label(elem.tag, path)
        if elem.tag >> 16 == 0x0002:
            label = "file meta " + label
        out.setdefault(label, []).append(text.lower())
    return out


def _locate(needle: Needle, values: dict[str, list[str]]) -> list[str]:
    key = needle.text.lower()
    hits = []
    for label, texts in values.items():
        for text in texts:
            if key in text and find(text.encode("utf-8", "replace"), _utf8(needle)):
                hits.append(label)
                break
    return hits


def _utf8(needle: Needle) -> Needle:
    return Needle(
        needle.text,
        needle.kind,
        needle.source,
        [needle.text.lower().encode("utf-8")],
        needle.boundary,
    )


def _uid_values(ds: Dataset) -> dict[str, str]:
    out = {}
    for key in _INSTANCE_KEYS:
        try:
            v = ds.get(key)
        except Exception:  # noqa: BLE001
            v = None
        if v:
            out[key] = str(v)
    return out


def verify(
    input: str,
    output: str,
    **kwargs: Any,
) -> VerifyReport:
    """Check that nothing identifying of ``input`` survives in ``output``.

    Parameters
    ----------
    input, output : str
        A file or a directory on each side.
    recipes : iterable of str, optional
        Recipe files the output was made with: the values of every element they change or
        remove are searched too (free text, site-specific fields).
    profile : str, optional
        A PS3.15 profile name (``basic``), evaluated the same way.
    options : iterable of str, optional
        PS3.15 options used (``retain-uids``, ``retain-full-dates`` ...): what they keep is not
        reported.
    report, crosswalk : str, optional
        A run report (JSON lines) or crosswalk (CSV) pairing inputs and outputs. Looked for
        next to and in the output directory when not given.
    require_markers : bool
        Report outputs without Patient Identity Removed = YES and a De-identification Method
        (default True).

    Returns
    -------
    VerifyReport
        ``.ok`` / ``.exit_code`` summarise; ``.to_json()`` and ``.render()`` show.

    Raises
    ------
    DeidError
        When ``input`` or ``output`` does not exist, or a recipe cannot be evaluated.

    Examples
    --------
    >>> import os, tempfile
    >>> from pydicom import Dataset
    >>> from pydicom.uid import generate_uid
    >>> d = tempfile.mkdtemp(); os.mkdir(f"{d}/in"); os.mkdir(f"{d}/out")
    >>> ds = Dataset(); ds.PatientName = "Doe^Jane"; ds.SOPInstanceUID = generate_uid()
    >>> ds.save_as(f"{d}/in/a.dcm", implicit_vr=False, little_endian=True)
    >>> ds.PatientName = "Anonymous"; ds.SOPInstanceUID = generate_uid()
    >>> ds.save_as(f"{d}/out/a.dcm", implicit_vr=False, little_endian=True)
    >>> verify(f"{d}/in", f"{d}/out", require_markers=False).ok
    True
    >>> ds.PatientName = "Jane Doe"; ds.save_as(f"{d}/out/a.dcm", implicit_vr=False)
    >>> sorted(f.value for f in verify(f"{d}/in", f"{d}/out", require_markers=False).files[0].leaks)
    ['Doe', 'Jane']
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's value warnings on hostile files are noise
        return _verify(input, output, **kwargs)


def _verify(
    input: str,
    output: str,
    *,
    recipes: Iterable[str] = (),
    profile: str | None = None,
    options: Iterable[str] = (),
    report: str | None = None,
    crosswalk: str | None = None,
    require_markers: bool = True,
) -> VerifyReport:
    for root in (input, output, report, crosswalk):
        if root is not None and not os.path.exists(root):
            raise DeidError(f"deid verify: {root}: no such file or directory")
    retain: RetainSet = retain_from_options(options)
    differ = _plan_differ(recipes, profile, options)
    result = VerifyReport(input=input, output=output)

    out_dir = output if os.path.isdir(output) else os.path.dirname(output)
    in_root = input if os.path.isdir(input) else os.path.dirname(input)
    if report is None:
        beside = os.path.realpath(output).rstrip(os.sep) + ".deid-report.jsonl"
        candidates = [beside] + [os.path.join(out_dir, n) for n in REPORT_NAMES]
        report = next((c for c in candidates if os.path.isfile(c)), None)
    if crosswalk is None:
        crosswalk = next(
            (
                os.path.join(out_dir, n)
                for n in _CROSSWALK_NAMES
                if os.path.isfile(os.path.join(out_dir, n))
            ),
            None,
        )
    report_pairs: dict[str, str] = {}
    rejected: dict[str, str] = {}
    uid_map: dict[str, str] = {}
    if report:
        report_pairs, rejected = read_report(report, in_root, out_dir)
    if crosswalk:
        paths, uid_map = read_crosswalk(crosswalk)
        for src, dst in paths.items():
            report_pairs.setdefault(
                os.path.normpath(os.path.join(in_root, src)),
                os.path.normpath(os.path.join(out_dir, dst)),
            )
    sidecars = {os.path.abspath(p) for p in (report, crosswalk) if p}

    inputs: dict[str, FileInfo] = {}
    datasets_in: dict[str, Dataset] = {}
    for path in _list_files(input):
        try:
            parsed, digest = probe(path)
            if not parsed:
                raise ValueError("not a DICOM file")
            ds = _read(path)
            if not _is_dicom(ds):
                raise ValueError("no DICOM elements")
        except Exception as exc:  # noqa: BLE001 - an unreadable input is skipped, not lost
            result.skipped_inputs[path] = f"{type(exc).__name__}: {exc}"[:200]
            continue
        datasets_in[path] = ds
        inputs[path] = _info(path, _rel(path, input), ds, digest)

    outputs: dict[str, FileInfo] = {}
    datasets_out: dict[str, Dataset | None] = {}
    for path in _list_files(output):
        if path in sidecars or path.lower().endswith(SIDECAR_SUFFIXES):
            continue
        if ".deid-tmp-" in os.path.basename(path):
            result.problems.append(
                Finding("partial_output", "temporary file left by a run", "file", "", path)
            )
        try:
            parsed, digest = probe(path)
            ds = _read(path)
            if not parsed or not _is_dicom(ds):
                raise ValueError("not a DICOM file")
            datasets_out[path] = ds
            outputs[path] = _info(path, _rel(path, output), ds, digest)
        except Exception as exc:  # noqa: BLE001 - still scanned byte by byte
            datasets_out[path] = None
            outputs[path] = FileInfo(path, _rel(path, output), error=f"{type(exc).__name__}: {exc}")

    pairing = pair_files(
        inputs, outputs, report_pairs=report_pairs, rejected=rejected, uid_map=uid_map
    )
    result.rejected = {p: why for p, why in pairing.rejected.items()}
    values_of: dict[str, dict[str, list[str]]] = {}

    def values(path: str, ds: Dataset | None) -> dict[str, list[str]]:
        if path not in values_of:
            values_of[path] = _output_values(ds) if ds is not None else {}
        return values_of[path]

    constants = _generated_constants(pairing.pairs, datasets_in, datasets_out, values)

    all_needles: dict[tuple[str, str], Needle] = {}
    for src, dst in sorted(pairing.pairs.items()):
        ds_in = datasets_in[src]
        ds_out = datasets_out.get(dst)
        fr = FileReport(src, dst, pairing.method.get(src, "?"))
        result.files.append(fr)
        extra = differ(ds_in) if differ else set()
        removed_private = None
        if retain.safe_private:
            flat_out = _flatten(ds_out) if ds_out is not None else {}
            removed_private = {k for k, v in _flatten(ds_in).items() if flat_out.get(k) != v}
        needles = collect_needles(ds_in, retain, extra_keys=extra, removed_private=removed_private)
        fr.needles = len(needles)
        for n in needles:
            all_needles.setdefault((n.text.lower(), n.kind), n)
        if ds_out is None:
            fr.error = outputs[dst].error
        _scan_pair(fr, ds_in, values(dst, ds_out), needles, constants)
        if require_markers and ds_out is not None:
            _check_markers(fr, ds_out)
        _check_burned_in(fr, ds_in, inputs[src], outputs[dst])

    for src in sorted(inputs):
        if src not in pairing.pairs and src not in pairing.rejected:
            result.lost.append(src)
    paired_out = set(pairing.pairs.values())
    union = list(all_needles.values()) or [
        n for p in sorted(datasets_in) for n in collect_needles(datasets_in[p], retain)
    ]
    for dst in sorted(outputs):
        if dst in paired_out:
            continue
        result.unpaired_outputs.append(dst)
        fr = FileReport("", dst, "unpaired")
        _scan_pair(fr, None, values(dst, datasets_out.get(dst)), union, set())
        if fr.leaks:
            result.files.append(fr)

    _check_references(result, pairing.pairs, datasets_in, datasets_out, uid_map)
    return result


def _info(path: str, rel: str, ds: Dataset, digest: str | None) -> FileInfo:
    try:
        sop = str(ds.get("SOPInstanceUID") or "") or None
    except Exception:  # noqa: BLE001
        sop = None
    geometry: tuple[Any, ...] | None = signature(ds)
    if sum(v is not None and v != () for v in geometry or ()) < 4:
        geometry = None
    try:
        sop_class = str(ds.get("SOPClassUID", "") or "") or None
        instance = tuple(
            str(ds.get(k, ""))
            for k in ("SOPClassUID", "Modality", "SeriesNumber", "InstanceNumber")
        )
    except Exception:  # noqa: BLE001 - undecodable values: no content pairing
        sop_class, instance = None, ()
    return FileInfo(
        path, rel, None, sop, digest, geometry, None, sop_class, instance if sop_class else None
    )


def _generated_constants(
    pairs: dict[str, str],
    ins: dict[str, Dataset],
    outs: dict[str, Dataset | None],
    values: Callable[[str, Dataset | None], dict[str, list[str]]],
) -> set[tuple[str, str]]:
    """(label, value) that the tool wrote identically into 2+ outputs with differing inputs."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for src, dst in pairs.items():
        ds_out = outs.get(dst)
        if ds_out is None:
            continue
        before = values(src, ins[src])
        for label, texts in values(dst, ds_out).items():
            for text in texts:
                if text and text not in before.get(label, []):
                    seen[(label, text)].add(src)
    return {k for k, srcs in seen.items() if len(srcs) >= 2}


def _scan_pair(
    fr: FileReport,
    ds_in: Dataset | None,
    values: dict[str, list[str]],
    needles: list[Needle],
    constants: set[tuple[str, str]],
) -> None:
    hb = header_bytes(fr.output)
    hay = hb.data.lower()
    kept = non_identifying_values(ds_in, needles) if ds_in is not None else set()
    for needle in needles:
        offsets = find(hay, needle)
        if not offsets:
            continue
        labels = _locate(needle, values)
        in_preamble = [o for o in offsets if o < hb.preamble_end]
        locations = list(labels) + (["preamble"] if in_preamble else [])
        if not locations:
            locations = [f"bytes @{offsets[0]}" + ("" if hb.parsed else " (unparsed file)")]
        explained = (
            labels
            and not in_preamble
            and all(any((label, t) in constants for t in values.get(label, [])) for label in labels)
        )
        finding = Finding("leak", needle.text, needle.kind, needle.source, ", ".join(locations))
        coincidence = (
            needle.kind in ("name", "removed", "free_text") and needle.text.lower() in kept
        )
        if coincidence or explained:
            finding.kind = "ambiguous"
            fr.ambiguous.append(finding)
        else:
            fr.leaks.append(finding)


def _check_burned_in(fr: FileReport, ds_in: Dataset, src: FileInfo, dst: FileInfo) -> None:
    """An input flagged Burned In Annotation YES released with the very same Pixel Data."""
    try:
        flag = str(ds_in.get("BurnedInAnnotation", "")).strip().upper()
    except Exception:  # noqa: BLE001
        flag = ""
    if flag == "YES" and src.digest and src.digest == dst.digest:
        fr.problems.append(
            Finding(
                "burned_in",
                "input has Burned In Annotation YES; output Pixel Data is unchanged",
                "pixels",
                "(0028,0301) BurnedInAnnotation",
                "(7FE0,0010) PixelData",
            )
        )


def _check_markers(fr: FileReport, ds: Dataset) -> None:
    try:
        removed = str(ds.get("PatientIdentityRemoved", "")).strip().upper()
    except Exception:  # noqa: BLE001
        removed = ""
    if removed != "YES":
        fr.problems.append(
            Finding(
                "missing_marker",
                "PatientIdentityRemoved is not YES",
                "marker",
                "",
                "(0012,0062) PatientIdentityRemoved",
            )
        )
    try:
        method = ds.get("DeidentificationMethod") or ds.get("DeidentificationMethodCodeSequence")
    except Exception:  # noqa: BLE001
        method = None
    if not method:
        fr.problems.append(
            Finding(
                "missing_marker",
                "no De-identification Method",
                "marker",
                "",
                "(0012,0063) DeidentificationMethod",
            )
        )


def _check_references(
    result: VerifyReport,
    pairs: dict[str, str],
    ins: dict[str, Dataset],
    outs: dict[str, Dataset | None],
    uid_map: dict[str, str],
) -> None:
    mapping: dict[str, dict[str, set[str]]] = {k: defaultdict(set) for k in _INSTANCE_KEYS}
    for src, dst in pairs.items():
        ds_out = outs.get(dst)
        if ds_out is None:
            continue
        a, b = _uid_values(ins[src]), _uid_values(ds_out)
        for key in _INSTANCE_KEYS:
            if key in a and key in b:
                mapping[key][a[key]].add(b[key])
    forward: dict[str, str] = {}
    for key, table in mapping.items():
        reverse: dict[str, set[str]] = defaultdict(set)
        for old, news in table.items():
            if len(news) > 1:
                result.problems.append(
                    Finding(
                        "uid_inconsistent",
                        f"{key} {old} became {len(news)} different UIDs",
                        "uid",
                        key,
                        "output set",
                    )
                )
            for new in news:
                reverse[new].add(old)
            forward[old] = min(news)
        for new, olds in reverse.items():
            if len(olds) > 1:
                result.problems.append(
                    Finding(
                        "uid_inconsistent",
                        f"{len(olds)} different {key}s became {new}",
                        "uid",
                        key,
                        "output set",
                    )
                )
    forward.update({k: v for k, v in uid_map.items() if k not in forward})
    for src, dst in sorted(pairs.items()):
        ds_out = outs.get(dst)
        if ds_out is None:
            continue
        fr = next(f for f in result.files if f.input == src)
        out_flat = {}
        for path, elem, _ in iter_elements(ds_out):
            if elem.VR == "UI" and path:
                out_flat[element_label(elem.tag, path)] = str(elem.value)
        for path, elem, _ in iter_elements(ins[src]):
            if elem.VR != "UI" or not path:
                continue
            old = str(elem.value)
            if old not in forward:
                continue  # the reference did not resolve in the input set either
            label = element_label(elem.tag, path)
            now = out_flat.get(label)
            if now is not None and now != forward[old]:
                fr.problems.append(
                    Finding(
                        "broken_reference",
                        f"{label} is {now}, expected {forward[old]}",
                        "uid",
                        label,
                        label,
                    )
                )
