"""Where the distribution tests find their documents in the shared corpus."""

from __future__ import annotations

import json
from pathlib import Path

NORWEGIAN_EXAMPLE = "supplement/docs/004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"
CREDIT_NOTE_EXAMPLE = "docs/08e0ad82-rules_examples_base-creditnote-correction.xml"
NORWEGIAN_CREDIT_NOTE = "supplement/docs/d8231db5-ing-3.0_guide_example_energy_Creditnote_EHF3.0_forward-billing-nettleie-corporate_v2.0.xml"  # noqa: E501
SBDH_INVOICE = (
    "supplement/docs/744712e0-peppol-testfiles_src_main_resources_external_sbdh_good_good-bis3-full.xml"
)
THOUSAND_LINES = "perf/ehf-no-invoice-1000-lines.xml"


def corpus_files(corpus: Path) -> list[Path]:
    """Every document of the corpus: main, supplement and perf, in a stable order."""
    files = [corpus / case["file"] for case in json.loads((corpus / "cases.json").read_text())]
    supplement = corpus / "supplement"
    files += [supplement / case["file"] for case in json.loads((supplement / "cases.json").read_text())]
    files += sorted((corpus / "perf").glob("*.xml"))
    return files
