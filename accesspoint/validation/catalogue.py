"""What the manifest says about validation: schemas per root, rule sets, and profiles.

All of it is data from ``schemas/artifacts.json`` so that a new Peppol release (new XSLT files,
changed CustomizationIDs, excluded rules) is a manifest change and never a code change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class CatalogueError(ValueError):
    """The manifest's validation section is malformed."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    name: str
    title: str
    file: str


@dataclass(frozen=True, slots=True)
class Profile:
    """A specification a document claims through its CustomizationID (matched as a prefix)."""

    name: str
    title: str
    roots: tuple[str, ...]
    customization: str
    rulesets: tuple[str, ...]
    excluded_rules: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Withdrawn:
    customization_prefix: str
    title: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    release: str
    schemas: Mapping[str, str]
    rulesets: Mapping[str, RuleSet]
    profiles: tuple[Profile, ...]
    fallback: Mapping[str, tuple[str, ...]]
    withdrawn: tuple[Withdrawn, ...]

    def profile_for(self, root: str, customization_id: str | None) -> Profile | None:
        """The most specific profile whose CustomizationID prefixes the document's."""
        if not customization_id:
            return None
        matches = [
            p for p in self.profiles if root in p.roots and customization_id.startswith(p.customization)
        ]
        return max(matches, key=lambda p: len(p.customization), default=None)

    def withdrawn_for(self, customization_id: str | None) -> Withdrawn | None:
        if not customization_id:
            return None
        return next((w for w in self.withdrawn if customization_id.startswith(w.customization_prefix)), None)

    @property
    def files(self) -> tuple[str, ...]:
        """Every artifact file validation reads (for readiness checks)."""
        return (*self.schemas.values(), *(r.file for r in self.rulesets.values()))


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise CatalogueError(f"{where}.{key} must be a non-empty string")
    return value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogueError(f"{where} must be a list of strings")
    return tuple(value)


def parse_catalogue(release: str, section: Mapping[str, Any]) -> Catalogue:
    """Build the catalogue from the manifest's ``validation`` section, checking cross references."""
    schemas = section.get("schemas")
    if not isinstance(schemas, dict) or not all(isinstance(v, str) for v in schemas.values()):
        raise CatalogueError("validation.schemas must map root element names to files")
    raw_rulesets = section.get("rulesets")
    if not isinstance(raw_rulesets, dict) or not raw_rulesets:
        raise CatalogueError("validation.rulesets must be a non-empty table")
    rulesets = {
        name: RuleSet(name, _str(spec, "title", f"rulesets.{name}"), _str(spec, "file", f"rulesets.{name}"))
        for name, spec in raw_rulesets.items()
    }
    profiles = []
    for i, spec in enumerate(section.get("profiles", [])):
        where = f"validation.profiles[{i}]"
        profile = Profile(
            name=_str(spec, "name", where),
            title=_str(spec, "title", where),
            roots=_names(spec.get("roots"), f"{where}.roots"),
            customization=_str(spec, "customization", where),
            rulesets=_names(spec.get("rulesets"), f"{where}.rulesets"),
            excluded_rules=frozenset(_names(spec.get("excluded_rules", []), f"{where}.excluded_rules")),
        )
        profiles.append(profile)
    fallback = {
        root: _names(names, f"validation.fallback.{root}")
        for root, names in section.get("fallback", {}).items()
    }
    for owner, names in [(p.name, p.rulesets) for p in profiles] + list(fallback.items()):
        unknown = [n for n in names if n not in rulesets]
        if unknown:
            raise CatalogueError(f"{owner} names unknown rule sets: {', '.join(unknown)}")
    withdrawn = tuple(
        Withdrawn(
            _str(w, "customization_prefix", "validation.withdrawn"), _str(w, "title", "validation.withdrawn")
        )
        for w in section.get("withdrawn", [])
    )
    return Catalogue(release, dict(schemas), rulesets, tuple(profiles), fallback, withdrawn)
