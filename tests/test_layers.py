"""Dependencies run one way: building blocks, adapters, contexts, projections, the assembled
platform, the HTTP edge, the entry points. Read from the source with `ast`, so a late import
inside a function counts as much as one at the top."""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["marketplace", "sellers", "offers", "orders", "projections"]
# Lowest first; a module may import its own layer or a lower one.
LAYERS = [
    ("kernel", ["marketplace.kernel"]),
    ("adapters", ["marketplace.adapters"]),
    (
        "contexts",
        [
            "sellers",
            "offers",
            "orders",
            "marketplace.buyers",
            "marketplace.people",
            "marketplace.taxes",
        ],
    ),
    ("projections", ["projections", "marketplace.mail", "marketplace.webhooks"]),
    ("composition", ["marketplace.platform"]),
    ("edge", ["marketplace.web", "marketplace.pages"]),
    ("entry", ["marketplace.cli", "marketplace.demo", "marketplace.__main__"]),
]
NAMES = [name for name, _ in LAYERS]
EDGE = NAMES.index("edge")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def layer(module: str) -> int:
    if module.split(".")[-1] == "api":
        return EDGE  # a context's router belongs to the edge, beside its context
    best, depth = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = index, len(prefix)
    return best


def _imports(module: str) -> Iterator[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module and name not in PACKAGES:
                yield name


GRAPH = {module: set(_imports(module)) for module in MODULES}


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(m for m in MODULES if m not in PACKAGES and layer(m) < 0)
    assert unplaced == []


def upward(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{module} ({LAYERS[layer(module)][0]}) imports {target} ({LAYERS[layer(target)][0]})"
        for module, targets in graph.items()
        if module not in PACKAGES
        for target in targets
        if layer(target) > layer(module)
    ]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                found.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_no_module_imports_from_a_higher_layer() -> None:
    assert upward(GRAPH) == []


# A context's application services: they load and save aggregates, and may use adapters.
# Every other module of a context holds rules and no infrastructure, whatever its name, so
# a new module is held to the rule until it is named here.
SERVICES = {
    "marketplace.people.application",
    "offers.holds",
    "offers.imports",
    "orders.approval",
    "orders.billing.incidents",
    "orders.billing.invoicing",
    "orders.billing.payments",
    "orders.billing.payouts",
    "orders.billing.returns",
    "orders.billing.statements",
    "orders.budgeting",
    "orders.charging",
    "orders.choosing",
    "orders.fulfilment",
    "orders.holding",
    "orders.placement",
}


def _holds_rules(module: str) -> bool:
    return (
        NAMES[layer(module)] == "contexts"
        and module not in PACKAGES
        and module.rpartition(".")[2] not in ("application", "api", "__init__")
        and module not in SERVICES
        and MODULES[module].name != "__init__.py"
    )


def test_the_rule_modules_are_the_ones_expected() -> None:
    # What the purity rule covers, listed, so that a module leaving it is a visible change.
    assert sorted(m for m in MODULES if _holds_rules(m)) == [
        "marketplace.buyers.domain",
        "marketplace.buyers.lists",
        "marketplace.taxes.domain",
        "marketplace.taxes.profiles",
        "marketplace.taxes.rates",
        "offers.choice",
        "offers.domain",
        "offers.pricing",
        "offers.search",
        "offers.shipping",
        "offers.visibility",
        "orders.billing.domain",
        "orders.billing.incident",
        "orders.budgets",
        "orders.charges",
        "orders.domain",
        "orders.quoting.domain",
        "sellers.domain",
    ]


def test_domain_modules_import_only_building_blocks_and_other_domain_rules() -> None:
    leaks = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _holds_rules(module)
        for target in targets
        if not (target.startswith("marketplace.kernel") or _holds_rules(target))
    ]
    assert leaks == []


def _defines_an_aggregate(module: str) -> bool:
    tree = ast.parse(MODULES[module].read_text())
    return any(
        isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id == "Aggregate" for base in node.bases)
        for node in tree.body
    )


def test_every_aggregate_lives_in_a_module_the_purity_rule_checks() -> None:
    # A new aggregate in a module of another name cannot escape the rule above.
    escaped = [
        module
        for module in MODULES
        if not module.startswith("marketplace.kernel")
        and _defines_an_aggregate(module)
        and not _holds_rules(module)
    ]
    assert escaped == []


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(GRAPH) == []


def test_the_rules_catch_what_the_old_layout_did() -> None:
    # The relay read the event log from projections; the app and its routers imported
    # each other (held together by an import inside a function).
    old = {
        "marketplace.adapters.relay": {"projections.runner"},
        "marketplace.web.app": {"offers.api"},
        "offers.api": {"marketplace.web.app"},
    }
    assert upward(old) == [
        "marketplace.adapters.relay (adapters) imports projections.runner (projections)"
    ]
    assert cycles(old) == [["marketplace.web.app", "offers.api", "marketplace.web.app"]]


def test_below_the_edge_refusals_are_reasons_not_http_statuses() -> None:
    http = [
        f"{module}:{node.lineno}"
        for module, path in MODULES.items()
        if NAMES[layer(module)] in {"kernel", "contexts", "projections"}
        and module.split(".")[-1] != "api"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Name | ast.Attribute | ast.arg)
        and "status_code"
        in {getattr(node, "id", None), getattr(node, "attr", None), getattr(node, "arg", None)}
    ]
    assert http == []
