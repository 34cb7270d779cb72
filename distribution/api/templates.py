"""``/api/v1/distribution/templates``: the tenant's e-mail templates, per name and language.

A template is checked when saved (:func:`distribution.templates.check_template`): an unknown merge
field, an unsafe construct, a syntax error or a template that does not render with sample values is
refused with 422 and names the part, line and construct. The built-in ``invoice`` templates answer
where the tenant has saved none.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from accesspoint.server.keys import STORE, TENANT
from accesspoint.server.problems import problem
from distribution.api.runs import json_object, unprocessable
from distribution.methods.email import TEMPLATE_NAME
from distribution.render.design import LANGUAGES, Language
from distribution.storage.templates import (
    StoredTemplate,
    delete_template,
    get_template,
    list_templates,
    save_template,
)
from distribution.templates import (
    CATALOGUE,
    DEFAULT_NAME,
    EmailTemplate,
    TemplateRefused,
    check_template,
    default_template,
)

routes = web.RouteTableDef()

PARTS = ("subject", "html", "text")


def _not_found(name: str, language: str) -> web.Response:
    return problem(404, "Not Found", f"no template {name!r} in {language}", code="not-found")


def _template_json(
    name: str, language: str, template: EmailTemplate, updated_at: float | None
) -> dict[str, Any]:
    return {
        "name": name,
        "language": language,
        "subject": template.subject,
        "html": template.html,
        "text": template.text,
        "source": "tenant" if updated_at is not None else "built-in",
        "updated_at": updated_at,
    }


def _stored_json(stored: StoredTemplate) -> dict[str, Any]:
    return _template_json(stored.name, stored.language, stored.template, stored.updated_at)


def _language(request: web.Request) -> Language | web.Response:
    language = request.query.get("language", "nb")
    for known in LANGUAGES:
        if language == known:
            return known
    return unprocessable(
        f"language must be one of {', '.join(LANGUAGES)}, got {language!r}", "invalid-language"
    )


@routes.get("/api/v1/distribution/templates")
async def list_handler(request: web.Request) -> web.Response:
    async with request.app[STORE].connect() as conn:
        stored = await list_templates(conn, request[TENANT].id)
    templates = [_stored_json(item) for item in stored]
    saved = {(item.name, item.language) for item in stored}
    templates += [
        _template_json(DEFAULT_NAME, language, default_template(language), None)
        for language in LANGUAGES
        if (DEFAULT_NAME, language) not in saved
    ]
    templates.sort(key=lambda item: (item["name"], item["language"]))
    fields = [{"name": field.name, "description": field.description} for field in CATALOGUE]
    return web.json_response({"templates": templates, "fields": fields})


@routes.get("/api/v1/distribution/templates/{name}")
async def get_handler(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    language = _language(request)
    if isinstance(language, web.Response):
        return language
    async with request.app[STORE].connect() as conn:
        stored = await get_template(conn, request[TENANT].id, name, language)
    if stored is not None:
        return web.json_response(_stored_json(stored))
    if name == DEFAULT_NAME:
        return web.json_response(_template_json(name, language, default_template(language), None))
    return _not_found(name, language)


def _parse(body: dict[str, Any]) -> EmailTemplate | web.Response:
    unknown = sorted(set(body) - set(PARTS))
    if unknown:
        return unprocessable(f"unknown fields {unknown}; a template has {list(PARTS)}", "invalid-template")
    for part in PARTS:
        if not isinstance(body.get(part), str):
            return unprocessable(f"{part} must be a string (Jinja2 template source)", "invalid-template")
    return EmailTemplate(subject=body["subject"], html=body["html"], text=body["text"])


def _refused(exc: TemplateRefused) -> web.Response:
    return problem(422, "Unprocessable Content", str(exc), code=exc.code, **exc.to_json())


@routes.put("/api/v1/distribution/templates/{name}")
async def put_handler(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not TEMPLATE_NAME.fullmatch(name):
        detail = "a template name is 1-60 characters: a-z, 0-9, '-' or '_', starting with a letter or digit"
        return unprocessable(detail, "invalid-template-name")
    language = _language(request)
    if isinstance(language, web.Response):
        return language
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    template = _parse(body)
    if isinstance(template, web.Response):
        return template
    try:
        check_template(template)
    except TemplateRefused as exc:
        return _refused(exc)
    try:
        async with request.app[STORE].begin() as conn:
            stored = await save_template(conn, request[TENANT].id, name, language, template)
    except IntegrityError:  # a concurrent first save of the same template won
        return problem(409, "Conflict", "the template was saved concurrently; try again", code="conflict")
    return web.json_response(_stored_json(stored))


@routes.delete("/api/v1/distribution/templates/{name}")
async def delete_handler(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    language = _language(request)
    if isinstance(language, web.Response):
        return language
    async with request.app[STORE].begin() as conn:
        deleted = await delete_template(conn, request[TENANT].id, name, language)
    if not deleted:
        return _not_found(name, language)
    return web.Response(status=204)
