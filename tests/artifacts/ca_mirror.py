"""A mirror of the optional ``peppol-ca`` group made from the corpus copies of the OpenPeppol CA files.

The corpus names each file ``<year>_<upstream name>``; the manifest pins it as ``.../<upstream name>``
with ``version`` = year, so the corpus file of an entry is found without naming any file here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from accesspoint.artifacts import Manifest

GROUP = "peppol-ca"


def corpus_pki(corpus: Path) -> Path:
    return corpus / "as4" / "pki"


def build_ca_mirror(target: Path, manifest: Manifest, corpus: Path) -> Path:
    """Copy every ``peppol-ca`` file of ``manifest`` from the corpus to ``target`` laid out by ``file``."""
    group = manifest.optional_groups()[GROUP]
    for artifact in group.artifacts:
        source = corpus_pki(corpus) / f"{artifact.version}_{Path(artifact.file).name}"
        destination = target / artifact.file
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    return target
