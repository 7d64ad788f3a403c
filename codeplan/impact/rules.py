"""May-impact rules: for each change label, which relations lead to blocks that may need an
edit, read in the graph before the change (`old`), after it (`new`), or both.

This is the table of the CodePlan paper (see DESIGN.md), extended for Python: a renamed
block impacts everything that referred to it by name.  `Follow.from_class` follows the relation from the changed
block's class (a field change impacts the class's constructor and its hierarchy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codeplan.errors import ConfigError
from codeplan.graph.model import Relation
from codeplan.impact.classify import ChangeLabel

OLD, NEW, BOTH = "old", "new", "both"


@dataclass(frozen=True)
class Follow:
    relation: Relation
    inverse: bool  # True: CalledBy, UsedBy, ... (who points at the changed block)
    graph: str = OLD
    from_class: bool = False
    priority: int = 1  # lower is more certain to need an edit

    @property
    def name(self) -> str:
        return self.relation.inverse_name if self.inverse else self.relation.value


def _hierarchy(graph: str = BOTH, from_class: bool = True) -> tuple[Follow, ...]:
    return (
        Follow(
            Relation.BASE_CLASS_OF, inverse=False, graph=graph, from_class=from_class, priority=2
        ),
        Follow(
            Relation.BASE_CLASS_OF, inverse=True, graph=graph, from_class=from_class, priority=2
        ),
    )


_CALLERS = Follow(Relation.CALLS, inverse=True)
_OVERRIDES = (
    Follow(Relation.OVERRIDES, inverse=False, graph=BOTH),
    Follow(Relation.OVERRIDES, inverse=True, graph=BOTH),
)
_INSTANTIATORS = Follow(Relation.INSTANTIATES, inverse=True, from_class=True)
_CONSTRUCTOR = Follow(Relation.CONSTRUCTS, inverse=True, from_class=True, priority=2)
_USERS = Follow(Relation.USES, inverse=True)
_IMPORTERS = Follow(Relation.IMPORTS, inverse=True)

DEFAULT_RULES: Mapping[ChangeLabel, tuple[Follow, ...]] = {
    ChangeLabel.MMB: (_CALLERS,),  # only when the change escapes (see escape.py)
    ChangeLabel.MMS: (_CALLERS, *_OVERRIDES),
    ChangeLabel.MF: (_USERS, _CONSTRUCTOR, *_hierarchy(OLD)),
    ChangeLabel.MC: (
        Follow(Relation.INSTANTIATES, inverse=True, graph=BOTH),
        *_hierarchy(BOTH, from_class=False),
    ),
    # a constructor is a method too: explicit `Base.__init__(self, ...)` and
    # `super().__init__(...)` calls, and the overriding constructors, follow its signature
    ChangeLabel.MCC: (_INSTANTIATORS, *_hierarchy(OLD), _CALLERS, *_OVERRIDES),
    ChangeLabel.MI: (_IMPORTERS,),
    ChangeLabel.AM: (*_hierarchy(BOTH), Follow(Relation.CALLS, inverse=True, graph=NEW)),
    ChangeLabel.AF: (
        Follow(Relation.CONSTRUCTS, inverse=True, graph=NEW, from_class=True, priority=2),
        *_hierarchy(NEW),
    ),
    ChangeLabel.AC: (),
    ChangeLabel.ACC: (
        Follow(Relation.INSTANTIATES, inverse=True, graph=NEW, from_class=True),
        *_hierarchy(NEW),
    ),
    ChangeLabel.AI: (),
    ChangeLabel.DM: (_CALLERS, *_OVERRIDES, _IMPORTERS),
    ChangeLabel.DF: (_USERS, _CONSTRUCTOR, *_hierarchy(OLD), _IMPORTERS),
    ChangeLabel.DC: (
        Follow(Relation.INSTANTIATES, inverse=True),
        *_hierarchy(OLD, from_class=False),
        _IMPORTERS,
    ),
    ChangeLabel.DCC: (_INSTANTIATORS, *_hierarchy(OLD)),
    ChangeLabel.DI: (_IMPORTERS,),
    # Python: a new name breaks every reference to the old one
    ChangeLabel.RENAMED: (
        _CALLERS,
        _IMPORTERS,
        Follow(Relation.INSTANTIATES, inverse=True),
        _USERS,
    ),
}


def rules_with_overrides(overrides: Mapping[str, Any]) -> dict[ChangeLabel, tuple[Follow, ...]]:
    """The default table with a user's entries replacing whole labels.

    From `[tool.codeplan.impact.rules]` in pyproject.toml or `[impact.rules]` in
    codeplan.toml, for example::

        MMB = []                                         # body changes never propagate
        "param-added-optional" = [{ relation = "CalledBy" }]
        MF = [{ relation = "UsedBy", graph = "both" },
              { relation = "ConstructedBy", from_class = true, priority = 2 }]
    """
    rules = dict(DEFAULT_RULES)
    for name, entries in overrides.items():
        try:
            label = ChangeLabel(name)
        except ValueError:
            known = ", ".join(label.value for label in ChangeLabel)
            raise ConfigError(f"impact rule for unknown label {name!r} (known: {known})") from None
        if not isinstance(entries, list):
            raise ConfigError(f"impact rule {name!r} must be a list of relations to follow")
        rules[label] = tuple(_follow_from_config(name, entry) for entry in entries)
    return rules


def _follow_from_config(label: str, entry: Any) -> Follow:
    if not isinstance(entry, Mapping) or "relation" not in entry:
        raise ConfigError(f"impact rule {label!r}: each entry needs a `relation`")
    unknown = set(entry) - {"relation", "graph", "from_class", "priority"}
    if unknown:
        raise ConfigError(f"impact rule {label!r}: unknown keys {sorted(unknown)}")
    try:
        relation, inverse = Relation.parse(str(entry["relation"]))
    except ValueError as error:
        raise ConfigError(f"impact rule {label!r}: {error}") from None
    graph = entry.get("graph", OLD)
    if graph not in (OLD, NEW, BOTH):
        raise ConfigError(f"impact rule {label!r}: graph must be old, new or both, not {graph!r}")
    priority = entry.get("priority", 1)
    if not isinstance(priority, int):
        raise ConfigError(f"impact rule {label!r}: priority must be an integer")
    return Follow(relation, inverse, graph, bool(entry.get("from_class", False)), priority)
