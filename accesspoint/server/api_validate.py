"""``POST /api/v1/validate``: an XML document in, its validation report out.

The validation service observes every report for the metrics, so this handler counts nothing itself.
"""

from __future__ import annotations

from aiohttp import web

from accesspoint.server.keys import VALIDATION
from accesspoint.server.problems import problem
from accesspoint.validation.setup import ValidationUnavailable
from accesspoint.xml import XMLError, XMLSizeError

XML_TYPES = frozenset({"application/xml", "text/xml"})


def is_xml_content_type(content_type: str) -> bool:
    return content_type in XML_TYPES or (
        content_type.startswith("application/") and content_type.endswith("+xml")
    )


async def validate(request: web.Request) -> web.Response:
    if not is_xml_content_type(request.content_type):
        detail = f"send the document as application/xml, not {request.content_type!r}"
        return problem(415, "Unsupported Media Type", detail, code="unsupported-media-type")
    body = await request.read()
    try:
        report = await request.app[VALIDATION].validate(body, name=request.query.get("name"))
    except XMLSizeError as exc:
        return problem(413, "Payload Too Large", str(exc), code=exc.code)
    except XMLError as exc:
        return problem(400, "Not acceptable XML", str(exc), code=exc.code, line=exc.line)
    except ValidationUnavailable as exc:
        return problem(503, "Validation unavailable", str(exc), code="artifacts-not-installed")
    return web.json_response(report.to_dict())
