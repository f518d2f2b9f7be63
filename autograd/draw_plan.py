"""The plan of a drawing: which nodes it shows, in which clusters, and what collapses.

A graph of at most `max_nodes` Values is shown whole. A bigger one collapses in two
steps, the second only when the first did not make it fit:

1. each cluster of the deepest level that fits becomes one box (level 1 if none fits);
2. the leaves (parameters first, at most half of max_nodes) and the nodes nearest the
   output stay; each other node is hidden in a "… N nodes …" box: the box of the inputs
   of the first drawn node, from the output down, that leads to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from autograd.graph import Scope
from autograd.value import Value


@dataclass
class Box:
    """A collapsed cluster: its scope, how many nodes it holds, how many of them are parameters."""

    scope: Scope
    size: int = 0
    params: int = 0


@dataclass
class Plan:
    """What a drawing shows. Node `order[i]` is drawn as `shown[i]`: "v{i}", a box of its own;
    "s{k}", the collapsed cluster `boxes["s{k}"]`; or "h{j}", one of `hidden["h{j}"]` nodes.
    """

    root: Value
    order: list[Value]  # users before their inputs, the first input's nodes first
    index: dict[Value, int]
    params: set[Value]
    wrong: dict[Value, list[Any]]  # highlighted nodes, with the checker's findings
    where: list[Scope | None]  # the cluster each node is drawn in
    shown: list[str]
    boxes: dict[str, Box] = field(default_factory=dict)
    hidden: dict[str, int] = field(default_factory=dict)
    caption: str = ""  # what collapsed, if anything


def plan(
    root: Value,
    *,
    max_nodes: int = 100,
    highlight: Iterable[Any] = (),
    params: Iterable[Value] | None = None,
    inputs: Iterable[Value] = (),
) -> Plan:
    """Decide what `draw` shows: the nodes, their clusters, and what collapses past `max_nodes`."""
    if not isinstance(root, Value):
        raise TypeError(f"draw() takes a Value, got {type(root).__name__}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    order = _users_first(root)
    made_in = [node._scope for node in order]
    found, home = _owned(made_in)
    if params is None:
        params = found or [v for v in order if v.is_leaf and v.grad_computed]
    wrong: dict[Value, list[Any]] = {}
    for item in highlight:
        node = item if isinstance(item, Value) else getattr(item, "node", None)
        if not isinstance(node, Value):
            raise TypeError(f"highlight takes Values or checker results, got {type(item).__name__}")
        findings = wrong.setdefault(node, [])
        if item is not node:
            findings.append(item)
    p = Plan(
        root,
        order,
        {node: i for i, node in enumerate(order)},
        set(params).difference(inputs),
        wrong,
        # Parameters are drawn in their owner's cluster, other nodes where they were made.
        [home.get(v, s) if v.is_leaf else s for v, s in zip(order, made_in, strict=True)],
        [f"v{i}" for i in range(len(order))],
    )
    if len(order) > max_nodes:
        notes = [_collapse_clusters(p, max_nodes), _collapse_runs(p, max_nodes)]
        head = f"{len(order):,} nodes, more than max_nodes={max_nodes:,}: "
        p.caption = head + "; ".join(note for note in notes if note)
    return p


_FINISHED = object()


def _users_first(root: Value) -> list[Value]:
    """Every node `root` depends on, after all its users: the finishing order of a depth-first
    walk that visits inputs last to first, reversed, so the first input's nodes come first."""
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is _FINISHED:
            order.append(stack.pop())
        elif type(node) is Value and node not in seen:
            seen.add(node)
            stack += (node, _FINISHED, *node.inputs)
    order.reverse()
    return order


def _owned(made_in: list[Scope | None]) -> tuple[set[Value], dict[Value, Scope]]:
    """The parameters of the scopes' owners (nn modules), and the cluster each is drawn in:
    the deepest one whose owner holds it, if that owner ran only once in this graph."""
    runs: dict[int, tuple[Any, list[Scope]]] = {}  # by the owner's id: the owner, its scopes
    seen: set[Scope] = set()
    for s in dict.fromkeys(made_in):
        while s is not None and s not in seen:
            seen.add(s)
            if s.owner is not None:
                runs.setdefault(id(s.owner), (s.owner, []))[1].append(s)
            s = s.parent
    found: set[Value] = set()
    home: dict[Value, Scope] = {}
    for owner, scopes in runs.values():
        get = getattr(owner, "parameters", None)
        owned = [p for p in get() if isinstance(p, Value)] if callable(get) else []
        found.update(owned)
        for p in owned if len(scopes) == 1 else ():
            if p not in home or len(home[p].path()) < len(scopes[0].path()):
                home[p] = scopes[0]
    return found, home


def _collapse_clusters(p: Plan, max_nodes: int) -> str:
    """Make each cluster of the deepest level that fits one box; say what collapsed."""
    depth: dict[Scope, int] = {}  # every scope with its ancestors: 1 = outermost
    for s in dict.fromkeys(p.where):
        while s is not None and s not in depth:
            depth[s] = len(s.path())
            s = s.parent
    if not depth:
        return ""
    # Collapsing level d draws the nodes outside clusters that deep, and one box per cluster.
    outside = Counter(0 if s is None else depth[s] for s in p.where)
    clusters = Counter(depth.values())
    level = 1
    for d in range(max(depth.values()), 1, -1):
        if sum(c for k, c in outside.items() if k < d) + clusters[d] <= max_nodes:
            level = d
            break
    box_of: dict[Scope, str] = {}
    for i, s in enumerate(p.where):
        if s is None or depth[s] < level:
            continue
        name = box_of.get(s)
        if name is None:
            top = s.path()[level - 1]
            name = box_of[s] = box_of.setdefault(top, f"s{len(p.boxes)}")
            p.boxes.setdefault(name, Box(top))
        p.shown[i] = name
        p.boxes[name].size += 1
        p.boxes[name].params += p.order[i] in p.params
    labels = sorted({b.scope.label for b in p.boxes.values()})
    named = ", ".join(labels[:6]) + (", …" if len(labels) > 6 else "")
    hidden = sum(b.size for b in p.boxes.values())
    return f"{hidden:,} nodes in {len(p.boxes):,} clusters ({named}) are drawn as one box each"


def _collapse_runs(p: Plan, max_nodes: int) -> str:
    """Keep the leaves and the nodes nearest the output; hide the rest; say what was hidden."""
    shown, index, order = p.shown, p.index, p.order
    if len(set(shown)) <= max_nodes:
        return ""
    leaves = [i for i, v in enumerate(order) if v.is_leaf and shown[i][0] == "v"]
    leaves.sort(key=lambda i: order[i] not in p.params)
    kept: set[str] = set()
    budget = max_nodes - min(len(leaves), max_nodes // 2)  # the rest is for the leaves
    queue, seen = [0], {0}  # breadth first from the output, order[0]
    for i in queue:
        if len(kept) == budget:
            break
        kept.add(shown[i])
        for q in order[i].inputs:
            if type(q) is Value and index[q] not in seen:
                seen.add(index[q])
                queue.append(index[q])
    for i in leaves:
        if len(kept) == max_nodes:
            break
        kept.add(shown[i])
    # Users come first, so a node's own box is known by the time its inputs are met.
    cap, boxes = max(1, max_nodes // 10), 0
    box_of: dict[str, str] = {}  # a hidden unit's box; a drawn one's box of hidden inputs
    for i, node in enumerate(order):
        me = shown[i]
        for q in node.inputs:
            if type(q) is not Value:
                continue
            them = shown[index[q]]
            if them in kept or them in box_of:
                continue
            if me not in box_of:  # a drawn node's first hidden input
                box_of[me] = f"h{min(boxes, cap - 1)}"
                boxes += 1
            box_of[them] = box_of[me]
    for i, unit in enumerate(shown):
        if unit not in kept:
            shown[i] = box_of[unit]
    p.boxes = {name: box for name, box in p.boxes.items() if name in kept}
    p.hidden = dict(Counter(s for s in shown if s[0] == "h"))
    total = sum(p.hidden.values())
    return f"{total:,} nodes between the output end and the leaves are drawn as “… N nodes …”"
