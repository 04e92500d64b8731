"""The AutoLearn guest harness: runs untrusted skill code inside the sandbox.

componentize-py imports this module once, at build time, and snapshots the
initialised interpreter. Only modules imported by then exist at run time, so
the imports below are the sandbox's whole standard library: chosen on purpose,
and tested one by one (tests/sandbox_stdlib.rs). `socket`, `subprocess`,
`ctypes` and friends are deliberately absent.

The host gives every call a fresh instance, so nothing here needs cleaning up
between calls, and a skill can never see another call's state.

What in here is a boundary and what is not: the import guard and the static
check give clear, early errors for honest mistakes, but Python has no
in-process isolation, so a determined skill can get around both (through
object graphs, or by patching what this harness uses later in the same
call). Nothing the host relies on is decided here: the boundary is WASI (no
files, sockets, environment), fuel, memory caps and deadlines; and every
verdict (did an example pass?) is made on the host from the raw output of a
call made exactly as a tool call is made.
"""

# --- The stdlib a skill may import (the snapshot). Keep SKILL_MODULES in step.
import base64
import bisect
import calendar
import collections
import collections.abc
import colorsys
import copy
import csv
import dataclasses
import datetime
import decimal
import difflib
import enum
import fractions
import functools
import hashlib
import heapq
import html
import io
import ipaddress
import itertools
import json
import math
import numbers
import operator
import pprint
import random
import re
import statistics
import string
import struct
import textwrap
import time
import typing
import unicodedata
import urllib.parse
import zlib

# --- Imported lazily by the stdlib above, from C (`datetime.strptime` and
# `time.strptime` import `_strptime` on first use): in the snapshot, and let
# through the import guard when C asks (`PyImport_Import` passes an empty
# list as `fromlist`; an import statement passes None or a tuple), or those
# calls fail. Skills may not name them.
import _strptime  # noqa: F401
STDLIB_LAZY = frozenset({"_strptime"})

# --- Used by the harness itself; skills may not import these.
import ast
import _ast_unparse  # noqa: F401 - ast.unparse imports it lazily (compose needs it)
import builtins
import linecache
import marshal
import os
import symtable
import sys
import traceback
import types

import wit_world
from componentize_py_types import Err

# Bound now, in the snapshot: a skill may monkeypatch `json` in its own call,
# but must not be able to forge the harness's output.
_json_dumps = json.dumps
_json_loads = json.loads
from wit_world import Fault, FaultKind

SKILL_MODULES = frozenset(
    """base64 bisect calendar collections collections.abc colorsys copy csv
    dataclasses datetime decimal difflib enum fractions functools hashlib heapq
    html io ipaddress itertools json math numbers operator pprint random re statistics
    string struct textwrap time typing unicodedata urllib urllib.parse
    zlib""".split()
)

# Builtins that reach outside the skill's own code, or around the checks.
FORBIDDEN_CALLS = frozenset(
    "eval exec compile __import__ open globals locals vars breakpoint input memoryview".split()
)
# Dunder attributes a skill may touch; the rest are escape hatches
# (`__subclasses__`, `__globals__`, `__builtins__`, `__code__`, ...).
ALLOWED_DUNDERS = frozenset(
    "__init__ __name__ __doc__ __len__ __iter__ __next__ __eq__ __lt__ __le__ __gt__ __ge__ __hash__ __repr__ __str__ __post_init__".split()
)
# Attribute names that lead from an allowed module to a forbidden one
# (`dataclasses.sys`, `json.decoder.re`... `re` is fine, `sys` is not).
FORBIDDEN_MODULE_ATTRS = frozenset(
    """sys os posix nt builtins importlib _imp _io _os _sys subprocess socket
    _socket ctypes gc inspect linecache traceback types marshal pickle
    threading _thread signal shutil pathlib select selectors asyncio symtable
    ast wit_world componentize_py_types harness""".split()
)
# Modules a skill may refer to when they are not imported at run time.
_BUILTIN_NAMES = frozenset(dir(builtins)) | {"__name__", "__doc__", "__file__"}


class SandboxImportError(ImportError):
    """A skill tried to import a module the sandbox does not offer."""


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level != 0:
        raise SandboxImportError("relative imports are not available in the sandbox")
    if name == SKILLS_PACKAGE or name.startswith(SKILLS_PACKAGE + "."):
        return _import_skill(name, fromlist)
    from_c = type(fromlist) is list and not fromlist
    if name not in SKILL_MODULES and not (from_c and name in STDLIB_LAZY):
        raise SandboxImportError(
            f"module {name!r} is not available in the sandbox; "
            f"available: {', '.join(sorted(SKILL_MODULES))}"
        )
    return builtins.__import__(name, globals, locals, fromlist, level)


def _skill_filename(name):
    return f"<skill:{name}>"


# --- Skills built on skills ----------------------------------------------------
# The host passes the closure of a skill's prerequisites, each at the version
# it pinned by hash; they are importable as `skills.<name>` and loaded on
# first import. A fresh instance per call means this table is per call too.

SKILLS_PACKAGE = "skills"
_deps = {}


def _provide(deps):
    _deps.clear()
    for d in deps:
        _deps[d.name] = d
    package = types.ModuleType(SKILLS_PACKAGE)
    package.__path__ = []
    sys.modules[SKILLS_PACKAGE] = package


def _skill_module(dep_name):
    full = f"{SKILLS_PACKAGE}.{dep_name}"
    module = sys.modules.get(full)
    if module is not None:
        return module
    dep = _deps.get(dep_name)
    if dep is None:
        raise SandboxImportError(
            f"skill {dep_name!r} is not a prerequisite of this skill"
            + (f"; it may import: {', '.join(sorted(_deps))}" if _deps else "")
        )
    module = types.ModuleType(full)
    sys.modules[full] = module  # first, so an import cycle ends instead of recursing
    namespace = _load(full, dep.source)
    entry = _entry_function(namespace, dep.entry)
    for key, value in namespace.items():
        if key != "__builtins__":
            setattr(module, key, value)
    module.__name__ = full
    if not hasattr(module, dep.name):
        setattr(module, dep.name, entry)
    setattr(sys.modules[SKILLS_PACKAGE], dep_name, module)
    return module


def _import_skill(name, fromlist):
    package = sys.modules.get(SKILLS_PACKAGE)
    if package is None:
        raise SandboxImportError("this skill has no prerequisite skills to import")
    if name == SKILLS_PACKAGE:
        for dep_name in fromlist or ():
            _skill_module(dep_name)
        return package
    module = _skill_module(name[len(SKILLS_PACKAGE) + 1 :])
    return module if fromlist else package


# Built once, in the snapshot: every call's instance starts from this pristine
# copy, so a skill that mutates its builtins changes only its own call.
_SKILL_BUILTINS = dict(builtins.__dict__)
_SKILL_BUILTINS["__import__"] = _guarded_import
# Sources of this call's modules, by filename: registered with `linecache`
# only when a traceback is rendered (most calls never fail).
_sources = {}


def _register_sources():
    for filename, source in _sources.items():
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _load(name, source, code=None):
    """Execute the skill module (compiling it unless `code` is given); returns
    its globals."""
    filename = _skill_filename(name)
    _sources[filename] = source
    if code is None:
        code = compile(source, filename, "exec", dont_inherit=True)
    namespace = {"__name__": "skill", "__builtins__": _SKILL_BUILTINS}
    exec(code, namespace)
    return namespace


def _entry_function(namespace, entry):
    fn = namespace.get(entry)
    if fn is None or not callable(fn):
        raise _MissingEntry(f"entry function {entry!r} is not defined by the skill")
    return fn


class _MissingEntry(Exception):
    pass


class _BadInput(Exception):
    pass


class _BadOutput(Exception):
    pass


def _reseed():
    # The snapshot froze `random`'s state; reseed from the host's entropy so
    # that only the host decides between fresh and deterministic randomness.
    random.seed(os.urandom(32))


def _call(fn, args):
    if not isinstance(args, dict):
        raise _BadInput(f"input must be a JSON object, got {type(args).__name__}")
    try:
        return fn(**args)
    except TypeError as e:
        # Binding fails before the function's frame exists: a traceback that
        # ends in this frame means the input did not fit the signature (no
        # `inspect.signature` on every call). A builtin entry has no frame
        # either way; its TypeErrors count as bad input.
        if e.__traceback__ is not None and e.__traceback__.tb_next is None:
            raise _BadInput(f"input does not fit {getattr(fn, '__name__', 'the entry')}(): {e}") from None
        raise


def _to_json(value):
    try:
        text = _json_dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as e:
        raise _BadOutput(f"result is not JSON-serializable: {e}") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate cannot cross the component boundary as a string.
        raise _BadOutput("result contains a lone surrogate, which is not valid Unicode") from None
    return text


# The host cuts every text it receives to its own byte caps (src/text.rs);
# cutting here too only saves copying megabytes across the boundary.
_MAX_TEXT = 16384


def _clean(text):
    """Make text safe to cross the component boundary (valid UTF-8), and short."""
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + f"… [truncated: {len(text) - _MAX_TEXT} more characters]"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _safe_text(obj, render=repr):
    """`render(obj)` as a plain str, or a placeholder when that raises.

    An exception's `__str__`, `__repr__`, its notes or its class's name are
    the skill's code: they may raise anything (`SystemExit` included), loop,
    or return a str subclass whose own methods raise. None of that may turn
    the skill's fault into a crash of the harness that reports it.
    """
    try:
        text = render(obj)
        if issubclass(type(text), str):
            return str.__add__("", text)  # a plain str, whatever the subclass
    except BaseException:  # noqa: BLE001 - the skill's code, whatever it raises
        pass
    return f"<unprintable {_type_name(obj)} object>"


def _type_name(obj):
    """The C-level name of obj's type: a metaclass cannot fake or break it."""
    try:
        return type.__dict__["__name__"].__get__(type(obj))
    except BaseException:  # noqa: BLE001 - never expected, never fatal
        return "object"


def _kind_of(exc):
    """Classify by the real type (`issubclass` on `type(exc)`, never
    `isinstance`, which consults a `__class__` the skill may have faked)."""
    cls = type(exc)
    for base, kind in (
        (SyntaxError, FaultKind.SYNTAX),
        (_MissingEntry, FaultKind.MISSING_ENTRY),
        (_BadInput, FaultKind.BAD_INPUT),
        (_BadOutput, FaultKind.BAD_OUTPUT),
        (MemoryError, FaultKind.MEMORY),
        (RecursionError, FaultKind.RECURSION),
        (SystemExit, FaultKind.EXIT),
        (SandboxImportError, FaultKind.FORBIDDEN_IMPORT),
        (ModuleNotFoundError, FaultKind.FORBIDDEN_IMPORT),
    ):
        if issubclass(cls, base):
            return kind
    return FaultKind.EXCEPTION


# BaseException's own slots, read around any property a subclass defines.
_TRACEBACK = BaseException.__dict__["__traceback__"]
_CAUSE = BaseException.__dict__["__cause__"]
_CONTEXT = BaseException.__dict__["__context__"]
_SUPPRESS = BaseException.__dict__["__suppress_context__"]
# Chained exceptions shown, at most: a skill can chain a hundred thousand.
_MAX_CHAIN = 8
# What a fault's formatting detached from it, kept alive until the instance
# is discarded (see _format_chain).
_KEEP = []
_CAUSED = "\nThe above exception was the direct cause of the following exception:\n\n"
_DURING = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _skill_frames(tb, filename):
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return tb


def _format_chain(exc, tb, filename):
    """The traceback as Python prints it, cause and context included, but at
    most _MAX_CHAIN links, each limited to the skill's own frames, and read
    through BaseException's slots (a loop or a property cannot trap it)."""
    links = [(exc, tb, "")]
    seen = {id(exc)}
    while len(links) < _MAX_CHAIN:
        e = links[-1][0]
        cause = _CAUSE.__get__(e)
        if cause is not None:
            nxt, sep = cause, _CAUSED
        elif not _SUPPRESS.__get__(e) and _CONTEXT.__get__(e) is not None:
            nxt, sep = _CONTEXT.__get__(e), _DURING
        else:
            break
        if id(nxt) in seen:
            break
        seen.add(id(nxt))
        links.append((nxt, _skill_frames(_TRACEBACK.__get__(nxt), filename), sep))
    # The links are known now. traceback walks a whole chain whatever
    # `chain` says, so each link is cut loose first (the exceptions die with
    # this call; nothing reads their links after this). What they linked to
    # is kept, never freed: the instance is discarded after the call anyway,
    # and freeing a chain of a hundred thousand recurses that deep.
    for e, _, _ in links:
        _KEEP.append((_CAUSE.__get__(e), _CONTEXT.__get__(e)))
        _CAUSE.__set__(e, None)
        _CONTEXT.__set__(e, None)
    parts = []
    for e, t, sep in reversed(links):
        text = "".join(traceback.format_exception(type(e), e, t, chain=False))
        if type(text) is not str:
            raise TypeError("not a str")
        parts.append(text)
        if sep:
            parts.append(sep)
    return "".join(parts)


def _fault(exc, name):
    """Classify an exception and render a traceback limited to skill frames.

    Total: whatever the exception does while being formatted, the answer is
    a Fault of the skill's own kind, bounded, with no frame of the harness.
    """
    kind = _kind_of(exc)
    error_type = _type_name(exc)
    if kind == FaultKind.MEMORY:
        # Formatting needs memory the skill may have used up.
        return Fault(kind, "MemoryError", "the skill ran out of memory", "", 0)
    try:
        return _described_fault(exc, name, kind, error_type)
    except BaseException:  # noqa: BLE001 - formatting must never mask the fault
        return Fault(kind, error_type, "(the exception could not be formatted)", "", 0)


def _described_fault(exc, name, kind, error_type):
    _KEEP.append(exc)  # never freed here (see _format_chain)
    filename = _skill_filename(name)
    _register_sources()
    tb = _skill_frames(_TRACEBACK.__get__(exc), filename)
    line = 0
    t = tb
    while t is not None:
        if t.tb_frame.f_code.co_filename == filename:
            line = t.tb_lineno
        t = t.tb_next
    if kind == FaultKind.SYNTAX:
        where = SyntaxError.__dict__["filename"].__get__(exc)
        lineno = SyntaxError.__dict__["lineno"].__get__(exc)
        if type(where) is str and where == filename and type(lineno) is int:
            line = lineno
    try:
        text = _format_chain(exc, tb, filename)
    except BaseException:  # noqa: BLE001 - a hostile __str__, notes, cause chain
        text = f"{error_type}: {_safe_text(exc, str)}"
    if kind == FaultKind.EXIT:
        message = f"sys.exit({_safe_text(SystemExit.__dict__['code'].__get__(exc))})"
    else:
        message = _safe_text(exc, str)
    return Fault(kind, error_type, _clean(message), _clean(text), line)


def _compile(name, source):
    return marshal.dumps(compile(source, _skill_filename(name), "exec", dont_inherit=True))


def _run(name, source, entry, input_json, deps=(), code=None):
    _provide(deps)
    if code is not None:
        code = marshal.loads(code)
    namespace = _load(name, source, code)
    fn = _entry_function(namespace, entry)
    try:
        args = _json_loads(input_json)
    except ValueError as e:
        raise _BadInput(f"input is not valid JSON: {e}") from None
    _reseed()
    return _to_json(_call(fn, args))


CELL = "cell"


def _exec(code, inputs_json):
    """Run a notebook-style cell: the last expression is its value."""
    inputs = _json_loads(inputs_json)
    if not isinstance(inputs, dict):
        raise _BadInput("inputs must be a JSON object")
    filename = _skill_filename(CELL)
    _sources[filename] = code
    tree = ast.parse(code, filename)
    tail = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        tail = ast.Expression(tree.body.pop().value)
    namespace = {"__name__": "cell", "__builtins__": _SKILL_BUILTINS}
    namespace.update(inputs)
    _reseed()
    exec(compile(tree, filename, "exec", dont_inherit=True), namespace)
    if tail is not None:
        value = eval(compile(tail, filename, "eval", dont_inherit=True), namespace)
    else:
        value = namespace.get("result")
    names = sorted(k for k in namespace if not k.startswith("__") and k not in inputs)
    return _to_json({"value": _json_loads(_to_json(value)), "names": names, "bound": _bound_values(namespace, names)})


# What a cell bound, when it is JSON and small: crystallization wires a later
# step's input to the cell that computed it by comparing values.
_BOUND_VALUE_BYTES = 64 << 10
_BOUND_TOTAL_BYTES = 256 << 10


def _bound_values(namespace, names):
    bound, budget = {}, _BOUND_TOTAL_BYTES
    for k in names:
        v = namespace[k]
        if _type_name(v) == "module":
            continue
        try:
            if callable(v):
                continue
            text = _to_json(v)
        except BaseException:  # noqa: BLE001 - a value that cannot be shown is not shown
            continue
        if len(text) > _BOUND_VALUE_BYTES or len(text) > budget:
            continue
        budget -= len(text)
        bound[k] = _json_loads(text)
    return bound


def _compose(cells_json, params_json, name, doc):
    """Compose cells into one function. Each cell is `{"code", "assign"}`:
    with `assign`, the cell's value (its last expression, else its `result`)
    is bound to that name for the cells after it. The last cell's value is
    returned. Elsewhere, a trailing expression nobody uses and that calls
    nothing (a bare `words` left from exploring) is dead and dropped."""
    cells = _json_loads(cells_json)
    params = _json_loads(params_json)
    if not cells:
        raise _BadInput("there are no cells to compose")
    body = []
    for i, cell in enumerate(cells):
        code, assign = (cell, None) if isinstance(cell, str) else (cell["code"], cell.get("assign"))
        stmts = ast.parse(code, _skill_filename(f"cell{i + 1}")).body
        tail = stmts[-1] if stmts and isinstance(stmts[-1], ast.Expr) else None
        if i == len(cells) - 1:
            if tail is not None:
                stmts[-1] = ast.Return(tail.value)
            else:
                stmts.append(ast.Return(ast.Name("result", ast.Load())))
        elif assign:
            target = [ast.Name(assign, ast.Store())]
            if tail is not None:
                stmts[-1] = ast.Assign(targets=target, value=tail.value)
            elif assign != "result":
                stmts.append(ast.Assign(targets=target, value=ast.Name("result", ast.Load())))
        elif tail is not None and not any(isinstance(n, ast.Call) for n in ast.walk(tail)):
            stmts.pop()
        body.extend(stmts)
    imports = [s for s in body if isinstance(s, (ast.Import, ast.ImportFrom))]
    body = [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))]
    seen, unique_imports = set(), []
    for imp in imports:
        key = ast.dump(imp)
        if key not in seen:
            seen.add(key)
            unique_imports.append(imp)
    fn = ast.FunctionDef(
        name=name,
        args=ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=[ast.Expr(ast.Constant(doc))] + body,
        decorator_list=[],
        returns=None,
        type_params=[],
    )
    module = ast.Module(body=unique_imports + [fn], type_ignores=[])
    ast.fix_missing_locations(module)
    return ast.unparse(module) + "\n"


# --- Static analysis ---------------------------------------------------------


def _finding(line, col, code, message, severity="error"):
    return {"line": line, "col": col, "code": code, "message": message, "severity": severity}


def _undefined_names(source, filename):
    """Names read somewhere but bound in no scope and not builtins.

    Deliberately coarse: a name bound in any scope counts as defined. That
    misses some use-before-bind bugs (the tests catch those) but never
    flags correct code, which matters more for a publishing gate.
    """
    bound, read = set(), set()
    stack = [symtable.symtable(source, filename, "exec")]
    while stack:
        table = stack.pop()
        stack.extend(table.get_children())
        for s in table.get_symbols():
            if s.is_assigned() or s.is_imported() or s.is_namespace() or s.is_parameter():
                bound.add(s.get_name())
            if s.is_referenced():
                read.add(s.get_name())
    return {n for n in read - bound if n not in _BUILTIN_NAMES}


def _annotation_names(tree):
    """The ids of the Name nodes that stand inside annotations.

    CPython 3.14 evaluates annotations lazily (PEP 649), and annotations
    of local variables never: `def f(xs: List[int])` without importing
    `List` runs fine, so a name read only there is not an undefined name.
    Small models write such annotations often.
    """
    roots = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
                if arg is not None and arg.annotation is not None:
                    roots.append(arg.annotation)
            if node.returns is not None:
                roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(n) for root in roots for n in ast.walk(root) if isinstance(n, ast.Name)}


def _skill_import(module, deps):
    """Whether `module` names a prerequisite skill."""
    prefix, _, rest = (module or "").partition(".")
    return prefix == SKILLS_PACKAGE and rest in deps


def _check(name, source, deps=frozenset()):
    filename = _skill_filename(name)
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as e:
        return [_finding(e.lineno or 0, e.offset or 0, "E999", f"syntax error: {e.msg}")]

    findings = []
    undefined = _undefined_names(source, filename)
    in_annotations = _annotation_names(tree)
    reported = set()
    has_docstring = False
    for node in ast.walk(tree):
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
        if (
            isinstance(node, ast.Name)
            and node.id in undefined
            and isinstance(node.ctx, ast.Load)
            and id(node) not in in_annotations
        ):
            if node.id not in reported:
                reported.add(node.id)
                findings.append(_finding(line, col, "F821", f"undefined name {node.id!r}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in SKILL_MODULES and not _skill_import(alias.name, deps):
                    findings.append(
                        _finding(line, col, "S001", f"import of {alias.name!r} is not allowed in the sandbox")
                    )
        elif isinstance(node, ast.ImportFrom):
            if node.module == SKILLS_PACKAGE:
                allowed = not node.level and all(a.name in deps for a in node.names)
            else:
                allowed = not node.level and (node.module in SKILL_MODULES or _skill_import(node.module, deps))
            if not allowed:
                findings.append(
                    _finding(line, col, "S001", f"import from {node.module!r} is not allowed in the sandbox")
                )
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            findings.append(_finding(line, col, "S002", f"call to {node.func.id}() is not allowed in a skill"))
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__") and node.attr not in ALLOWED_DUNDERS:
            findings.append(_finding(line, col, "S003", f"access to {node.attr} is not allowed in a skill"))
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_MODULE_ATTRS:
            findings.append(
                _finding(line, col, "S004", f"access to .{node.attr} reaches a module skills may not use")
            )
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "delattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and (
                node.args[1].value in FORBIDDEN_MODULE_ATTRS
                or (node.args[1].value.startswith("__") and node.args[1].value not in ALLOWED_DUNDERS)
            )
        ):
            findings.append(
                _finding(line, col, "S004", f"{node.func.id}(..., {node.args[1].value!r}) is not allowed in a skill")
            )
        elif isinstance(node, ast.Name) and node.id.startswith("__") and node.id not in _BUILTIN_NAMES:
            findings.append(_finding(line, col, "S003", f"access to {node.id} is not allowed in a skill"))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            findings.append(
                _finding(line, col, "W002", "global state makes a skill harder to verify", "warning")
            )
        elif isinstance(node, ast.ExceptHandler) and node.type is None:
            findings.append(_finding(line, col, "W003", "bare except also catches SystemExit", "warning"))
        elif isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and node.test.value:
            if not any(isinstance(n, (ast.Break, ast.Return, ast.Raise)) for n in ast.walk(node)):
                findings.append(_finding(line, col, "W001", "loop can never end", "error"))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if ast.get_docstring(node):
                has_docstring = True
    if not has_docstring:
        findings.append(_finding(1, 0, "D100", "no function has a docstring", "info"))
    findings.sort(key=lambda f: (f["line"], f["col"], f["code"]))
    return findings


# --- Tests with line coverage --------------------------------------------------


def _executable_lines(code):
    lines = set()
    stack = [code]
    while stack:
        c = stack.pop()
        lines.update(line for _, _, line in c.co_lines() if line)
        stack.extend(k for k in c.co_consts if isinstance(k, type(code)))
    return lines


def _test(name, source, entry, cases_json, deps=()):
    _provide(deps)
    filename = _skill_filename(name)
    cases = _json_loads(cases_json)
    mon = sys.monitoring
    hits = set()

    def on_line(code, line):
        if code.co_filename == filename:
            hits.add(line)
        return mon.DISABLE  # one hit per line is all coverage needs

    mon.use_tool_id(mon.COVERAGE_ID, "autolearn")
    mon.register_callback(mon.COVERAGE_ID, mon.events.LINE, on_line)
    mon.set_events(mon.COVERAGE_ID, mon.events.LINE)
    results = []
    executable = set()
    try:
        executable = _executable_lines(compile(source, filename, "exec", dont_inherit=True))
        namespace = _load(name, source)
        fn = _entry_function(namespace, entry)
        for case in cases:
            _reseed()
            try:
                output = _json_loads(_to_json(_call(fn, case.get("input", {}))))
            except BaseException as e:  # noqa: BLE001 - every failure is a test result
                if issubclass(type(e), MemoryError):
                    raise
                results.append({"ok": False, "error": _fault_json(e, name)})
                continue
            if "expected" in case:
                ok = output == case["expected"]
            else:
                ok = True
            results.append({"ok": ok, "output": output})
    except BaseException as e:  # noqa: BLE001 - the module itself failed
        mon.set_events(mon.COVERAGE_ID, 0)
        return _json_dumps({"load_error": _fault_json(e, name), "cases": [], "passed": 0,
                           "failed": len(cases), "coverage": _coverage(executable, hits)})
    mon.set_events(mon.COVERAGE_ID, 0)
    passed = sum(1 for r in results if r["ok"])
    return _json_dumps({"cases": results, "passed": passed, "failed": len(results) - passed,
                       "coverage": _coverage(executable, hits)})


def _coverage(executable, hits):
    hit = executable & hits
    total = len(executable)
    return {
        "executable": total,
        "hit": len(hit),
        "percent": round(100.0 * len(hit) / total, 2) if total else 100.0,
        "missed": sorted(executable - hits),
    }


def _fault_json(exc, name):
    f = _fault(exc, name)
    return {"kind": f.kind.name.lower().replace("_", "-"), "error_type": f.error_type,
            "message": f.message, "traceback": f.traceback, "line": f.line}


class WitWorld(wit_world.WitWorld):
    def run(self, name, source, entry, input, deps):
        try:
            result = _run(name, source, entry, input, deps)
        except BaseException as e:  # noqa: BLE001 - SystemExit and MemoryError too
            raise Err(_fault(e, name))
        sys.stdout.flush()
        return result

    def compile(self, name, source):
        try:
            return _compile(name, source)
        except BaseException as e:  # noqa: BLE001 - SystemExit and MemoryError too
            raise Err(_fault(e, name))

    def run_compiled(self, name, code, source, entry, input, deps):
        try:
            result = _run(name, source, entry, input, deps, code)
        except BaseException as e:  # noqa: BLE001 - SystemExit and MemoryError too
            raise Err(_fault(e, name))
        sys.stdout.flush()
        return result

    def exec(self, code, inputs):
        try:
            result = _exec(code, inputs)
        except BaseException as e:  # noqa: BLE001 - SystemExit and MemoryError too
            raise Err(_fault(e, CELL))
        sys.stdout.flush()
        return result

    def compose(self, cells, params, name, doc):
        try:
            return _compose(cells, params, name, doc)
        except BaseException as e:  # noqa: BLE001 - reported, never raised across
            raise Err(_fault(e, "compose"))

    def check(self, name, source, deps):
        return _json_dumps(_check(name, source, frozenset(d.name for d in deps)))

    def test(self, name, source, entry, cases, deps):
        report = _test(name, source, entry, cases, deps)
        sys.stdout.flush()
        return report
