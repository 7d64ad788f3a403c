"""Render an `EditRequest` into chat messages with the Jinja2 templates of `prompts/`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from codeplan.edit.model import EditRequest
from codeplan.errors import ConfigError
from codeplan.resources import data_dir

SYSTEM_TEMPLATE = "edit_system.j2"
USER_TEMPLATE = "edit_user.j2"

_BACKTICK_RUN = re.compile(r"`+")


class PromptSet:
    """The system and user templates, loaded once from `folder` (default: the bundled ones)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else data_dir("prompts")
        if not self.folder.is_dir():
            raise ConfigError(f"prompt folder {self.folder} does not exist")
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.folder),
            undefined=jinja2.StrictUndefined,
            # code is not HTML; escaping would corrupt it
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        environment.filters["code"] = _code
        self._system = _load(environment, self.folder, SYSTEM_TEMPLATE)
        self._user = _load(environment, self.folder, USER_TEMPLATE)

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
    """Backticks enough to fence every text shown, even one that contains a fence itself."""
    context = request.context
    texts = [request.source, context.sketch or ""]
    texts += [text for edit in context.earlier_edits for text in (edit.before, edit.after)]
    texts += [item.text for item in context.related]
    longest = max((len(run) for text in texts for run in _BACKTICK_RUN.findall(text)), default=0)
    return "`" * max(3, longest + 1)
