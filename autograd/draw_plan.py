"""The plan of a drawing: which nodes it shows, in which clusters, and what collapses.

A graph of at most `max_nodes` Values is shown whole. In a bigger one, each cluster of the
deepest level that fits becomes one box (level 1 if none fits). If that is not enough, the
leaves (parameters first, at most half of max_nodes) and the nodes nearest the output stay.
Walking from the output, each other node is hidden in the "… N nodes …" box of the node that
met it first; a drawn node starts a box of its own for the hidden nodes it meets (past
max_nodes / 10 boxes, the rest share the last).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autograd.graph import Scope, is_node

if TYPE_CHECKING:
    from autograd.value import Value


@dataclass
class Plan:
    """What a drawing shows. Node `order[i]` is drawn as `shown[i]`: "v{i}", a box of its own;
    "s{k}", the collapsed cluster `boxes["s{k}"]`; or "h{j}", a box of hidden nodes.
    """

    root: Value
    order: list[Value]  # breadth first from the output, inputs in order
    parent: list[int]  # for each node, the index of the node that met it first
    index: dict[Value, int]
    params: set[Value]
    wrong: dict[Value, list[Any]]  # highlighted nodes, with the checker's findings
    where: list[Scope | None]  # the cluster each node is drawn in
    shown: list[str]
    boxes: dict[str, Scope] = field(default_factory=dict)
    count: Counter[str] = field(default_factory=Counter)  # the nodes in each drawn box
    params_in: Counter[str] = field(default_factory=Counter)  # the parameters in each
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
    if not is_node(root):
        raise TypeError(f"draw() takes a Value, got {type(root).__name__}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    order, parent, index = _breadth_first(root)
    made_in = [node._scope for node in order]  # where each node is drawn
    depth: dict[Scope | None, int] = {None: 0}  # every scope, ancestors first: 1 = outermost
    for s in dict.fromkeys(made_in):
        if s is not None and s not in depth:
            depth.update((a, k) for k, a in enumerate(s.path(), 1))
    found, home = _owned(depth)
    if params is None:
        params = found or [v for v in order if v.is_leaf and v.grad_computed]
    wrong: dict[Value, list[Any]] = {}
    for item in highlight:
        node = item if is_node(item) else getattr(item, "node", None)
        if not is_node(node):
            raise TypeError(f"highlight takes Values or checker results, got {type(item).__name__}")
        wrong.setdefault(node, []).extend([] if item is node else [item])
    shown = [f"v{i}" for i in range(len(order))]
    p = Plan(root, order, parent, index, set(params).difference(inputs), wrong, made_in, shown)
    for v, s in home.items():  # a parameter is drawn in its owner's cluster
        if v in index and v.is_leaf:
            p.where[index[v]] = s
    if len(order) > max_nodes:
        notes = [_collapse_clusters(p, depth, max_nodes), _collapse_runs(p, max_nodes)]
        head = f"{len(order):,} nodes, more than max_nodes={max_nodes:,}: "
        p.caption = head + "; ".join(note for note in notes if note)
        p.count = Counter(p.shown)
        p.params_in = Counter(p.shown[index[v]] for v in p.params if v in index)
    return p


def _breadth_first(root: Value) -> tuple[list[Value], list[int], dict[Value, int]]:
    """Every node `root` depends on, nearest first and inputs in order; for each, the index of
    the node that met it first; and each node's index."""
    order, parent, index = [root], [0], {root: 0}
    for i, node in enumerate(order):
        for q in node.inputs:
            if is_node(q) and q not in index:
                index[q] = len(order)
                order.append(q)
                parent.append(i)
    return order, parent, index


def _owned(depth: dict[Scope | None, int]) -> tuple[set[Value], dict[Value, Scope]]:
    """The parameters of the scopes' owners (nn modules), and the cluster each is drawn in:
    the deepest one whose owner holds it, if that owner ran only once in this graph."""
    runs: dict[int, list[Scope]] = {}  # each owner's scopes, by the owner's id
    for s in depth:
        if s is not None and s.owner is not None:
            runs.setdefault(id(s.owner), []).append(s)
    found: set[Value] = set()
    home: dict[Value, Scope] = {}
    for scopes in runs.values():
        get = getattr(scopes[0].owner, "parameters", None)
        owned = [p for p in get() if is_node(p)] if callable(get) else []
        found.update(owned)
        for p in owned if len(scopes) == 1 else ():
            if depth[home.get(p)] < depth[scopes[0]]:
                home[p] = scopes[0]
    return found, home


def _collapse_clusters(p: Plan, depth: dict[Scope | None, int], max_nodes: int) -> str:
    """Make each cluster of the deepest level that fits one box; say what collapsed."""
    # Collapsing level d draws the nodes outside clusters that deep, and one box per cluster.
    outside = Counter(depth[s] for s in p.where)
    clusters = Counter(depth.values())
    cost = {d: sum(c for k, c in outside.items() if k < d) + clusters[d] for d in clusters if d}
    level = max((d for d, c in cost.items() if c <= max_nodes), default=1)
    box_of: dict[Scope | None, str] = {}  # each scope `level` deep or deeper: its box
    for s, d in depth.items():
        if s is not None and d == level:
            box_of[s] = f"s{len(p.boxes)}"
            p.boxes[box_of[s]] = s
        elif s is not None and d > level:
            box_of[s] = box_of[s.parent]
    p.shown = [box_of.get(s, me) for s, me in zip(p.where, p.shown, strict=True)]
    if not p.boxes:
        return ""
    labels = sorted({s.label for s in p.boxes.values()})
    named = ", ".join(labels[:6]) + (", …" if len(labels) > 6 else "")
    hidden = sum(1 for s in p.shown if s[0] == "s")
    return f"{hidden:,} nodes in {len(p.boxes):,} clusters ({named}) are drawn as one box each"


def _collapse_runs(p: Plan, max_nodes: int) -> str:
    """Keep the leaves and the nodes nearest the output; hide the rest; say what was hidden."""
    shown, order = p.shown, p.order
    if len(set(shown)) <= max_nodes:
        return ""
    leaves = [i for i, v in enumerate(order) if v.is_leaf and shown[i][0] == "v"]
    leaves.sort(key=lambda i: order[i] not in p.params)
    kept = {shown[i] for i in leaves[: max_nodes // 2]}
    # The first units met from the output are drawn; a unit met later is hidden in the box of
    # the one that met it, and a drawn unit starts a new box for its hidden inputs.
    cap = max(1, max_nodes // 10)
    box_of: dict[str, str] = {}  # a hidden unit's box
    inputs_box: dict[str, str] = {}  # a drawn unit's box of hidden inputs
    for i, me in enumerate(shown):
        if me in kept or me in box_of:
            continue
        if len(kept) < max_nodes:
            kept.add(me)
            continue
        via = shown[p.parent[i]]
        if via in kept and via not in inputs_box:
            inputs_box[via] = f"h{min(len(inputs_box), cap - 1)}"
        box_of[me] = inputs_box[via] if via in kept else box_of[via]
    p.shown = [box_of.get(unit, unit) for unit in shown]
    p.boxes = {name: s for name, s in p.boxes.items() if name in kept}
    total = sum(1 for s in p.shown if s[0] == "h")
    return f"{total:,} nodes between the output end and the leaves are drawn as “… N nodes …”"
