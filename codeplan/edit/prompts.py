"""Render an `EditRequest` into chat messages with the Jinja2 templates of `prompts/`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from codeplan.edit.model import EditRequest, TriageRequest
from codeplan.errors import ConfigError
from codeplan.resources import data_dir

SYSTEM_TEMPLATE = "edit_system.j2"
USER_TEMPLATE = "edit_user.j2"
# optional in a user's folder: the bundled one serves when it has none
TRIAGE_TEMPLATE = "triage.j2"

_BACKTICK_RUN = re.compile(r"`+")


class PromptSet:
    """The templates, loaded once from `folder` (default: the bundled ones)."""

    def __init__(self, folder: Path | None = None) -> None:
        bundled = data_dir("prompts")
        self.folder = folder if folder is not None else bundled
        if not self.folder.is_dir():
            raise ConfigError(f"prompt folder {self.folder} does not exist")
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader([self.folder, bundled]),
            undefined=jinja2.StrictUndefined,
            # code is not HTML; escaping would corrupt it
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        environment.filters["code"] = _code
        for required in (SYSTEM_TEMPLATE, USER_TEMPLATE):
            if not (self.folder / required).is_file():
                raise ConfigError(f"prompt template {self.folder / required} is missing")
        self._system = _load(environment, self.folder, SYSTEM_TEMPLATE)
        self._user = _load(environment, self.folder, USER_TEMPLATE)
        self._triage = _load(environment, self.folder, TRIAGE_TEMPLATE)

    @classmethod
    def from_config(cls, root: Path, config: Mapping[str, Any]) -> PromptSet:
        """The templates named by `[prompts] dir` (relative to `root`), else the bundled ones."""
        section = config.get("prompts", {})
        if not isinstance(section, Mapping):
            raise ConfigError("[prompts] must be a table")
        folder = section.get("dir")
        if folder is None:
            return cls()
        if not isinstance(folder, str) or not folder:
            raise ConfigError("[prompts] dir must be a folder name (a string)")
        return cls(root / folder)

    def messages(self, request: EditRequest) -> list[dict[str, str]]:
        """The system and user chat messages asking for `request`'s edit."""
        variables = {
            "request": request,
            "context": request.context,
            "language": request.language.lower(),
            "fence": _fence(request),
        }
        return [
            {"role": "system", "content": self._render(self._system, variables)},
            {"role": "user", "content": self._render(self._user, variables)},
        ]

    def triage_messages(self, request: TriageRequest) -> list[dict[str, str]]:
        """The chat message asking which of `request`'s candidates need an edit."""
        texts = [c.shown for c in request.candidates]
        texts += [text for edit in request.earlier_edits for text in (edit.before, edit.after)]
        languages = {c.language.lower() for c in request.candidates}
        variables = {
            "request": request,
            "language": languages.pop() if len(languages) == 1 else "",
            "fence": _fence_for(texts),
        }
        return [{"role": "user", "content": self._render(self._triage, variables)}]

    def _render(self, template: jinja2.Template, variables: Mapping[str, Any]) -> str:
        try:
            return template.render(variables).strip() + "\n"
        except jinja2.TemplateError as error:
            # only a user's own template can fail here; name it so they can fix it
            raise ConfigError(
                f"prompt template {self.folder / str(template.name)}: {error}"
            ) from None


def _load(environment: jinja2.Environment, folder: Path, name: str) -> jinja2.Template:
    try:
        return environment.get_template(name)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"prompt template {folder / name} is missing") from None
    except jinja2.TemplateSyntaxError as error:
        raise ConfigError(
            f"prompt template {folder / name}, line {error.lineno}: {error.message}"
        ) from None


def _code(text: str) -> str:
    """Text for a fenced block: no trailing blanks, and the first line's indentation kept."""
    return text.rstrip().lstrip("\n")


def _fence(request: EditRequest) -> str:
    context = request.context
    texts = [request.source, context.sketch or ""]
    texts += [text for edit in context.earlier_edits for text in (edit.before, edit.after)]
    texts += [item.text for item in context.related]
    return _fence_for(texts)


def _fence_for(texts: list[str]) -> str:
    """Backticks enough to fence every text shown, even one that contains a fence itself."""
    longest = max((len(run) for text in texts for run in _BACKTICK_RUN.findall(text)), default=0)
    return "`" * max(3, longest + 1)
