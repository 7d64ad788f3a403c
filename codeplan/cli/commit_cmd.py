"""`codeplan commit-message`: a commit message for the working tree's changes, any changes,
not only CodePlan's, written in the style of the repository's recent history."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from codeplan.api import make_llm_editor
from codeplan.cli.common import consoles, reported_errors
from codeplan.config import read_config
from codeplan.deliver.fileops import STATE_DIR
from codeplan.deliver.gitops import Project, git_errors
from codeplan.deliver.messages import Complete, generate_message
from codeplan.errors import CodePlanError, ConfigError, EditError, WorkspaceError


def commit_message(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="A git repository or a folder inside one.")
    ] = Path("."),
    base: Annotated[
        str, typer.Option("--base", help="Describe the changes since this revision.")
    ] = "HEAD",
    prefix: Annotated[
        str | None,
        typer.Option("--message-prefix", help="Start of the message, for the model to complete."),
    ] = None,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="Build the message from the diff; ask no model.")
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="The model (default: $CODEPLAN_MODEL, else the configured one)."
        ),
    ] = None,
) -> None:
    """Print a commit message for the changes from BASE to the working tree (staged,
    unstaged and untracked files that are not ignored)."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        root = path.resolve()
        diff = working_tree_diff(root, base)
        if not diff.strip():
            raise WorkspaceError(f"nothing to describe: no changes since {base}")
        complete: Complete | None = None
        if not no_llm:
            try:
                complete = _model(root, model)
            except ConfigError as error:
                _note(
                    streams.err, f"no model ({_first_sentence(error)}); message built from the diff"
                )
        try:
            message = generate_message(complete, root, diff, prefix=prefix)
        except EditError as error:
            # a message is still useful when the endpoint is down, e.g. in a commit hook
            _note(streams.err, f"the model failed ({error}); message built from the diff")
            message = generate_message(None, root, diff, prefix=prefix)
        streams.out.file.write(message.rstrip("\n") + "\n")


def working_tree_diff(folder: Path, base: str = "HEAD") -> str:
    """The diff from `base` to the working tree of the repository holding `folder`, limited
    to `folder`: staged, unstaged and untracked-but-not-ignored files, paths relative to the
    repository.  Staged through a copy of the index, so the user's index is never touched."""
    project = Project.find(folder)
    sha = project.resolve_base(base)
    index = Path(project.repo.git_dir) / "index"
    with tempfile.TemporaryDirectory(prefix="codeplan-msg-") as scratch:
        scratch_index = Path(scratch) / "index"
        if index.is_file():
            shutil.copyfile(index, scratch_index)  # its stat data saves re-hashing every file
        env = {"GIT_INDEX_FILE": str(scratch_index)}
        spec = ("--", project.prefix or ".", f":(exclude,glob)**/{STATE_DIR}/**")
        with git_errors("read the working tree's changes"):
            project.repo.git.add("-A", *spec, env=env)
            diff: str = project.repo.git.diff(
                "--cached", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/",
                "--no-relative", sha, *spec, env=env, strip_newline_in_stdout=False,
            )  # fmt: skip
    return diff


def _model(root: Path, model: str | None) -> Complete:
    llm = make_llm_editor(root, read_config(root), os.environ, model)
    return lambda messages: llm.complete(messages, purpose="commit-message")


def _note(err: Console, text: str) -> None:
    err.print(f"note: {text}", markup=False, highlight=False, soft_wrap=True)


def _first_sentence(error: CodePlanError) -> str:
    """The gist: the full set-up help is for `codeplan run`, not for a fallback note."""
    text = (str(error).splitlines() or [type(error).__name__])[0]
    return text.split(". ", 1)[0].rstrip(".:")
