"""Render tenant-written templates safely, and refuse an unsafe or broken one when it is saved.

Rendering runs in Jinja2's ``ImmutableSandboxedEnvironment`` with ``StrictUndefined``, no loader and
no globals; HTML is autoescaped, the plain text and the subject are not. On top of the sandbox, a
template is checked when saved against an allow-list of constructs: merge fields, literals, ``if``,
comparisons, tests, ``~`` and a few filters. Attribute and item access, calls, loops, assignments,
macros, includes/imports/extends and arithmetic are refused with the line they are on: e-mail text
needs none of them, and without them the work a template can do is bounded by its own size. Finally
a trial render with sample values in both languages must succeed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from distribution.render.design import LANGUAGES
from distribution.templates.fields import FIELD_NAMES, FieldValue, sample_fields

MAX_SUBJECT_CHARS = 1000
MAX_BODY_CHARS = 64 * 1024
MAX_DEPTH = 40  # nodes deep; far beyond what e-mail text needs, well within Python's own limits
MAX_RENDERED_SUBJECT = 250  # what mail clients show; longer subjects are cut

ALLOWED_FILTERS = (
    "default",
    "d",
    "upper",
    "lower",
    "title",
    "capitalize",
    "trim",
    "truncate",
    "escape",
    "e",
    "striptags",
    "string",
    "length",
    "wordcount",
)
ALLOWED_TESTS = (
    "defined",
    "undefined",
    "none",
    "true",
    "false",
    "boolean",
    "string",
    "number",
    "eq",
    "equalto",
    "==",
    "ne",
    "!=",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "lower",
    "upper",
)
ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Filter,
    nodes.Test,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Concat,
    nodes.Keyword,
    nodes.Tuple,
    nodes.List,
)
JINJA_GLOBALS = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace"})
LOADING = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from … import"}


@dataclass(frozen=True, slots=True)
class EmailTemplate:
    """A template as the tenant writes it: Jinja2 source for the subject, HTML and plain-text bodies."""

    subject: str
    html: str
    text: str

    def parts(self) -> tuple[tuple[str, str], ...]:
        return (("subject", self.subject), ("html", self.html), ("text", self.text))


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


@dataclass(slots=True)
class TemplateRefused(ValueError):
    """Why a template cannot be used. ``part`` is subject, html or text; ``code`` is machine-readable."""

    part: str
    code: str
    detail: str
    line: int | None = None
    construct: str | None = None
    fields: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.part}{where}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"part": self.part}
        if self.line is not None:
            body["line"] = self.line
        if self.construct is not None:
            body["construct"] = self.construct
        if self.fields:
            body["fields"] = list(self.fields)
        return body


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        loader=None,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in ALLOWED_FILTERS}
    env.tests = {name: env.tests[name] for name in ALLOWED_TESTS}
    return env


HTML_ENV = _environment(autoescape=True)
TEXT_ENV = _environment(autoescape=False)


def _env_for(part: str) -> ImmutableSandboxedEnvironment:
    return HTML_ENV if part == "html" else TEXT_ENV


def _describe(node: nodes.Node) -> tuple[str, str]:
    """(construct, why) for a node outside the allow-list."""
    if isinstance(node, nodes.Getattr):
        construct = f".{node.attr}"
        if node.attr.startswith("_"):
            return construct, f"attribute {node.attr!r} is internal; the sandbox forbids it"
        return construct, f"attribute access ({construct}) is not allowed; use merge fields and filters"
    if isinstance(node, nodes.Getitem):
        key = node.arg.value if isinstance(node.arg, nodes.Const) else "…"
        construct = f"[{key!r}]"
        if isinstance(key, str) and key.startswith("_"):
            return construct, f"item {key!r} is internal; the sandbox forbids it"
        return construct, f"item access ({construct}) is not allowed; use merge fields and filters"
    if isinstance(node, nodes.Extends):
        return "extends", "{% extends %} is not allowed: templates cannot load other templates"
    for kind, word in LOADING.items():
        if isinstance(node, kind):
            return word, f"{{% {word} %}} is not allowed: templates cannot load other templates"
    if isinstance(node, nodes.Call):
        return "call", "calling functions or methods is not allowed"
    if isinstance(node, nodes.For):
        return "for", "{% for %} loops are not allowed"
    if isinstance(node, (nodes.Assign, nodes.AssignBlock)):
        return "set", "{% set %} is not allowed"
    if isinstance(node, (nodes.Macro, nodes.CallBlock)):
        return "macro", "macros are not allowed"
    if isinstance(node, nodes.BinExpr | nodes.UnaryExpr):
        return node.operator, f"the operator {node.operator!r} is not allowed (use ~ to join text)"
    if isinstance(node, nodes.Scope) and any(
        isinstance(child, nodes.EvalContextModifier) for child in node.body
    ):
        node = node.body[0]
    if isinstance(node, (nodes.ScopedEvalContextModifier, nodes.EvalContextModifier)):
        return "autoescape", "changing autoescaping is not allowed"
    name = type(node).__name__
    return name.lower(), f"the construct {name} is not allowed"


def _walk(root: nodes.Node) -> list[tuple[nodes.Node, int]]:
    """Every node with its depth, parents before children, in source order."""
    found: list[tuple[nodes.Node, int]] = []
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        found.append((node, depth))
        stack.extend((child, depth + 1) for child in reversed(list(node.iter_child_nodes())))
    return found


def _line(node: nodes.Node) -> int | None:
    """The node's line, or its first descendant's (wrapper nodes such as Scope carry none)."""
    return next((found.lineno for found, _ in _walk(node) if getattr(found, "lineno", None)), None)


def _check_constructs(part: str, tree: nodes.Template) -> None:
    for node, depth in _walk(tree):
        if depth > MAX_DEPTH:
            construct, why = "nesting", f"the template nests more than {MAX_DEPTH} levels deep"
        elif not isinstance(node, ALLOWED_NODES):
            construct, why = _describe(node)
        elif isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            construct = f"|{node.name}"
            why = f"filter {node.name!r} is not allowed; allowed: {', '.join(ALLOWED_FILTERS)}"
        elif isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
            construct = f"is {node.name}"
            why = f"test {node.name!r} is not allowed; allowed: {', '.join(ALLOWED_TESTS)}"
        else:
            continue
        raise TemplateRefused(part, "template-forbidden", why, line=_line(node), construct=construct)


def _check_fields(part: str, tree: nodes.Template) -> None:
    unknown = tuple(sorted(meta.find_undeclared_variables(tree) - FIELD_NAMES))
    if not unknown:
        return
    detail = f"unknown merge field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
    if set(unknown) & JINJA_GLOBALS:
        detail += " (Jinja's global functions are not available)"
    detail += f"; known fields: {', '.join(sorted(FIELD_NAMES))}"
    raise TemplateRefused(part, "template-unknown-field", detail, fields=unknown)


def _parse(part: str, source: str) -> nodes.Template:
    limit = MAX_SUBJECT_CHARS if part == "subject" else MAX_BODY_CHARS
    if len(source) > limit:
        detail = f"{len(source)} characters; at most {limit}"
        raise TemplateRefused(part, "template-too-large", detail)
    try:
        return _env_for(part).parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateRefused(
            part, "template-syntax", exc.message or "syntax error", line=exc.lineno
        ) from None
    except RecursionError:
        raise TemplateRefused(part, "template-syntax", "expressions are nested too deeply") from None


def check_template(template: EmailTemplate) -> None:
    """Raise :class:`TemplateRefused` unless every part is safe, uses only known fields and renders."""
    for part, source in template.parts():
        tree = _parse(part, source)
        _check_constructs(part, tree)
        _check_fields(part, tree)
    for language in LANGUAGES:
        sample = sample_fields(language)
        for part, source in template.parts():
            try:
                _compiled(part == "html", source).render(sample)
            except SecurityError as exc:
                raise TemplateRefused(part, "template-forbidden", str(exc)) from None
            except (
                TemplateError,
                ArithmeticError,
                TypeError,
                ValueError,
                SyntaxError,
                RecursionError,
            ) as exc:
                detail = f"does not render with sample values ({language}): {exc}"
                raise TemplateRefused(part, "template-render", detail) from None


@functools.lru_cache(maxsize=256)
def _compiled(html: bool, source: str) -> Template:
    return (HTML_ENV if html else TEXT_ENV).from_string(source)


def render_template(template: EmailTemplate, fields: dict[str, FieldValue]) -> RenderedEmail:
    """Render a template that passed :func:`check_template`; the subject comes out as one short line.

    Raises ``jinja2.TemplateError`` (or a ``SecurityError``) if it cannot render after all.
    """
    subject = " ".join(_compiled(False, template.subject).render(fields).split())
    if len(subject) > MAX_RENDERED_SUBJECT:
        subject = subject[: MAX_RENDERED_SUBJECT - 1].rstrip() + "…"
    return RenderedEmail(
        subject=subject,
        html=_compiled(True, template.html).render(fields),
        text=_compiled(False, template.text).render(fields),
    )
