"""Session-wide PKIs (keys are generated at test time, never stored) and a standard message."""

from __future__ import annotations

import pytest

from accesspoint.as4 import AnchorTrust, OutboundMessage, Submission, build_user_message
from accesspoint.pki import Credentials, DevPki, create_dev_pki
from tests.as4.helpers import DOC_TYPE, PROCESS, sbdh

SENDER = "POP000001"
RECEIVER = "POP000002"
OTHER = "POP000003"


@pytest.fixture(scope="session")
def pki() -> DevPki:
    return create_dev_pki((SENDER, RECEIVER, OTHER))


@pytest.fixture(scope="session")
def foreign_pki() -> DevPki:
    """Same seat ids, another root: certificates from a CA nobody configured."""
    return create_dev_pki((SENDER,), name="Foreign")


@pytest.fixture(scope="session")
def sender(pki: DevPki) -> Credentials:
    return pki.ap(SENDER)


@pytest.fixture(scope="session")
def receiver(pki: DevPki) -> Credentials:
    return pki.ap(RECEIVER)


@pytest.fixture(scope="session")
def trust(pki: DevPki) -> AnchorTrust:
    return AnchorTrust(pki.anchors, pki.intermediates)


def submission(**changes: str) -> Submission:
    values = {
        "from_party": SENDER,
        "to_party": RECEIVER,
        "original_sender": "0192:810418052",
        "final_recipient": "iso6523-actorid-upis::0192:991825827",
        "document_type": DOC_TYPE,
        "process": PROCESS,
    }
    values.update(changes)
    return Submission(**values)


@pytest.fixture(scope="session")
def payload() -> bytes:
    return sbdh(20_000)


@pytest.fixture(scope="session")
def message(sender: Credentials, receiver: Credentials, payload: bytes) -> OutboundMessage:
    return build_user_message(submission(), payload, signer=sender, receiver_certificate=receiver.certificate)
