"""The OpenPeppol CA certificates by network mode, from the pinned artifacts (``peppol-ca`` group).

Each certificate is pinned in the manifest by sha256 with labels ``mode`` (test/production),
``generation`` (G2/G3) and ``role`` (root/ap/smp), so no file name appears in code. Loading checks
that each AP and SMP CA is really signed by the root of its own mode and generation.

Generations: G3 (2025-2035) always; G2 (2018-2028) by default too, because AP certificates issued
under G2 are still in use on the network until they expire (a receiver in a phase4 dump from 2026
still had one). G2 then stops on its own: its CA certificates expire in January 2028 and the date
check refuses them. Pass ``generations=("G3",)`` to drop G2 earlier, as peppol-commons' 2025 stores do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from cryptography import x509

from accesspoint.artifacts import ArtifactsError, Manifest, installed_group
from accesspoint.pki.chain import IssuingCA, Purpose, describe, issued_by
from accesspoint.pki.credentials import load_certificates

GROUP = "peppol-ca"
Mode = Literal["test", "production"]
Generation = Literal["G2", "G3"]
Role = Literal["root", "ap", "smp"]
DEFAULT_GENERATIONS: tuple[Generation, ...] = ("G2", "G3")


class PeppolCAUnavailable(RuntimeError):
    """The pinned Peppol CA certificates are not installed (or unusable); the message says what to do."""


@dataclass(frozen=True, slots=True)
class PeppolCA:
    certificate: x509.Certificate
    mode: Mode
    generation: Generation
    role: Role

    @property
    def name(self) -> str:
        return describe(self.certificate)


def _label(labels: dict[str, str], key: str, allowed: tuple[str, ...], file: str) -> str:
    value = labels.get(key)
    if value not in allowed:
        raise PeppolCAUnavailable(f"{file}: manifest label {key}={value!r}, expected one of {allowed}")
    return value


def read_peppol_cas(group: Manifest, root: Path) -> list[PeppolCA]:
    """Every certificate of an installed ``peppol-ca`` group, with its labels."""
    cas: list[PeppolCA] = []
    for artifact in group.artifacts:
        labels = dict(artifact.labels)
        mode = _label(labels, "mode", get_args(Mode), artifact.file)
        generation = _label(labels, "generation", get_args(Generation), artifact.file)
        role = _label(labels, "role", get_args(Role), artifact.file)
        try:
            certificates = load_certificates((root / artifact.file).read_bytes())
        except (OSError, ValueError) as exc:
            raise PeppolCAUnavailable(f"{artifact.file}: cannot read the certificate: {exc}") from exc
        if len(certificates) != 1:
            raise PeppolCAUnavailable(f"{artifact.file}: expected one certificate, found {len(certificates)}")
        cas.append(PeppolCA(certificates[0], mode, generation, role))  # type: ignore[arg-type]
    return cas


def peppol_issuers(
    cas: Iterable[PeppolCA], mode: Mode, generations: Iterable[Generation] = DEFAULT_GENERATIONS
) -> list[IssuingCA]:
    """The AP and SMP CAs of ``mode`` in ``generations``, each tied to its verified root."""
    wanted = set(generations)
    selected = [ca for ca in cas if ca.mode == mode and ca.generation in wanted]
    issuers: list[IssuingCA] = []
    for ca in selected:
        if ca.role == "root":
            continue
        roots = [r for r in selected if r.role == "root" and r.generation == ca.generation]
        root = next((r for r in roots if issued_by(ca.certificate, r.certificate)), None)
        if root is None:
            raise PeppolCAUnavailable(f"{ca.name} is not signed by the Peppol {mode} root {ca.generation}")
        purpose: Purpose = "ap" if ca.role == "ap" else "smp"
        origin = f"Peppol {mode} {ca.generation}"
        issuers.append(IssuingCA(ca.certificate, root.certificate, frozenset({purpose}), origin))
    return issuers


def installed_peppol_issuers(
    cache_dir: Path,
    mode: Mode,
    generations: Iterable[Generation] = DEFAULT_GENERATIONS,
    manifest: Manifest | None = None,
) -> list[IssuingCA]:
    """The Peppol issuing CAs of ``mode`` from the artifact cache, or :class:`PeppolCAUnavailable`."""
    try:
        found = installed_group(cache_dir, GROUP, manifest)
    except ArtifactsError as exc:
        raise PeppolCAUnavailable(f"the artifact manifest is unusable: {exc}") from exc
    if found is None:
        raise PeppolCAUnavailable(
            f"the Peppol CA certificates ({GROUP}) are not installed in {cache_dir}: run "
            "'ehfgate artifacts fetch' with network access or a mirror that holds them"
        )
    group, root = found
    issuers = peppol_issuers(read_peppol_cas(group, root), mode, generations)
    if not issuers:
        raise PeppolCAUnavailable(f"no Peppol {mode} CA of generation {'/'.join(generations)} is pinned")
    return issuers
