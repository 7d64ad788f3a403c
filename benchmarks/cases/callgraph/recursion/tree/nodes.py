from __future__ import annotations


class Node:
    def __init__(self, value: int, children: list[Node] | None = None) -> None:
        self.value = value
        self.children = children or []

    def add(self, child: Node) -> Node:
        self.children.append(child)
        return child

    def size(self) -> int:
        return size(self)


def size(node: Node) -> int:
    total = 1
    for child in node.children:
        total += size(child)
    return total


def depth(node: Node) -> int:
    return 1 + max((depth(c) for c in node.children), default=0)
