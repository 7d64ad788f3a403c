"""`codeplan plan`: the plan a task or a diff would start, and what its prompts would cost,
without asking any editor for an edit.

From a diff, the user's edits are known, so the plan is exactly the first propagation
step.  From a task, the seeds' edits are not known yet; the preview assumes the worst
case the planner may meet (each seed's signature changes) and lists what that impacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeplan.config import read_config
from codeplan.deliver.workspace import working_tree_changes
from codeplan.edit.pricing import cost_usd, price_table
from codeplan.edit.prompts import PromptSet
from codeplan.errors import PlanError
from codeplan.graph import GraphOptions, build_graph
from codeplan.graph.builder import GraphBuilder
from codeplan.graph.model import Relation
from codeplan.impact.states import RepositoryStates
from codeplan.plan.context import ContextLimits, build_request
from codeplan.plan.model import Cause, ObligationStatus, PlanGraph
from codeplan.plan.planner import PlannerOptions
from codeplan.plan.propagation import DERIVED_INSTRUCTION, FileChange
from codeplan.plan.seeds import find_block, seed_blocks, seed_user_changes, users_of
from codeplan.runner import impact_settings

_SIGNATURE_CHANGE_REACHES = (Relation.CALLS, Relation.OVERRIDES, Relation.INSTANTIATES)


@dataclass(frozen=True)
class Preview:
    plan: PlanGraph
    tokens: dict[int, int]  # obligation id -> estimated prompt + answer tokens
    model: str
    cost_usd: float

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens.values())


def preview_plan(
    root: Path,
    task: str,
    *,
    seeds: Sequence[str] = (),
    seed_uses: Sequence[str] = (),
    from_diff: bool = False,
    model: str = "gpt-4o-mini",
    options: GraphOptions | None = None,
) -> Preview:
    root = root.resolve()
    config = read_config(root)
    builder = build_graph(root, options or GraphOptions())
    plan = PlanGraph()
    if from_diff:
        _seed_from_diff(builder, root, plan, config)
    else:
        blocks = [find_block(builder.graph, name) for name in seeds]
        blocks += [b for target in seed_uses for b in users_of(builder, target)]
        if not blocks:
            raise PlanError("give seed blocks (--seed PATH::QUALNAME), --seed-uses, or --from-diff")
        seed_blocks(plan, blocks, task)
        for seed in list(plan.obligations.values()):
            for related in builder.graph.related(
                seed.block_id, _SIGNATURE_CHANGE_REACHES, inverse=True
            ):
                reason = f"{related.relation_name} `{seed.block_id}` (if its signature changes)"
                plan.add(related.block.id, DERIVED_INSTRUCTION, Cause("seed", reason), depth=1)
    tokens = _estimate(builder, plan, root, config, task)
    prices = price_table(config.get("llm", {}).get("prices"))
    prompt_share = sum(tokens.values()) * 3 // 4  # answers are about a quarter of the tokens
    cost = cost_usd(model, prompt_share, sum(tokens.values()) - prompt_share, prices)
    return Preview(plan, tokens, model, cost)


def _seed_from_diff(
    builder: GraphBuilder, root: Path, plan: PlanGraph, config: dict[str, Any]
) -> None:
    analysed = set(builder.graph.paths())
    paths = [p for p in working_tree_changes(root) if p in analysed or _is_source(p)]
    if not paths:
        raise PlanError("there are no uncommitted edits to plan from")
    states = RepositoryStates(root)
    head, tree = states.revision("HEAD"), states.revision(None)
    changes = [FileChange(p, states.contents(head, p), states.contents(tree, p)) for p in paths]
    for change in changes:
        builder.update_file(change.path, change.before, deleted=change.before is None)
    rules, screen = impact_settings(config)
    seed_user_changes(builder, changes, plan, rules, max_edits_per_block=3, screen_calls=screen)


def _is_source(path: str) -> bool:
    return path.endswith((".py", ".js", ".jsx", ".ts", ".tsx", ".java"))


def _estimate(
    builder: GraphBuilder,
    plan: PlanGraph,
    root: Path,
    config: dict[str, Any],
    task: str,
) -> dict[int, int]:
    prompts = PromptSet.from_config(root, config)

    def read(path: str) -> bytes | None:
        file = root / path
        return file.read_bytes() if file.is_file() else None

    estimates: dict[int, int] = {}
    for obligation in plan.obligations.values():
        block = builder.graph.get(obligation.block_id)
        if block is None or obligation.status is not ObligationStatus.PENDING:
            continue
        # as the planner will ask: a class over the size limit as its outline
        too_long = block.end_line - block.start_line + 1 > PlannerOptions().max_block_lines
        request, _ = build_request(
            builder.graph, plan, obligation, block, read, task, ContextLimits(), outline=too_long
        )
        prompt = sum(len(m["content"]) for m in prompts.messages(request))
        estimates[obligation.id] = (prompt + len(request.source)) // 4  # ~4 characters a token
    return estimates
