"""The `make demo` walkthrough: CodePlan's main job on the bundled example.

A copy of `examples/inventory` becomes a fresh git repository in a temporary folder (your
checkout is never touched).  The "user" makes a seed edit: `price_with_tax(amount,
category)` becomes `price_with_tax(category, amount)`.  Then:

- with an LLM endpoint configured (OPENAI_API_KEY, or OPENAI_BASE_URL for a local server),
  `codeplan propagate` runs for real: the LLM edits every block the change impacts, and the
  example's tests validate the result;
- without one, the demo shows the plan and the impacted tests of that edit, runs the same
  propagation with a deterministic codemod standing in for the LLM (so you can see the loop
  work), and says how to point CodePlan at OpenAI, Azure, vLLM or Ollama.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.rule import Rule
from rich.syntax import Syntax

from codeplan import Planner, Repository
from codeplan.api import ENDPOINT_HELP
from codeplan.impact.analysis import is_test
from codeplan.plan.render import plan_tree
from codeplan.preview import preview_plan

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from swap_price_arguments import NEW_SIGNATURE, OLD_SIGNATURE, TASK, SwapPriceArguments  # noqa: E402


def main() -> None:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="codeplan-demo-") as folder:
        repo = make_repository(Path(folder))
        console.print(Rule("The seed edit (made by you, uncommitted)"))
        pricing = repo / "inventory" / "pricing.py"
        pricing.write_text(pricing.read_text().replace(OLD_SIGNATURE, NEW_SIGNATURE))
        console.print(Syntax(git(repo, "diff"), "diff", theme="ansi_dark", word_wrap=True))

        console.print(Rule("The plan: what the edit may impact (codeplan plan --from-diff)"))
        preview = preview_plan(repo, TASK, from_diff=True)
        console.print(plan_tree(preview.plan, "plan (dry run)", preview.tokens))
        repository = Repository(repo)
        tests = sorted(
            o.block_id
            for o in preview.plan.obligations.values()
            if (block := repository.graph.get(o.block_id)) and is_test(block, repository.graph)
        )
        console.print(f"Impacted tests: {', '.join(tests) or 'none'}")
        console.print(f"Estimated: ~{preview.total_tokens:,} tokens for the first step")

        configured = bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))
        if configured:
            console.print(Rule("codeplan propagate, with your LLM endpoint"))
            result = Planner(repository).propagate(TASK)
        else:
            console.print(Rule("codeplan propagate, with a deterministic codemod as the editor"))
            result = Planner(repository, editor=SwapPriceArguments()).propagate(TASK)
        console.print(result)
        console.print(Syntax(result.diff, "diff", theme="ansi_dark", word_wrap=True))
        if not configured:
            console.print(Rule("To run it with an LLM"))
            help_text = ENDPOINT_HELP.replace("no LLM endpoint is configured. ", "")
            console.print(help_text, markup=False, highlight=False, soft_wrap=True)
            console.print("then: make demo   (or, in your own repository: codeplan propagate)")


def make_repository(folder: Path) -> Path:
    repo = folder / "inventory"
    shutil.copytree(
        HERE / "inventory", repo, ignore=shutil.ignore_patterns("__pycache__", ".codeplan")
    )
    (repo / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Demo", "-c", "user.email=demo@example.com", "commit", "-qm", "start")
    return repo


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


if __name__ == "__main__":
    main()
