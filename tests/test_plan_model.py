"""The plan graph's decisions (see codeplan/plan/model.py): breadth-first order, one
pending obligation per block, the re-edit bound, and temporal context along cause paths."""

from __future__ import annotations

from codeplan.plan.model import Cause, Edit, ObligationStatus, PlanGraph

SEED = Cause("seed", "the task")


def edit(plan: PlanGraph, obligation_id: int, block: str) -> Edit:
    path, _, qualname = block.partition("::")
    made = Edit(plan.next_edit_id(), obligation_id, path, qualname, "old", "new", ("MMS",), ())
    plan.record_edit(made)
    plan.settle(obligation_id, ObligationStatus.EDITED)
    return made


def test_obligations_are_taken_breadth_first_then_by_priority_and_place() -> None:
    plan = PlanGraph()
    plan.add("b.py::deep", "x", SEED, depth=2)
    plan.add("b.py::late", "x", SEED, depth=1, priority=2)
    plan.add("a.py::early", "x", SEED, depth=1, priority=1)
    plan.add("a.py::root", "x", SEED, depth=0)
    assert [o.block_id for o in plan.schedule()] == [
        "a.py::root",
        "a.py::early",
        "b.py::late",
        "b.py::deep",
    ]


def test_a_pending_block_gains_causes_instead_of_a_second_obligation() -> None:
    plan = PlanGraph()
    first = plan.add("m.py::f", "x", SEED, depth=2, priority=3)
    other = Cause("edit", "it calls g", edit_id=7, relation="CalledBy")
    merged = plan.add("m.py::f", "y", other, depth=1, priority=1)
    assert merged.id == first.id and len(plan.obligations) == 1
    assert merged.causes == (SEED, other)
    assert (merged.depth, merged.priority) == (1, 1)  # the nearest cause decides
    assert plan.add("m.py::f", "y", other, depth=1).causes == (SEED, other)  # no duplicate


def test_a_done_block_impacted_again_gets_a_new_obligation_and_edits_are_counted() -> None:
    plan = PlanGraph()
    first = plan.add("m.py::f", "x", SEED, depth=0)
    edit(plan, first.id, "m.py::f")
    again = plan.add("m.py::f", "x", Cause("edit", "again", edit_id=1), depth=1)
    assert again.id != first.id
    assert plan.edits_of_block("m.py::f") == 1
    edit(plan, again.id, "m.py::f")
    assert plan.edits_of_block("m.py::f") == 2


def test_temporal_context_follows_cause_paths_nearest_first() -> None:
    plan = PlanGraph()
    root = plan.add("a.py::f", "x", SEED, depth=0)
    e1 = edit(plan, root.id, "a.py::f")
    mid = plan.add("b.py::g", "x", Cause("edit", "calls f", edit_id=e1.id), depth=1)
    unrelated = plan.add("c.py::h", "x", SEED, depth=0)
    edit(plan, unrelated.id, "c.py::h")
    e2 = edit(plan, mid.id, "b.py::g")
    leaf = plan.add("d.py::k", "x", Cause("edit", "calls g", edit_id=e2.id), depth=2)
    assert [e.qualname for e in plan.edits_leading_to(leaf, limit=5)] == ["g", "f"]
    assert [e.qualname for e in plan.edits_leading_to(leaf, limit=1)] == ["g"]


def test_the_plan_round_trips_through_json() -> None:
    plan = PlanGraph()
    root = plan.add("a.py::f", "x", SEED, depth=0)
    e1 = edit(plan, root.id, "a.py::f")
    plan.add("b.py::g", "x", Cause("edit", "calls f", edit_id=e1.id, relation="CalledBy"), depth=1)
    again = PlanGraph.from_json(plan.to_json())
    assert again.obligations == plan.obligations
    assert again.edits == plan.edits


def test_a_large_earlier_edit_is_shown_around_its_changes() -> None:
    from codeplan.plan.context import around_changes

    body = "\n".join(f"    def m{i}(self):\n        return {i}" for i in range(60))
    before = "class Big:\n" + body
    after = before.replace("return 30", "return 31")
    old, new = around_changes(before, after)
    assert old.splitlines()[0] == new.splitlines()[0] == "class Big:"
    assert "return 30" in old and "return 31" in new
    assert "return 5\n" not in old and len(old) < len(before) // 5
    assert old.count("    ...") == new.count("    ...") == 2
