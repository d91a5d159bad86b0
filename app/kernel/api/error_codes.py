"""Which stable error codes each operation can answer, read from the source (never a hand list per route).

The one table is `code_table()`: every `code` literal passed to a `DomainError` subclass (its class gives the
status) or to a helper whose parameter is named `code` (a pure rule's violation, answered as 422), found by
walking the AST of `app/`. An operation's codes are those reachable from its endpoint and its dependencies
through calls the scanner can resolve by name (module functions and imported names; method calls on objects
are not followed), plus the codes the kernel answers for every request of its shape (`generic_codes`).
This over-approximates (a shared service brings all its codes), which is what "may answer" means.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

APP = Path(__file__).resolve().parents[2]
RULE_STATUS = 422  # a pure rule's violation (RowError, AdvanceViolation, …) is answered as 422

# Answered by the kernel itself, not by a `DomainError` in a service (problems.py, middleware.py, deps.py).
KERNEL_CODES = {
    "validation_failed": 422, "bad_request": 400, "payload_too_large": 413, "not_found": 404,
    "method_not_allowed": 405, "too_many_requests": 429, "internal_error": 500,
}


@dataclass
class _Module:
    name: str
    imports: dict[str, str] = field(default_factory=dict)  # local name → "module" or "module:function"
    functions: dict[str, ast.AST] = field(default_factory=dict)


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, _Module]:
    modules: dict[str, _Module] = {}
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = modules[_module_name(path)] = _Module(_module_name(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = f"{node.module}:{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports[alias.asname or alias.name.split(".")[0]] = alias.name
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                module.functions[node.name] = node
    return modules


def _resolve(module: _Module, call: ast.expr) -> str | None:
    """`module:name` of a called function or class, when the scanner can tell."""
    modules = _modules()
    if isinstance(call, ast.Name):
        if call.id in module.functions:
            return f"{module.name}:{call.id}"
        target = module.imports.get(call.id)
        if target and ":" in target:
            owner, name = target.split(":")
            if f"{owner}.{name}" in modules:
                return None  # a module called like a function: not a call we follow
            return target
    elif isinstance(call, ast.Attribute) and isinstance(call.value, ast.Name):
        target = module.imports.get(call.value.id)
        if target:
            owner = target.replace(":", ".")
            if owner in modules:
                return f"{owner}:{call.attr}"
    return None


def _definition(qualified: str) -> ast.AST | None:
    owner, _, name = qualified.partition(":")
    module = _modules().get(owner)
    if module is None:
        return None
    node = module.functions.get(name)
    if node is None and name in module.imports and ":" in module.imports[name]:
        return _definition(module.imports[name])  # re-exported name
    return node


@cache
def _error_status(qualified: str) -> int | None:
    """The status of a `DomainError` subclass, None for anything else."""
    node = _definition(qualified)
    if not isinstance(node, ast.ClassDef):
        return None
    if qualified == "app.kernel.errors:DomainError":
        return 422
    module = _modules()[qualified.partition(":")[0]]
    for base in node.bases:
        base_name = _resolve(module, base)
        if base_name is None or (inherited := _error_status(base_name)) is None:
            continue
        for statement in node.body:
            if (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
                    and any(isinstance(t, ast.Name) and t.id == "status" for t in statement.targets)):
                return int(statement.value.value)  # type: ignore[arg-type]
        return inherited
    return None


def _code_position(qualified: str) -> int | None:
    """Where a callee takes its `code` (a DomainError: first; a helper: its parameter named `code`)."""
    if _error_status(qualified) is not None:
        return 0
    node = _definition(qualified)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        names = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
        return names.index("code") if "code" in names else None
    if isinstance(node, ast.ClassDef):  # a dataclass whose field is named `code`
        fields = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
        return fields.index("code") if "code" in fields else None
    return None


@cache
def _direct(qualified: str) -> tuple[dict[str, int], tuple[str, ...]]:
    """(codes raised directly → status, functions called) of one function."""
    node = _definition(qualified)
    if node is None:
        return {}, ()
    module = _modules()[qualified.partition(":")[0]]
    codes: dict[str, int] = {}
    callees: list[str] = []
    for call in ast.walk(node):
        if not isinstance(call, ast.Call) or (callee := _resolve(module, call.func)) is None:
            continue
        callees.append(callee)
        position = _code_position(callee)
        if position is None:
            continue
        literal = call.args[position] if position < len(call.args) else next(
            (k.value for k in call.keywords if k.arg == "code"), None)
        if isinstance(literal, ast.Constant) and isinstance(literal.value, str) and literal.value.isidentifier():
            codes[literal.value] = _error_status(callee) or RULE_STATUS
    return codes, tuple(callees)


def reachable_codes(roots: Iterable[str]) -> dict[str, int]:
    """Every code raised by the functions reachable from `roots` (`module:function`)."""
    seen: set[str] = set()
    stack = list(roots)
    codes: dict[str, int] = {}
    while stack:
        qualified = stack.pop()
        if qualified in seen:
            continue
        seen.add(qualified)
        direct, callees = _direct(qualified)
        codes.update(direct)
        stack.extend(c for c in callees if c.startswith("app.") and c not in seen)
    return codes


def qualified_name(function: object) -> str | None:
    """`module:function` of a Python callable defined in app/ (None for closures the scanner cannot see)."""
    module = getattr(function, "__module__", "") or ""
    name = getattr(function, "__name__", "")
    if not module.startswith("app.") or name not in _modules().get(module, _Module(module)).functions:
        return None
    return f"{module}:{name}"


def code_table() -> dict[str, int]:
    """Every stable code in app/ and its status: the one table the document's `x-error-codes` come from."""
    table = dict(KERNEL_CODES)
    for module in _modules().values():
        for name in module.functions:
            table.update(_direct(f"{module.name}:{name}")[0])
    return dict(sorted(table.items()))


def source_of(function: object) -> str:
    try:
        return inspect.getsource(function)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""
