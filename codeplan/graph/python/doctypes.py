"""Types a function's docstring declares, for code that predates annotations.

Many libraries document types only in docstrings, in one of three conventions: reST
(`:rtype: requests.Response`, `:type url: str`, `:param Session s:`), Google
(`Returns:` / `Args:` sections, `name (Type): ...`) and NumPy (`Returns` / `Parameters`
sections underlined with dashes, `name : Type`).  Editors read them (PyCharm, Jedi); so
does inference here, where no annotation says otherwise.

Only plain class names are kept, dotted or not: `Foo`, `pkg.Foo`, ``:class:`~pkg.Foo` ``,
`Foo or None`, `Foo | None`, `Optional[Foo]`.  A container (`list of Foo`, `dict`) says
nothing about the value's own methods, and prose is not a type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from tree_sitter import Node

from codeplan.graph.python.exprs import DOTTED_NAME

# a field is read on its own line ([ \t], not \s): a match never runs on through a long
# paragraph, to be retried from each of its positions
_REST_RETURN = re.compile(r"^[ \t]*:rtype:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_REST_TYPE = re.compile(r"^[ \t]*:type[ \t]+\*{0,2}(\w+)[ \t]*:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_REST_PARAM = re.compile(r"^[ \t]*:param[ \t]+([^:\n]+?)[ \t]+\*{0,2}(\w+)[ \t]*:", re.MULTILINE)
_REST_VARTYPE = re.compile(r"^[ \t]*:vartype[ \t]+(\w+)[ \t]*:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_REST_IVAR = re.compile(r"^[ \t]*:ivar[ \t]+([^:\n]+?)[ \t]+(\w+)[ \t]*:", re.MULTILINE)
_SECTION = re.compile(r"^(\s*)(\w[\w ]*?):?\s*$")
_GOOGLE_ITEM = re.compile(r"^\s*\*{0,2}(\w+)\s*\(([^)]+)\)\s*:")
_GOOGLE_RETURN = re.compile(r"^\s*([\w.\[\], |`~:]+?)\s*:(?:\s|$)")
_NUMPY_ITEM = re.compile(r"^\s*\*{0,2}(\w+)\s+:\s+(.+?)\s*$")
_NUMPY_RULE = re.compile(r"^\s*-{3,}\s*$")
_HINTS = re.compile(
    r":rtype|:type|:param|:ivar|:vartype|Returns|Args|Arguments|Parameters|Attributes"
)
# a section (see `_sections`) is read only if its heading may be one of these
_SECTION_WORDS = ("return", "arg", "param", "attributes")
# reST fields giving types: (field, its pattern, whether the pattern finds the name before
# the type, whether it types a parameter rather than an attribute)
_REST_FIELDS = (
    (":type", _REST_TYPE, True, True),
    (":vartype", _REST_VARTYPE, True, False),
    (":param", _REST_PARAM, False, True),
    (":ivar", _REST_IVAR, False, False),
)
_RETURN_SECTIONS = {"returns", "return"}  # not "yields": a generator is no Foo
_PARAMETER_SECTIONS = {"args", "arguments", "parameters", "params", "keyword arguments"}
_ATTRIBUTE_SECTIONS = {"attributes"}
_NOT_CLASSES = {"None", "Any", "object", "True", "False", "self"}
_ROLE = re.compile(r":(?:py:)?(?:class|obj|exc|data):")


@dataclass(frozen=True)
class DocumentedTypes:
    """The class names a docstring gives for the return value, each parameter and (a
    class's docstring) each attribute."""

    returns: tuple[str, ...] = ()
    parameters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def beside(self, other: DocumentedTypes | None) -> DocumentedTypes:
        """These types, and the parameters only `other` documents (a class's docstring
        beside its `__init__`'s)."""
        if other is None or not other.parameters:
            return self
        return replace(self, parameters={**other.parameters, **self.parameters})


NO_TYPES = DocumentedTypes()


def docstring_of(body: Node | None) -> str | None:
    """The docstring opening a function's or class's body, if it has one."""
    # the first child alone: a body's list of children is a node made for each statement
    if body is None or body.named_child_count == 0:
        return None
    first = body.named_child(0)
    if first is None or first.type != "expression_statement" or first.named_child_count == 0:
        return None
    literal = first.named_child(0)
    if literal is None or literal.type != "string":
        return None
    raw = literal.text
    return raw.decode("utf-8", "replace") if raw is not None else None


def documented_types(docstring: str | None) -> DocumentedTypes:
    if not docstring or _HINTS.search(docstring) is None:
        return NO_TYPES
    # each pattern only where its field's name is (a docstring with fields uses a few), and
    # the sections only where a heading may be one: a search for a plain string is fast
    returns: list[str] = []
    if ":rtype" in docstring:
        returns = [t for found in _REST_RETURN.findall(docstring) for t in class_names(found)]
    parameters: dict[str, list[str]] = {}
    attributes: dict[str, list[str]] = {}
    for field_name, pattern, name_first, of_parameter in _REST_FIELDS:
        if field_name in docstring:
            found = parameters if of_parameter else attributes
            for first, second in pattern.findall(docstring):
                name, spec = (first, second) if name_first else (second, first)
                found.setdefault(name, []).extend(class_names(spec))
    lowered = docstring.lower()
    if any(word in lowered for word in _SECTION_WORDS):
        for section, lines in _sections(docstring):
            if section in _RETURN_SECTIONS and not returns and lines:
                returns.extend(_section_return(lines))
            elif section in _PARAMETER_SECTIONS or section in _ATTRIBUTE_SECTIONS:
                found = parameters if section in _PARAMETER_SECTIONS else attributes
                for line in lines:
                    item = _GOOGLE_ITEM.match(line) or _NUMPY_ITEM.match(line)
                    if item is not None:
                        found.setdefault(item.group(1), []).extend(class_names(item.group(2)))
    return DocumentedTypes(
        returns=tuple(dict.fromkeys(returns)),
        parameters=_kept(parameters),
        attributes=_kept(attributes),
    )


def _kept(found: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(dict.fromkeys(types)) for name, types in found.items() if types}


def class_names(spec: str) -> list[str]:
    """The classes a type in prose may be: `A or B`, `A | None`, `Optional[A]`, ``:class:`~A` ``.
    Anything else (a container, a phrase) yields nothing."""
    spec = _ROLE.sub("", spec).replace("`", "").replace("~", "").strip().rstrip(".")
    optional = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", spec)
    if optional:
        spec = optional.group(1)
    spec = re.sub(r",?\s*optional$", "", spec)
    names = []
    for part in re.split(r"\s+or\s+|\s*\|\s*|\s*,\s*", spec):
        part = part.strip()
        if not DOTTED_NAME.fullmatch(part):
            return []  # `list of Foo`, `dict[str, Foo]`, a sentence: not a class
        if part not in _NOT_CLASSES:
            names.append(part)
    return names


def _sections(docstring: str) -> list[tuple[str, list[str]]]:
    """Google (`Returns:` then indented lines) and NumPy (`Returns` over a dashed rule)
    sections: each lower-cased heading with the lines of its body."""
    lines = docstring.splitlines()
    found: list[tuple[str, list[str]]] = []
    index = 0
    while index < len(lines):
        heading = _SECTION.match(lines[index])
        numpy = index + 1 < len(lines) and _NUMPY_RULE.match(lines[index + 1]) is not None
        google = heading is not None and lines[index].rstrip().endswith(":")
        if heading is None or not (numpy or google):
            index += 1
            continue
        indent = len(heading.group(1))
        index += 2 if numpy else 1
        body: list[str] = []
        while index < len(lines):
            line = lines[index]
            if line.strip() and _indent(line) <= indent and not numpy:
                break
            if numpy and not line.strip() and body:
                break
            if line.strip():
                body.append(line)
            index += 1
        found.append((heading.group(2).strip().lower(), body))
    return found


def _section_return(lines: list[str]) -> list[str]:
    """A Returns section's type: NumPy puts it alone on the first line, Google before a
    colon (`Response: the reply`); a first line of prose has none."""
    first = lines[0].strip()
    numpy = _NUMPY_ITEM.match(first)  # `name : Type`
    if numpy is not None:
        return class_names(numpy.group(2))
    google = _GOOGLE_RETURN.match(first)
    if google is not None:
        return class_names(google.group(1))
    if DOTTED_NAME.fullmatch(first) or first.startswith(("Optional[", ":class:")):
        return class_names(first)
    return []


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
