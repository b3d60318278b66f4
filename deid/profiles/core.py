"""An API in the shape idiscore users know, built on deid's engine.

``get_dicom_rule_sets()`` lists the Basic Profile and each option as a rule set;
``Profile(rule_sets=[...])`` chooses some; ``Core(profile)`` compiles them once (through
:func:`deid.profiles.profile_plan`, i.e. the ordinary engine) and ``core.deidentify(ds)``
de-identifies one dataset in place and returns it. ``create_default_core()`` makes a core with
deid's default choice of options.

Examples
--------
>>> from pydicom import Dataset
>>> sets = get_dicom_rule_sets()
>>> profile = Profile(rule_sets=[sets.basic_profile, sets.retain_modified_dates,
...                              sets.retain_device_id])
>>> profile.options
('retain-device-identity', 'retain-long-modified-dates')
>>> core = Core(profile, key="an example key, not secret")
>>> ds = Dataset(); ds.PatientName = "Doe^Jane"; ds.PatientID = "123"
>>> ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"; ds.SOPInstanceUID = "1.2.3.4"
>>> ds = core.deidentify(ds)
>>> ds.PatientID != "123" and ds.SOPInstanceUID.startswith("2.25.")
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deid.errors import ProfileError, RejectedError
from deid.profiles.compose import normalize_options
from deid.profiles.private import SafePrivateDefinition
from deid.profiles.table import DEFAULT_EDITION, load_table

__all__ = [
    "DEFAULT_OPTIONS",
    "Core",
    "DICOMRuleSets",
    "Profile",
    "RuleSet",
    "create_default_core",
    "get_dicom_rule_sets",
]

#: Options of :func:`create_default_core` (clean-pixel-data is added with a location list).
DEFAULT_OPTIONS: tuple[str, ...] = (
    "retain-safe-private",
    "retain-long-modified-dates",
    "retain-device-identity",
    "retain-patient-characteristics",
    "clean-descriptors",
)


@dataclass(frozen=True)
class RuleSet:
    """The Basic Profile (``option`` None) or one option, as a selectable rule set.

    Attributes
    ----------
    name : str
        ``Basic Profile`` or the option's title.
    option : str or None
        The option id (None for the Basic Profile).
    code : str
        The CID 7050 code.
    """

    name: str
    option: str | None
    code: str

    def __str__(self) -> str:
        return self.name


class DICOMRuleSets:
    """The rule sets of PS3.15 Annex E (attributes in idiscore's naming, plus aliases).

    Examples
    --------
    >>> s = get_dicom_rule_sets()
    >>> s.retain_uid.option, s.retain_modified_dates is s.retain_long_modified_dates
    ('retain-uids', True)
    """

    def __init__(self, edition: str = DEFAULT_EDITION):
        table = load_table(edition)
        self.edition = table.edition
        code, _scheme, meaning = table.profile_code
        self.basic_profile = RuleSet(meaning, None, code)
        made = {oid: RuleSet(info.title, oid, info.code) for oid, info in table.options.items()}
        self.retain_safe_private = made["retain-safe-private"]
        self.retain_uid = made["retain-uids"]
        self.retain_device_id = made["retain-device-identity"]
        self.retain_institution_id = made["retain-institution-identity"]
        self.retain_patient_chars = made["retain-patient-characteristics"]
        self.retain_long_full_dates = made["retain-long-full-dates"]
        self.retain_long_modified_dates = made["retain-long-modified-dates"]
        self.clean_descriptors = made["clean-descriptors"]
        self.clean_structured_content = made["clean-structured-content"]
        self.clean_graphics = made["clean-graphics"]
        self.clean_pixel_data = made["clean-pixel-data"]
        self.clean_recognizable_visual_features = made["clean-recognizable-visual-features"]
        # aliases
        self.retain_uids = self.retain_uid
        self.retain_full_dates = self.retain_long_full_dates
        self.retain_modified_dates = self.retain_long_modified_dates
        self.retain_device_identity = self.retain_device_id
        self.retain_institution_identity = self.retain_institution_id
        self.retain_patient_characteristics = self.retain_patient_chars
        self.clean_pixel = self.clean_pixel_data
        self.clean_structured = self.clean_structured_content
        self.clean_desc = self.clean_descriptors

    @property
    def all(self) -> list[RuleSet]:
        """The Basic Profile followed by every option."""
        return [self.basic_profile] + [
            getattr(self, n)
            for n in (
                "retain_safe_private",
                "retain_uid",
                "retain_device_id",
                "retain_institution_id",
                "retain_patient_chars",
                "retain_long_full_dates",
                "retain_long_modified_dates",
                "clean_descriptors",
                "clean_structured_content",
                "clean_graphics",
                "clean_pixel_data",
                "clean_recognizable_visual_features",
            )
        ]

    def get_sets(self) -> list[RuleSet]:
        """Same as :attr:`all`."""
        return self.all


def get_dicom_rule_sets(edition: str = DEFAULT_EDITION) -> DICOMRuleSets:
    """The Basic Profile and every option as rule sets.

    Examples
    --------
    >>> get_dicom_rule_sets().basic_profile.code
    '113100'
    """
    return DICOMRuleSets(edition)


class Profile:
    """A choice of rule sets: the Basic Profile plus options.

    Parameters
    ----------
    rule_sets : iterable of RuleSet or str
        Rule sets from :func:`get_dicom_rule_sets` (option ids as strings are accepted too).
        The Basic Profile is always in force (options modify it); listing it is optional.

    Raises
    ------
    ProfileError
        Unknown option or conflicting options (both longitudinal date options).
    """

    def __init__(self, rule_sets: Iterable[RuleSet | str] = ()):
        self.rule_sets = list(rule_sets)
        names = []
        for rs in self.rule_sets:
            if isinstance(rs, RuleSet):
                if rs.option is not None:
                    names.append(rs.option)
            elif str(rs).lower() not in ("basic", "basic_profile", "basic-profile"):
                names.append(str(rs))
        self.options: tuple[str, ...] = normalize_options(names)

    def __repr__(self) -> str:
        return f"Profile(options={list(self.options)!r})"


class Core:
    """Compiles a :class:`Profile` once and de-identifies datasets with it.

    Parameters
    ----------
    profile : Profile
        The rule sets.
    location_list : PIILocationList, optional
        Known burned-in PII locations (``deid.pixels.locations``); matching areas are blanked
        by :func:`deid.pixels.process.process_pixels` before the header rules run. A dataset
        flagged Burned In Annotation ``YES`` that no location covers is rejected
        (``RejectedError``), unchanged.
    safe_private_definition : SafePrivateDefinition, optional
        Private tags to keep (with the Retain Safe Private option); default Table E.3.10-1.
    key : str, bytes or Key, optional
        Secret key for keyed pseudonyms (default ``$DEID_KEY``, else a random key:
        ``core.reproducible`` is then False).
    recipes : Recipe or sequence of Recipe, optional
        Site recipes applied on top of the profile.
    lookup : mapping, optional
        ``original -> pseudonym`` pairs preferred over keyed pseudonyms.
    """

    def __init__(
        self,
        profile: Profile,
        location_list: Any = None,
        safe_private_definition: SafePrivateDefinition | None = None,
        key: Any = None,
        recipes: Any = None,
        lookup: Mapping[str, str] | None = None,
        record_crosswalk: bool = False,
        edition: str = DEFAULT_EDITION,
        bouncers: Sequence[Any] | None = None,
    ):
        from deid.engine.keys import load_key
        from deid.profiles.api import profile_plan

        if not isinstance(profile, Profile):
            raise ProfileError(f"Core needs a Profile, got {type(profile).__name__}")
        self.profile = profile
        self.location_list = location_list
        self.safe_private_definition = safe_private_definition
        self.bouncers = list(bouncers or [])
        self.key = load_key(key)
        self.lookup = dict(lookup or {})
        self.record_crosswalk = record_crosswalk
        self.plan = profile_plan("basic", profile.options, recipes=recipes, edition=edition)
        self.uid_map: dict[str, str] = {}
        self.date_offsets: dict[str, int] = {}
        self.crosswalk: dict[tuple[str, str], str] = {}

    @property
    def reproducible(self) -> bool:
        """False when the key is random (pseudonyms cannot be reproduced by another run)."""
        return bool(self.key.reproducible)

    def context(self, filename: str | None = None) -> Any:
        """A fresh per-dataset :class:`~deid.engine.context.Context` sharing this core's maps."""
        from deid.engine.context import Context

        extra: dict[str, Any] = {"ps315_lookup": self.lookup}
        if self.safe_private_definition is not None:
            extra["ps315_safe_private"] = self.safe_private_definition
        if self.record_crosswalk:
            extra["ps315_record"] = True
            extra["ps315_crosswalk"] = self.crosswalk
        return Context(
            key=self.key,
            uid_map=self.uid_map,
            date_offsets=self.date_offsets,
            filename=filename,
            extra=extra,
        )

    def _pixels(self, ds: Any) -> Any:
        """Run the pixel step (PII locations); reject what cannot be made safe."""
        burned = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
        if self.location_list is None and burned != "YES":
            return None
        where = getattr(ds, "filename", None) or "dataset"
        if "PixelData" not in ds:
            return None
        from deid.pixels.process import process_pixels

        outcome = process_pixels(ds, None, locations=self.location_list)
        if outcome.status == "rejected":
            raise RejectedError(f"{where}: {outcome.reason}")
        return outcome

    def deidentify(self, dataset: Any) -> Any:
        """De-identify ``dataset`` in place and return it.

        Raises
        ------
        RejectedError
            Burned-in annotation without a matching PII location, or a bouncer refused it.
        """
        for bouncer in self.bouncers:
            check = getattr(bouncer, "inspect", None) or bouncer
            check(dataset)
        self._pixels(dataset)
        self.plan.apply(dataset, self.context(getattr(dataset, "filename", None)))
        return dataset


def create_default_core(
    safe_private_definition: SafePrivateDefinition | None = None,
    location_list: Any = None,
    key: Any = None,
    **kwargs: Any,
) -> Core:
    """A :class:`Core` with deid's default options.

    Basic Profile + Retain Safe Private + Retain Longitudinal Modified Dates + Retain Device
    Identity + Retain Patient Characteristics + Clean Descriptors; Clean Pixel Data is added
    (and claimed in the markers) when a ``location_list`` is given.

    Examples
    --------
    >>> core = create_default_core(key="an example key, not secret")
    >>> "retain-safe-private" in core.profile.options
    True
    """
    options = list(DEFAULT_OPTIONS)
    if location_list is not None:
        options.append("clean-pixel-data")
    return Core(
        Profile(rule_sets=options),
        location_list=location_list,
        safe_private_definition=safe_private_definition,
        key=key,
        **kwargs,
    )
