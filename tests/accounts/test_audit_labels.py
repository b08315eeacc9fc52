"""Every action and every detail the code sends to the audit log has words in the reader's
language: a new action or detail without a label would show its code on the audit page.

The source is read, not run: each call that sends core.signals.staff_action, and each
function that passes its own arguments on to one (send_staff_action, the API's audit(),
the command line's and the calendar's helpers), is followed back to the codes its callers
give, through f-strings, constants, `if action in ACTIONS` and dicts built on the way."""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import force_locale

from accounts.audit import AuditFilters
from accounts.labels import AUDIT_ACTION_LABELS, AUDIT_DETAIL_LABELS, audit_action_label
from gated.listing import LeadFilters

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "accounts",
    "api",
    "assistant",
    "campaigns",
    "channels",
    "content",
    "core",
    "gated",
    "insights",
    "nurture",
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Module:
    name: str
    tree: ast.Module
    parents: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)


class Scan:
    """What the project can send: action codes and detail names, and what it could not read."""

    def __init__(self):
        self.modules = []
        for package in PACKAGES:
            for path in sorted((ROOT / package).rglob("*.py")):
                name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                module = Module(name, ast.parse(path.read_text(encoding="utf-8")))
                for node in ast.walk(module.tree):
                    for child in ast.iter_child_nodes(node):
                        module.parents[child] = node
                for node in module.tree.body:
                    if isinstance(node, ast.Assign) and len(node.targets) == 1:
                        module.constants[getattr(node.targets[0], "id", None)] = node.value
                self.modules.append(module)
        self.unread = []
        # A sender: (module of its def or None, name) -> the parameters it reads action and details from.
        self.senders = {(None, "staff_action.send"): ("action", "details")}
        self._find_forwarders()

    # Which calls send ------------------------------------------------------------------
    def calls(self):
        """Every call of a sender, with its module and its sender's parameter names."""
        for module in self.modules:
            imported = {
                alias.asname or alias.name: node.module
                for node in ast.walk(module.tree)
                if isinstance(node, ast.ImportFrom)
                for alias in node.names
            }
            for node in ast.walk(module.tree):
                if not isinstance(node, ast.Call):
                    continue
                called = ast.unparse(node.func)
                for (home, name), params in self.senders.items():
                    if called == name and home in (None, module.name, imported.get(name)):
                        yield module, node, home, name, params

    def _find_forwarders(self):
        """A function that hands its own argument on as a sender's action is a sender too."""
        while True:
            found = {}
            for module, call, home, name, params in list(self.calls()):
                function = self.function_of(module, call)
                if function is None or (module.name, function.name) in self.senders:
                    continue
                own = [arg.arg for arg in function.args.args + function.args.kwonlyargs]
                action = self.argument(call, params[0], home, name)
                passed = [
                    n.id for n in ast.walk(action or ast.Pass()) if isinstance(n, ast.Name) and n.id in own
                ]
                if passed:
                    found[(module.name, function.name)] = (passed[0], "details")
            if not found:
                return
            self.senders.update(found)

    def function_of(self, module, node):
        while node in module.parents:
            node = module.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def definition(self, home, name):
        for module in self.modules:
            if module.name == home:
                for node in ast.walk(module.tree):
                    if isinstance(node, ast.FunctionDef) and node.name == name:
                        return node
        return None

    def argument(self, call, param, home, sender):
        """The expression a call passes for a sender's parameter (None: not passed)."""
        for keyword in call.keywords:
            if keyword.arg == param:
                return keyword.value
        function = self.definition(home, sender) if home else None
        if function is not None:
            positional = [arg.arg for arg in function.args.posonlyargs + function.args.args]
            if param in positional and positional.index(param) < len(call.args):
                return call.args[positional.index(param)]
        return None

    # What the arguments can be -----------------------------------------------------------
    def strings(self, module, node, expr) -> set[str]:
        """The texts `expr` (an action) can be at `node`: followed through names and callers."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.JoinedStr):
            found = {""}
            for part in expr.values:
                pieces = (
                    {part.value} if isinstance(part, ast.Constant) else self.strings(module, node, part.value)
                )
                found = {head + piece for head in found for piece in pieces}
            return found
        if isinstance(expr, ast.Tuple | ast.List | ast.Set):
            return set().union(*(self.strings(module, node, item) for item in expr.elts))
        if isinstance(expr, ast.Name):
            narrowed = self._narrowed(module, node, expr.id)
            if narrowed is not None:
                return self.strings(module, node, narrowed)
            return self._through(module, node, expr.id, self.strings)
        self.unread.append(f"{module.name}:{expr.lineno}: {ast.unparse(expr)}")
        return set()

    def keys(self, module, node, expr) -> set[str]:
        """The detail names a details expression can hold."""
        if expr is None or isinstance(expr, ast.Constant) and expr.value is None:
            return set()
        if isinstance(expr, ast.Dict):
            found = set()
            for key, value in zip(expr.keys, expr.values, strict=True):
                if key is None:
                    found |= self.keys(module, node, value)
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found.add(key.value)
                else:
                    self.unread.append(f"{module.name}:{key.lineno}: a detail named by {ast.unparse(key)}")
            return found
        if isinstance(expr, ast.BoolOp):
            return set().union(*(self.keys(module, node, value) for value in expr.values))
        if isinstance(expr, ast.IfExp):
            return self.keys(module, node, expr.body) | self.keys(module, node, expr.orelse)
        if isinstance(expr, ast.Name):
            return self._through(module, node, expr.id, self.keys)
        self.unread.append(f"{module.name}:{expr.lineno}: details {ast.unparse(expr)}")
        return set()

    def _narrowed(self, module, node, name):
        """`if name in CONSTANTS:` around `node`: the constants."""
        child = node
        while child in module.parents:
            parent = module.parents[child]
            test = getattr(parent, "test", None)
            if (
                isinstance(parent, ast.If)
                and child in parent.body
                and isinstance(test, ast.Compare)
                and ast.unparse(test.left) == name
                and isinstance(test.ops[0], ast.In)
            ):
                right = test.comparators[0]
                return module.constants.get(right.id) if isinstance(right, ast.Name) else right
            child = parent
        return None

    def _through(self, module, node, name, read):
        """A name: a local assignment before `node`, a module constant, or a parameter, whose
        values are what every caller passes."""
        function = self.function_of(module, node)
        found = set()
        if function is not None:
            assigned = [
                statement.value
                for statement in ast.walk(function)
                if isinstance(statement, ast.Assign)
                and statement.lineno < node.lineno
                and [ast.unparse(t) for t in statement.targets] == [name]
            ]
            for value in assigned:
                found |= read(module, value, value)
            params = function.args
            if name in [arg.arg for arg in params.args + params.kwonlyargs]:
                return found | self._from_callers(module, function, name, read)
            if params.kwarg is not None and params.kwarg.arg == name:
                return found | self._keywords_of_callers(module, function)
            if assigned:
                return found
        if name in module.constants:
            return read(module, node, module.constants[name])
        self.unread.append(f"{module.name}:{node.lineno}: {name}")
        return set()

    def _callers(self, module, function):
        for caller, call, home, sender, _params in self.calls():
            if (home, sender) == (module.name, function.name):
                yield caller, call

    def _from_callers(self, module, function, name, read):
        found = set()
        for caller, call in self._callers(module, function):
            value = self.argument(call, name, module.name, function.name)
            if value is not None:
                found |= read(caller, call, value)
        return found

    def _keywords_of_callers(self, module, function):
        named = {arg.arg for arg in function.args.args + function.args.kwonlyargs}
        return {
            keyword.arg
            for _caller, call in self._callers(module, function)
            for keyword in call.keywords
            if keyword.arg and keyword.arg not in named
        }

    def sent(self) -> tuple[set[str], set[str]]:
        """Every action code and detail name the signal can be sent with: read at the one
        place it is sent, a forwarder's parameters from its callers."""
        actions, details = set(), set()
        for module, call, home, name, (action, detail) in list(self.calls()):
            if home is not None:
                continue
            if (expr := self.argument(call, action, home, name)) is not None:
                actions |= self.strings(module, call, expr)
            details |= self.keys(module, call, self.argument(call, detail, home, name))
        return actions, details


SCAN = Scan()
ACTIONS, DETAILS = SCAN.sent()
# Details holding a dict of their own: the names inside are the filters' fields.
NESTED = {f for f in AuditFilters.__dataclass_fields__} | {f for f in LeadFilters.__dataclass_fields__}


def test_the_scan_reads_every_sender_it_finds():
    assert SCAN.unread == []
    # Codes from a constant, an f-string narrowed by `in`, a helper's caller, the API's audit().
    assert {
        "staff.change",
        "content.return",
        "content.plan_move",
        "accounts.user_create",
        "nurture.enrol",
    } <= ACTIONS
    # Names from a literal, a helper's **details, a dict built in a variable, the API's actor.
    assert {"manual", "role", "was", "segment", "actor", "filters"} <= DETAILS


def test_every_action_sent_has_a_label_in_chinese(app):
    assert ACTIONS - set(AUDIT_ACTION_LABELS) == set()
    with app.test_request_context(), force_locale("zh_CN"):
        words = {action: audit_action_label(action) for action in AUDIT_ACTION_LABELS}
    assert {action for action, label in words.items() if not CHINESE.search(label)} == set()


def test_every_detail_sent_has_a_label_in_chinese(app):
    assert (DETAILS | NESTED) - set(AUDIT_DETAIL_LABELS) == set()
    with app.test_request_context(), force_locale("zh_CN"):
        words = {name: str(label) for name, label in AUDIT_DETAIL_LABELS.items()}
    assert {name for name, label in words.items() if not CHINESE.search(label)} == set()
