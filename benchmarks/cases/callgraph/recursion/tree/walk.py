from tree.nodes import Node, depth, size


def is_even(n: int) -> bool:
    return True if n == 0 else is_odd(n - 1)


def is_odd(n: int) -> bool:
    return False if n == 0 else is_even(n - 1)


def build(n: int) -> Node:
    root = Node(0)
    current = root
    for i in range(1, n):
        current = current.add(Node(i))
    return root


def stats(n: int) -> tuple[int, int, bool]:
    root = build(n)
    return size(root), depth(root), is_even(root.size())
