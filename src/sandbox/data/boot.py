"""The data runtime's boot: run once, in the interpreter the snapshot is made
from, never on a call's path.

It gives the core harness (runtime/python/harness.py, the same file the core
runtime is built from) the two modules componentize-py would give it, loads
it, widens its import guard to numpy and pandas, imports both, and defines
`_autolearn_serve`, which each call runs as its one turn: the request comes
on stdin as JSON, the answer goes back through the door (`_host.call`), never
on stdout, which is the skill's own.

The host prepends the harness's source as `_HARNESS_SOURCE` and
`_HARNESS_FILE`.
"""

import dataclasses
import enum
import sys
import types


class _FaultKind(enum.Enum):
    SYNTAX = 0
    MISSING_ENTRY = 1
    BAD_INPUT = 2
    EXCEPTION = 3
    MEMORY = 4
    RECURSION = 5
    EXIT = 6
    BAD_OUTPUT = 7
    FORBIDDEN_IMPORT = 8


@dataclasses.dataclass
class _Fault:
    kind: _FaultKind
    error_type: str
    message: str
    traceback: str
    line: int


class _Err(Exception):
    def __init__(self, value):
        super().__init__(value)
        self.value = value


_wit = types.ModuleType("wit_world")
_wit.Fault = _Fault
_wit.FaultKind = _FaultKind
_wit.WitWorld = type("WitWorld", (), {})
_types = types.ModuleType("componentize_py_types")
_types.Err = _Err
sys.modules["wit_world"] = _wit
sys.modules["componentize_py_types"] = _types

harness = types.ModuleType("harness")
harness.__file__ = _HARNESS_FILE  # noqa: F821 - prepended by the host
sys.modules["harness"] = harness
exec(compile(_HARNESS_SOURCE, _HARNESS_FILE, "exec"), harness.__dict__)  # noqa: F821
del _HARNESS_SOURCE  # noqa: F821

import math  # noqa: E402

import numpy  # noqa: E402
import pandas  # noqa: E402
import _host  # noqa: E402

# numpy and pandas, with every submodule, are the data runtime's additions.
DATA_PACKAGES = frozenset({"numpy", "pandas"})
harness.SKILL_MODULES = harness.SKILL_MODULES | DATA_PACKAGES
harness.FORBIDDEN_MODULE_ATTRS = harness.FORBIDDEN_MODULE_ATTRS - DATA_PACKAGES
_core_guard = harness._guarded_import


def _data_guard(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.partition(".")[0] in DATA_PACKAGES:
        import builtins

        return builtins.__import__(name, globals, locals, fromlist, level)
    return _core_guard(name, globals, locals, fromlist, level)


harness._SKILL_BUILTINS["__import__"] = _data_guard


def _plain(value):
    """numpy and pandas values as plain JSON (docs/data.md): scalars as
    numbers, arrays and a Series on a default index as lists, a Series on
    another index as an object keyed by it, a DataFrame as a list of records
    (its index becomes columns unless it is the default one), timestamps as
    ISO 8601 text, and missing values (NaN, NaT, None) as null."""
    if isinstance(value, numpy.generic):
        return _missing(value.item())
    if isinstance(value, numpy.ndarray):
        return [_missing(v) for v in value.tolist()] if value.ndim == 1 else value.tolist()
    if isinstance(value, pandas.DataFrame):
        frame = value if _default_index(value.index) else value.reset_index()
        frame = frame.astype(object).where(frame.notna(), None)
        return [{str(k): _cell(v) for k, v in row.items()} for row in frame.to_dict("records")]
    if isinstance(value, pandas.Series):
        cells = value.astype(object).where(value.notna(), None)
        if _default_index(value.index):
            return [_cell(v) for v in cells.tolist()]
        return {_key(k): _cell(v) for k, v in cells.items()}
    if isinstance(value, pandas.Index):
        return [_cell(v) for v in value.tolist()]
    if isinstance(value, (pandas.Timestamp, pandas.Timedelta, pandas.Period)):
        return None if value is pandas.NaT else value.isoformat()
    if value is pandas.NaT or value is pandas.NA:
        return None
    if hasattr(value, "isoformat"):  # datetime, date, time
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _default_index(index):
    return isinstance(index, pandas.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None


def _missing(v):
    return None if isinstance(v, float) and math.isnan(v) else v


def _cell(v):
    if isinstance(v, (numpy.generic, pandas.Timestamp, pandas.Timedelta)) or v is pandas.NaT:
        return _plain(v)
    return _missing(v)


def _key(k):
    k = _cell(k)
    if isinstance(k, tuple):
        return ", ".join(str(_cell(x)) for x in k)
    return k if isinstance(k, str) else str(k)


_json_dumps = harness._json_dumps
_json_loads = harness._json_loads


def _to_json(value):
    try:
        text = _json_dumps(value, ensure_ascii=False, allow_nan=False, default=_plain)
    except (TypeError, ValueError, RecursionError) as e:
        raise harness._BadOutput(f"result is not JSON-serializable: {e}") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise harness._BadOutput("result holds text that is not valid Unicode") from None
    return text


harness._to_json = _to_json
_world = harness.WitWorld()
_reply = _host.call


def _dep(d):
    return types.SimpleNamespace(name=d["name"], source=d["source"], entry=d["entry"])


def _autolearn_serve():
    """One call: read the request, run it, send the answer through the door."""
    request = _json_loads(sys.stdin.buffer.read())
    op = request["op"]
    deps = [_dep(d) for d in request.get("deps", ())]
    try:
        if op == "run":
            answer = {"ok": _world.run(request["name"], request["source"], request["entry"], request["input"], deps)}
        elif op == "exec":
            answer = {"ok": _world.exec(request["code"], request["inputs"])}
        elif op == "compose":
            answer = {"ok": _world.compose(request["cells"], request["params"], request["name"], request["doc"])}
        elif op == "check":
            answer = {"ok": _world.check(request["name"], request["source"], deps)}
        elif op == "test":
            answer = {"ok": _world.test(request["name"], request["source"], request["entry"], request["cases"], deps)}
        else:
            answer = {"host": f"unknown op {op!r}"}
    except _Err as e:
        f = e.value
        answer = {"fault": {"kind": f.kind.name.lower().replace("_", "-"), "error_type": f.error_type,
                            "message": f.message, "traceback": f.traceback, "line": f.line}}
    sys.stdout.flush()
    sys.stderr.flush()
    _reply(_json_dumps(answer).encode())
