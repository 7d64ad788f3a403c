"""Block diff: which blocks were added, modified, deleted or renamed between two states.

A block's *own* text is its text with its child blocks cut out, so editing a method
modifies the method, not its class and module as well.  A deleted and an added block of
the same kind under the same parent are a rename when their own text is the same once the
name is ignored, or when they sit at the same position among their siblings; a block of
the same name and text elsewhere (another file or class) is a move, reported as a rename
so that whoever referred to the old place is found.  Same-named siblings (overloads, a
property's getter and setter) are paired by their text, not by their `#n` order.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from codeplan.graph.model import Block, BlockKind


class ChangeKind(str, Enum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"


@dataclass(frozen=True)
class BlockChange:
    kind: ChangeKind
    old: Block | None
    new: Block | None

    @property
    def block(self) -> Block:
        """The block as it is now (as it was, for a deletion)."""
        found = self.new or self.old
        assert found is not None
        return found


@dataclass(frozen=True)
class _Side:
    blocks: Mapping[str, Block]
    sources: Mapping[str, bytes]  # path -> file contents

    def own_text(self, block: Block) -> bytes:
        source = self.sources.get(block.path, b"")
        start, end = block.start_byte, block.end_byte
        pieces, cursor = [], start
        for child in sorted(self._children(block), key=lambda b: b.start_byte):
            if child.start_byte >= cursor and child.end_byte <= end:
                pieces.append(source[cursor : child.start_byte])
                cursor = child.end_byte
        pieces.append(source[cursor:end])
        return b"".join(pieces)

    def _children(self, block: Block) -> Iterable[Block]:
        return (b for b in self.blocks.values() if b.parent == block.id)

    def siblings(self, block: Block) -> list[str]:
        return [
            b.id
            for b in sorted(self.blocks.values(), key=lambda b: b.start_byte)
            if b.parent == block.parent and b.kind is block.kind
        ]


def diff_blocks(
    old_blocks: Iterable[Block],
    new_blocks: Iterable[Block],
    old_sources: Mapping[str, bytes],
    new_sources: Mapping[str, bytes],
) -> list[BlockChange]:
    """The changes from the old blocks to the new ones, in a stable order."""
    old = _Side({b.id: b for b in old_blocks}, old_sources)
    new = _Side({b.id: b for b in new_blocks}, new_sources)
    changes, renamed, paired = _diff_families(old, new)
    for block_id in sorted((old.blocks.keys() & new.blocks.keys()) - paired):
        before, after = old.blocks[block_id], new.blocks[block_id]
        if _digest(old.own_text(before)) != _digest(new.own_text(after)):
            changes.append(BlockChange(ChangeKind.MODIFIED, before, after))
    # parents sort before their children, so a renamed class is paired before its members
    deleted = [old.blocks[i] for i in sorted(old.blocks.keys() - new.blocks.keys() - paired)]
    added = [new.blocks[i] for i in sorted(new.blocks.keys() - old.blocks.keys() - paired)]
    for before in deleted:
        moved = _moved_with_parent(before, added, renamed)
        if moved is not None:
            added.remove(moved)
            renamed[before.id] = moved.id
            if _digest(old.own_text(before)) != _digest(new.own_text(moved)):
                changes.append(BlockChange(ChangeKind.MODIFIED, before, moved))
            continue
        partner = _rename_partner(before, added, old, new)
        if partner is None:
            changes.append(BlockChange(ChangeKind.DELETED, before, None))
        else:
            added.remove(partner)
            renamed[before.id] = partner.id
            # an import's id comes from the names it binds: a changed import is modified
            kind = ChangeKind.MODIFIED if before.kind is BlockKind.IMPORT else ChangeKind.RENAMED
            changes.append(BlockChange(kind, before, partner))
    changes.extend(BlockChange(ChangeKind.ADDED, None, after) for after in added)
    return sorted(changes, key=lambda c: (c.block.path, c.block.start_byte, c.kind.value))


def _diff_families(old: _Side, new: _Side) -> tuple[list[BlockChange], dict[str, str], set[str]]:
    """Same-named siblings (overloads, a property's getter and setter: `f`, `f#2`, ...)
    are told apart by their order, so inserting one shifts the ids of those after it.
    Paired by their text instead: the changes, old id -> new id where an id shifted, and
    every id (either side) these families account for."""
    changes: list[BlockChange] = []
    renamed: dict[str, str] = {}
    paired: set[str] = set()
    old_families, new_families = _families(old), _families(new)
    for key in sorted(old_families.keys() & new_families.keys(), key=str):
        before, after = old_families[key], new_families[key]
        if len(before) < 2 and len(after) < 2:
            continue
        paired.update(b.id for b in (*before, *after))
        old_digests = [_digest(old.own_text(b)) for b in before]
        new_digests = [_digest(new.own_text(b)) for b in after]
        matcher = difflib.SequenceMatcher(None, old_digests, new_digests, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            olds, news = before[i1:i2], after[j1:j2]
            for was, now in zip(olds, news, strict=False):
                if was.id != now.id:
                    renamed[was.id] = now.id
                if tag != "equal":
                    changes.append(BlockChange(ChangeKind.MODIFIED, was, now))
            changes.extend(BlockChange(ChangeKind.DELETED, b, None) for b in olds[len(news) :])
            changes.extend(BlockChange(ChangeKind.ADDED, None, b) for b in news[len(olds) :])
    return changes, renamed, paired


def _families(side: _Side) -> dict[tuple[str, str | None, str, str], list[Block]]:
    families: dict[tuple[str, str | None, str, str], list[Block]] = {}
    for block in sorted(side.blocks.values(), key=lambda b: b.start_byte):
        base = re.sub(r"#\d+$", "", block.qualname)
        families.setdefault((block.path, block.parent, block.kind.value, base), []).append(block)
    return families


def _moved_with_parent(before: Block, added: list[Block], renamed: dict[str, str]) -> Block | None:
    """A member of a renamed class keeps its name under the class's new name."""
    if before.parent not in renamed:
        return None
    suffix = before.id[len(before.parent) :]
    expected = renamed[before.parent] + suffix
    return next((b for b in added if b.id == expected), None)


def _rename_partner(before: Block, added: list[Block], old: _Side, new: _Side) -> Block | None:
    """Same kind and parent, and the same body or the same place: renamed.  Failing that,
    the same name and body in another file or class: moved."""
    body = _without_name(old.own_text(before), _bare(before))
    siblings = [b for b in added if b.kind is before.kind and b.parent == before.parent]
    same_body = [c for c in siblings if _without_name(new.own_text(c), _bare(c)) == body]
    if len(same_body) == 1:
        return same_body[0]
    if len(same_body) > 1:
        # e.g. two `from .utils import X` made private at once: each to its own new name
        closest = _closest_name(_bare(before), same_body)
        if closest is not None:
            return closest
    if siblings:
        old_position = old.siblings(before).index(before.id)
        same_place = [c for c in siblings if new.siblings(c).index(c.id) == old_position]
        if len(same_place) == 1:
            return same_place[0]
    own = _digest(old.own_text(before))
    moved = [
        b
        for b in added
        if b.kind is before.kind and b.name == before.name and _digest(new.own_text(b)) == own
    ]
    return moved[0] if len(moved) == 1 else None


def _closest_name(name: str, candidates: list[Block]) -> Block | None:
    """The candidate whose name is clearly the most like `name`, if one is."""
    ranked = sorted(
        ((difflib.SequenceMatcher(None, name, _bare(c)).ratio(), c) for c in candidates),
        key=lambda pair: -pair[0],
    )
    best, runner_up = ranked[0][0], ranked[1][0]
    return ranked[0][1] if best >= 0.6 and best > runner_up else None


def _bare(block: Block) -> str:
    """The name as the text spells it (an import's block is named `import:NAME`)."""
    return block.name.removeprefix("import:")


def _without_name(text: bytes, name: str) -> bytes:
    return re.sub(rb"\b" + re.escape(name.encode()) + rb"\b", b"\0", text, count=1)


def _digest(text: bytes) -> str:
    """Blank lines and trailing spaces are ignored (adding a member changes the gaps around
    the others); indentation is not, since in Python it is meaning."""
    lines = (line.rstrip() for line in text.splitlines())
    return hashlib.blake2b(b"\n".join(line for line in lines if line), digest_size=16).hexdigest()
