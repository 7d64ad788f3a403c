"""History-aware commit messages against plain generation, on a repository's real commits.

For each of the last N first-parent commits of REPO_PATH that are neither merges nor a bot's,
a message is generated for the commit's own diff by:

- history: `generate_message` with the history-aware prompt, its examples the 20 human
  messages before that commit;
- plain: the same prompt without examples;
- trivial: no model at all ("Update <files>" and the file list, CodePlan's fallback);

and scored by normalised Levenshtein distance (0 = identical, 1 = nothing in common) to the
real message: its subject line, and the whole message (first 400 characters of each, to
keep the pure-Python distance cheap).  The " (#123)" GitHub appends to squash-merged
subjects, and trailers (Signed-off-by...), are removed from the real message first: no
author wrote them, and no model can know the number.

NO MODEL IS INVOLVED BY DEFAULT.  The "model" is `StyleStandIn`, a deterministic stand-in
that reads the rendered prompt as a model would: it takes the changed names from the diff,
and, when the prompt carries examples, their prefix convention ("module: ", conventional
commits), verb choice, capitalisation, quoting of code names, length, and version-bump
wording.  It is not a language model and cannot say *what* a change does.  So what these
figures show is only whether the history carries style signal that the prompt delivers;
whether a real model turns it into messages people keep (and how plain prompting fares
with a model that writes fluent summaries) needs a real model: pass --model M with an
endpoint configured (OPENAI_API_KEY / OPENAI_BASE_URL), which adds model-history and
model-plain rows through CodePlan's LLM client (answers cached in .codeplan/ of a clone).

    python benchmarks/commit_messages.py REPO_PATH [--commits N] [--model M] [--json] [--show]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from codeplan.deliver.difftrim import FileDiff, parse_diff
from codeplan.deliver.messages import (
    generate_message,
    is_bot,
    recent_messages,
)

_FIELD, _RECORD = "\x1f", "\x1e"
_PR_SUFFIX = re.compile(r"\s*\((?:#|GH-|gh-)\d+\)\s*$")
_TRAILER = re.compile(r"^(Signed-off-by|Co-authored-by|Reviewed-by|Change-Id):", re.I | re.M)
_CONVENTIONAL = re.compile(
    r"^(feat|fix|docs|chore|refactor|test|tests|ci|build|perf|style)(\(([^)]+)\))?!?: "
)
_MODULE = re.compile(r"^([\w./-]+): ")
_VERSION = re.compile(r"(?<![\d.])\d+\.\d+(?:\.\d+)*(?:\.?(?:dev|rc|a|b)\d*)?(?![\d.]\d)")
_VERSION_LINE = re.compile(r"^\+\s*(?:__)?version(?:__)?\s*[=:]\s*[\"']?(\d+\.\d+[\w.]*)", re.I)
_DEF = re.compile(r"\b(?:def|class|function|func|fn)\s+([A-Za-z_]\w*)")
_DOCS = re.compile(r"\.(md|rst|txt)$|^docs?/|(^|/)(CHANGES|CHANGELOG|HISTORY|README)", re.I)
_TESTS = re.compile(r"(^|/)tests?/|(^|/)test_[^/]*$|_test\.\w+$")
FAMILIES = {
    "add": {"add", "added", "adds", "introduce", "implement", "support", "new", "allow", "feat"},
    "remove": {"remove", "removed", "drop", "delete", "deprecate", "revert"},
    "docs": {"document", "docs", "doc", "update", "fix", "clarify", "add", "improve"},
    "tests": {"test", "tests", "add", "fix", "improve"},
    "change": {"fix", "update", "use", "improve", "change", "refactor", "move", "rename",
               "make", "handle", "correct", "avoid", "ensure", "set", "clean", "cleanup"},
}  # fmt: skip
DEFAULT_VERB = {
    "add": "Add",
    "remove": "Remove",
    "docs": "Update",
    "tests": "Add",
    "change": "Update",
}


class StyleStandIn:
    """NOT A MODEL: a deterministic reader of the prompt (see the module docstring)."""

    def __call__(self, messages: list[dict[str, str]]) -> str:
        prompt = messages[-1]["content"]
        examples = re.findall(r"<example>\n(.*?)\n</example>", prompt, re.S)
        diff = re.search(r"(`{3,})diff\n(.*?)\n\1", prompt, re.S)
        files = parse_diff(diff.group(2) if diff else "")
        subjects = [e.splitlines()[0] for e in examples if e.strip()]
        return style_subject(files, subjects)


def style_subject(files: list[FileDiff], subjects: list[str]) -> str:
    kind, topic, where, version = _content(files)
    if version and subjects:
        releases = [s for s in subjects if _VERSION.search(s)]
        worded = [s for s in releases if re.search(r"version|release|bump|^v\d", s, re.I)]
        # the newest release message, the number last if any is so, with the new number
        pool = worded or releases
        last = re.compile(rf"(^|\s)v?{_VERSION.pattern}$")
        ending = [s for s in pool if last.search(_PR_SUFFIX.sub("", s))]
        for subject in ending or pool:
            return _PR_SUFFIX.sub("", _VERSION.sub(version, subject, count=1))
    if version:
        return f"Bump version to {version}"
    share = (lambda p: sum(1 for s in subjects if p(s)) / len(subjects)) if subjects else None
    prefix = ""
    if share and share(_CONVENTIONAL.match) >= 0.3:
        scopes = Counter(
            m.group(3) for s in subjects if (m := _CONVENTIONAL.match(s)) and m.group(3)
        )
        kind_type = {"add": "feat", "docs": "docs", "tests": "test"}.get(kind, "fix")
        scope = where if where in scopes else ""
        prefix = f"{kind_type}({scope}): " if scope else f"{kind_type}: "
    elif share and share(_MODULE.match) >= 0.3:
        prefix = f"{where}: "
    bodies = [_MODULE.sub("", _CONVENTIONAL.sub("", s)) for s in subjects]
    verb = _verb(kind, bodies)
    name = f"`{topic}`" if share and share(lambda s: "`" in s) >= 0.25 else topic
    lower = bool(bodies) and sum(1 for b in bodies if b[:1].islower()) > len(bodies) / 2
    if lower or prefix.startswith(tuple(FAMILIES["change"] | {"feat", "docs", "test"})):
        verb = verb.lower()
    subject = f"{prefix}{verb} {name}"
    typical = statistics.median(len(s) for s in subjects) if subjects else 50
    if where and where not in topic and len(subject) + len(where) + 4 <= max(typical * 1.2, 30):
        subject += f" in {where}"
    return subject


def _content(files: list[FileDiff]) -> tuple[str, str, str, str | None]:
    """What changed: (kind, most-changed name, its file's stem, a new version number)."""
    shown = [f for f in files if not f.hidden] or files
    if not shown:
        return "change", "files", "", None
    for line in (line for f in shown for hunk in f.hunks for line in hunk):
        if match := _VERSION_LINE.match(line):
            return "change", match.group(1), "", match.group(1)
    source = [f for f in shown if not _DOCS.search(f.path) and not _TESTS.search(f.path)]
    kind = "docs" if not source and all(_DOCS.search(f.path) for f in shown) else "change"
    kind = "tests" if not source and kind != "docs" else kind
    pool = source or shown
    added, removed = sum(f.added for f in pool), sum(f.removed for f in pool)
    if any(h[0].startswith("@@ -0,0 ") for f in pool for h in f.hunks) or added > 4 * removed + 5:
        kind = "add" if kind == "change" else kind
    elif removed > 3 * added + 5:
        kind = "remove" if kind == "change" else kind
    names: Counter[str] = Counter()
    for file in pool:
        for hunk in file.hunks:
            changed = sum(1 for line in hunk[1:] if line[:1] in "+-")
            for name in _DEF.findall(hunk[0]) + _DEF.findall("\n".join(hunk[1:])):
                names[name] += changed
    top = max(pool, key=lambda f: f.added + f.removed)
    stem = top.path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lstrip("_")
    topic = names.most_common(1)[0][0] if names else top.path.rsplit("/", 1)[-1]
    return kind, topic, stem, None


def _verb(kind: str, bodies: list[str]) -> str:
    firsts = Counter(b.split(" ", 1)[0].lower().rstrip(":") for b in bodies if b)
    for word, _ in firsts.most_common():
        if word in FAMILIES[kind]:
            return word.capitalize()
    return DEFAULT_VERB[kind]


def levenshtein(a: str, b: str) -> float:
    """Edit distance divided by the longer length: 0 identical, 1 nothing in common."""
    if not a and not b:
        return 0.0
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1] / max(len(a), len(b))


def reference(message: str) -> str:
    subject, _, body = message.strip().partition("\n")
    body = "\n".join(line for line in body.splitlines() if not _TRAILER.match(line)).strip()
    subject = _PR_SUFFIX.sub("", subject).strip()
    return f"{subject}\n\n{body}" if body else subject


def human_commits(repo: Path, count: int) -> list[tuple[str, str]]:
    log = subprocess.run(
        ["git", "log", "--first-parent", "--no-merges", f"--max-count={count * 10}",
         f"--format=%H{_FIELD}%an{_FIELD}%ae{_FIELD}%cn{_FIELD}%ce{_FIELD}%B{_RECORD}"],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    found = []
    for record in filter(str.strip, log.split(_RECORD)):
        sha, *people, message = record.lstrip("\n").split(_FIELD)
        if not is_bot(*people) and not message.startswith("Merge ") and message.strip():
            found.append((sha, message.strip()))
    return found[:count]


def commit_diff(repo: Path, sha: str) -> str:
    return subprocess.run(
        ["git", "show", "--format=", "--no-color", "--no-ext-diff", sha],
        cwd=repo, check=True, capture_output=True, text=True, errors="replace",
    ).stdout  # fmt: skip


def evaluate(
    repo: Path, count: int, model: Callable[[list[dict[str, str]]], str] | None, show: bool = False
) -> dict[str, dict[str, float]]:
    stand_in = StyleStandIn()
    methods: dict[str, Callable[[str, list[str]], str]] = {
        "history": lambda diff, ex: generate_message(stand_in, repo, diff, examples=ex),
        "plain": lambda diff, ex: generate_message(stand_in, repo, diff, examples=[]),
        "trivial": lambda diff, ex: generate_message(None, repo, diff),
    }
    if model is not None:
        methods["model-history"] = lambda diff, ex: generate_message(model, repo, diff, examples=ex)
        methods["model-plain"] = lambda diff, ex: generate_message(model, repo, diff, examples=[])
    scores: dict[str, dict[str, list[float]]] = {m: {"subject": [], "message": []} for m in methods}
    commits = human_commits(repo, count)
    for sha, message in commits:
        diff, examples = commit_diff(repo, sha), recent_messages(repo, 20, rev=f"{sha}^")
        real = reference(message)
        made = {name: method(diff, examples) for name, method in methods.items()}
        for name, text in made.items():
            scores[name]["subject"].append(levenshtein(text.splitlines()[0], real.splitlines()[0]))
            scores[name]["message"].append(levenshtein(text[:400], real[:400]))
        if show:
            print(f"{sha[:8]} real: {real.splitlines()[0]}", file=sys.stderr)
            for name, text in made.items():
                print(f"{'':8} {name}: {text.splitlines()[0]}", file=sys.stderr)
    history, plain = scores["history"]["subject"], scores["plain"]["subject"]
    summary: dict[str, dict[str, float]] = {}
    for name, values in scores.items():
        summary[name] = {"commits": len(commits)}
        for part, numbers in values.items():
            summary[name][f"{part}_mean"] = round(statistics.fmean(numbers), 3) if numbers else 0.0
            summary[name][f"{part}_median"] = (
                round(statistics.median(numbers), 3) if numbers else 0.0
            )
    pairs = list(zip(history, plain, strict=True))
    for outcome, test in (("better", float.__lt__), ("tie", float.__eq__), ("worse", float.__gt__)):
        summary["history"][f"subject_{outcome}_than_plain"] = sum(test(h, p) for h, p in pairs)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--model", help="also ask a real model (needs a configured endpoint)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show", action="store_true", help="print each message to stderr")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="commit-messages-") as scratch:
        repo = args.repo.resolve()
        model = None
        if args.model:  # the response cache is written into the repository: use a clone
            clone = Path(scratch) / "repo"
            subprocess.run(
                ["git", "-c", "safe.directory=*", "clone", "-q", str(repo), str(clone)], check=True
            )
            from codeplan.api import make_llm_editor

            llm = make_llm_editor(clone, {}, os.environ, args.model)
            repo, model = clone, (lambda m: llm.complete(m, purpose="commit-message"))
        summary = evaluate(repo, args.commits, model, args.show)
    if args.json:
        json.dump({"repo": str(args.repo), **summary}, sys.stdout, indent=2)
        print()
        return
    print(
        f"{args.repo}: {summary['history']['commits']:.0f} commits; normalised edit distance, lower is better"
    )
    print(f"{'method':<14} {'subject mean':>12} {'median':>7} {'message mean':>13} {'median':>7}")
    for name, row in summary.items():
        print(f"{name:<14} {row['subject_mean']:>12.3f} {row['subject_median']:>7.3f}"
              f" {row['message_mean']:>13.3f} {row['message_median']:>7.3f}")  # fmt: skip
    row = summary["history"]
    print(
        f"history vs plain, subject: closer on {row['subject_better_than_plain']:.0f},"
        f" tied on {row['subject_tie_than_plain']:.0f},"
        f" farther on {row['subject_worse_than_plain']:.0f}"
    )


if __name__ == "__main__":
    main()
