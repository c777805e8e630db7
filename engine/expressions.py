"""Compile and evaluate sandboxed CEL expressions for edge conditions and params."""

from __future__ import annotations

import contextvars
import functools
import operator
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, Evaluator, base_functions

from engine.evaluation_budget import (
    BudgetExceeded,
    charge,
    current_budget,
)
from engine.expression_values import ExpressionError, to_cel, to_json

# The names an expression may read; the engine supplies them on every evaluation.
CONTEXT_NAMES: frozenset[str] = frozenset(
    {"input", "steps", "outcome", "run", "attempt", "item", "index"}
)
MAX_SOURCE_LENGTH = 2000
# cel-python evaluates by recursion, about five Python frames per parse-tree level,
# under the 2,500-frame limit it sets; 300 levels leave room for the caller's stack,
# so a deep expression is refused at compile time, not a RecursionError at run time.
MAX_TREE_DEPTH = 300
# Evaluation is bounded too, so no expression can hang a worker or a web request:
# parse-tree visits (a macro visits its body once per element; about 5 µs each, so
# the whole budget is about half a second),
MAX_EVALUATION_STEPS = 100_000
# the size of any value an expression builds (characters of a string, or entries of a
# list or map counted through every level; values read from the context are exempt),
MAX_VALUE_SIZE = 1_000_000
# and how deeply the lists and maps it builds nest.
MAX_VALUE_DEPTH = 100
EXPRESSION_PREFIX = "="

# Macros that bind a variable: list.map(x, ...), list.reduce(r, i, init, ...).
_MACROS = frozenset({"map", "filter", "all", "exists", "exists_one", "reduce", "min"})
_MACRO_FUNCTIONS = frozenset({"has", "dyn"})
# Type names are values in CEL (`type(x) == int`); `google` roots protobuf wrappers.
_BUILTIN_NAMES = frozenset(
    {"bool", "bytes", "double", "int", "uint", "string", "list", "map", "null_type"}
    | {"type", "duration", "timestamp", "google"}
)
_KNOWN_FUNCTIONS = (
    frozenset(name for name in base_functions if name.isidentifier())
    | _MACRO_FUNCTIONS
    | _MACROS
)


class Expression:
    """Hold one compiled CEL program; evaluate it against many contexts."""

    __slots__ = ("_program", "source")

    def __init__(self, source: str, program: celpy.Runner) -> None:
        self.source = source
        self._program = program

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Evaluate against a plain-JSON context and return a plain-JSON value."""
        token = _METER.set(_Meter())
        # Converting the context and the result is work too, outside the meter
        # (context values are the caller's): a request's budget pays for it by value.
        budget = current_budget()
        try:
            activation = {
                name: to_cel(value, budget) for name, value in context.items()
            }
            result = self._program.evaluate(activation)
            return to_json(result, budget)
        except BudgetExceeded:
            raise
        except ExpressionError as exc:
            raise ExpressionError(exc.message, self.source) from exc
        except CELEvalError as exc:
            raise ExpressionError(_eval_message(exc), self.source) from exc
        except Exception as exc:  # the sandbox boundary: nothing else escapes
            message = f"cannot evaluate: {type(exc).__name__}: {exc}"
            raise ExpressionError(_shorten(message), self.source) from exc
        finally:
            _METER.reset(token)

    def evaluate_condition(self, context: Mapping[str, Any]) -> bool:
        """Evaluate as a condition, which must be exactly true or false."""
        value = self.evaluate(context)
        try:
            return is_truthy_condition(value)
        except ExpressionError as exc:
            raise ExpressionError(exc.message, self.source) from exc


def compile_expression(source: str) -> Expression:
    """Parse and check a CEL source once; return the cached compiled expression.

    Raise ExpressionError naming the problem: empty, too long, a syntax error, an
    unknown name or function, or nested too deeply.
    """
    if not isinstance(source, str):
        raise ExpressionError("expression must be a string", repr(source))
    return _compile(source)


# Compiling costs milliseconds and evaluating a fraction of one; keep programs.
@functools.lru_cache(maxsize=4096)
def _compile(source: str) -> Expression:
    if not source.strip():
        raise ExpressionError("expression is empty", source)
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            f"expression is longer than {MAX_SOURCE_LENGTH} characters", source
        )
    # Parsing is the costly part of an expression's life (about 25 µs a character);
    # a request that compiles many (validating a submitted graph) pays for it.
    charge(len(source) * _COMPILE_STEPS_PER_CHARACTER)
    environment = _environment()
    try:
        with _COMPILE_LOCK:
            tree = environment.compile(source)
    except CELParseError as exc:
        raise ExpressionError(_syntax_message(source, exc), source) from exc
    except Exception as exc:  # lark raises its own errors on odd input
        message = f"syntax error: {type(exc).__name__}: {exc}"
        raise ExpressionError(_shorten(message), source) from exc
    if _depth(tree) > MAX_TREE_DEPTH:
        raise ExpressionError("expression is nested too deeply", source)
    _check_names(tree, source)
    try:
        with _COMPILE_LOCK:
            program = environment.program(tree, functions=_FUNCTIONS)
    except Exception as exc:
        message = f"cannot compile: {type(exc).__name__}: {exc}"
        raise ExpressionError(_shorten(message), source) from exc
    return Expression(source, program)


def is_truthy_condition(value: Any) -> bool:
    """Return a condition's value, refusing anything but true or false."""
    if isinstance(value, bool):
        return value
    raise ExpressionError("condition must be true or false")


def is_expression(value: Any) -> bool:
    """Return whether a param value is an expression ("=..." but not "==...")."""
    return (
        isinstance(value, str)
        and value.startswith(EXPRESSION_PREFIX)
        and not value.startswith(EXPRESSION_PREFIX * 2)
    )


def evaluate_params(
    params: Any,
    context: Mapping[str, Any],
    *,
    expressions: Mapping[str, Expression] | None = None,
    path: str = "params",
) -> Any:
    """Return params with every "=" string replaced by its evaluated expression.

    "==x" stands for the literal string "=x". Pass `expressions` (source to compiled
    expression) to evaluate without touching the compile cache. An expression that
    cannot be evaluated raises ExpressionError naming where it sits, from `path`:
    "params.json.order (=input.order): cannot evaluate: …".
    """
    if isinstance(params, Mapping):
        return {
            key: evaluate_params(
                value, context, expressions=expressions, path=f"{path}.{key}"
            )
            for key, value in params.items()
        }
    if isinstance(params, list | tuple):
        return [
            evaluate_params(
                value, context, expressions=expressions, path=f"{path}[{index}]"
            )
            for index, value in enumerate(params)
        ]
    if isinstance(params, str) and params.startswith(EXPRESSION_PREFIX):
        if params.startswith(EXPRESSION_PREFIX * 2):
            return params[1:]
        source = params[1:]
        expression = expressions.get(source) if expressions is not None else None
        try:
            if expression is None:
                expression = compile_expression(source)
            return expression.evaluate(context)
        except ExpressionError as exc:
            raise located(exc, f"{path} (={source_excerpt(source)})") from exc
    return params


def located(exc: ExpressionError, where: str) -> ExpressionError:
    """Return the error with `where` it came from in front of its message:
    "params.url (=input.x): cannot evaluate: …", "edge e3 big→review (when …): …"."""
    return ExpressionError(_shorten(f"{where}: {exc.message}", 500), exc.source)


def source_excerpt(source: str, limit: int = 60) -> str:
    """Return an expression's source on one line, cut to `limit` characters."""
    text = " ".join(source.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def param_expressions(params: Any) -> list[tuple[str, str]]:
    """Return (path, source) for every "=" expression in params, in document order.

    Paths look like "json.order" or "headers[0].value".
    """
    return list(_walk_expressions(params, ""))


def _walk_expressions(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk_expressions(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk_expressions(item, f"{path}[{index}]")
    elif is_expression(value):
        yield path, value[1:]


# -- compiling ---------------------------------------------------------------------

_COMPILE_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _environment() -> celpy.Environment:
    # celpy.Environment() sets the interpreter's recursion limit to 2,500; never let
    # it lower a limit someone else raised.
    limit = sys.getrecursionlimit()
    environment = celpy.Environment(runner_class=_MeteredRunner)
    sys.setrecursionlimit(max(limit, sys.getrecursionlimit()))
    return environment


def _syntax_message(source: str, exc: CELParseError) -> str:
    lines = source.splitlines() or [""]
    line = exc.line or 1
    column = exc.column or 1
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    near = text[column - 1 : column + 19]
    where = f"near {near!r}" if near.strip() else "at the end"
    return f"syntax error at line {line}, column {column} {where}"


def _depth(tree: lark.Tree) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, lark.Tree):
            stack.extend((child, depth + 1) for child in node.children)
    return deepest


def _bare_identifier(tree: Any) -> str | None:
    """Return the name when an expression is just an identifier, like `x`."""
    while isinstance(tree, lark.Tree):
        if tree.data == "ident":
            token = tree.children[0]
            return str(token) if isinstance(token, lark.Token) else None
        if len(tree.children) != 1:
            return None
        tree = tree.children[0]
    return None


def _check_names(tree: lark.Tree, source: str) -> None:
    """Refuse names and functions that can never resolve, at compile time."""
    bound: set[str] = set()
    for node in tree.iter_subtrees():
        if node.data != "member_dot_arg" or len(node.children) < 3:
            continue
        if str(node.children[1]) not in _MACROS:
            continue
        arguments = node.children[2]
        if isinstance(arguments, lark.Tree):
            count = 2 if str(node.children[1]) == "reduce" else 1
            for argument in arguments.children[:count]:
                name = _bare_identifier(argument)
                if name is not None:
                    bound.add(name)
    allowed = CONTEXT_NAMES | bound | _BUILTIN_NAMES
    for node in tree.iter_subtrees_topdown():
        if node.data in ("ident", "dot_ident"):
            name = str(node.children[0])
            if name not in allowed:
                names = ", ".join(sorted(CONTEXT_NAMES))
                raise ExpressionError(
                    f"unknown name {name!r}; expressions can read {names}", source
                )
        elif node.data in ("ident_arg", "dot_ident_arg"):
            name = str(node.children[0])
            if name not in _KNOWN_FUNCTIONS:
                raise ExpressionError(f"unknown function {name!r}", source)
        elif node.data == "member_dot_arg":
            name = str(node.children[1])
            if name not in _KNOWN_FUNCTIONS:
                raise ExpressionError(f"unknown method {name!r}", source)


# -- numbers -----------------------------------------------------------------------
# JSON does not tell 1000 from 1000.0, so input.amount may arrive as either; plain
# CEL (and cel-python 0.5, asymmetrically) refuses `1000 < 1000.5`. Compare int,
# uint and double by numeric value (as the current CEL spec does), promote mixed
# int/double arithmetic to double, and make == between unrelated types false
# instead of an error (so `attempt == 1` works while attempt is null).


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(
        value, bool | celtypes.BoolType
    )


def _plain_number(value: Any) -> int | float:
    return float(value) if isinstance(value, float) else int(value)


def _comparison(compare: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    original = base_functions[_OPERATOR_NAMES[compare]]

    def function(left: Any, right: Any) -> Any:
        if isinstance(left, CELEvalError):
            return left
        if isinstance(right, CELEvalError):
            return right
        # Comparing stops at the end of the smaller operand.
        _meter().spend(min(_cost(left), _cost(right)))
        if _is_number(left) and _is_number(right) and type(left) is not type(right):
            return celtypes.BoolType(compare(_plain_number(left), _plain_number(right)))
        return original(left, right)

    function.__name__ = original.__name__
    return function


def _equality(equal: bool) -> Callable[[Any, Any], Any]:
    compare = _comparison(operator.eq if equal else operator.ne)

    def function(left: Any, right: Any) -> Any:
        try:
            return compare(left, right)
        except TypeError:
            if _cel_kind(left) == _cel_kind(right):
                raise
            return celtypes.BoolType(not equal)

    function.__name__ = compare.__name__
    return function


def _cel_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, celtypes.BoolType | bool):
        return "bool"
    if _is_number(value):
        return "number"
    return type(value).__name__


def _arithmetic(name: str) -> Callable[[Any, Any], Any]:
    original = base_functions[name]

    def function(left: Any, right: Any) -> Any:
        if (
            _is_number(left)
            and _is_number(right)
            and (isinstance(left, float) or isinstance(right, float))
            and type(left) is not type(right)
        ):
            return original(
                celtypes.DoubleType(float(left)), celtypes.DoubleType(float(right))
            )
        if name == "_*_" and (_is_sequence(left) or _is_sequence(right)):
            # Python would repeat `true * "ab"`; CEL has no such operator.
            kinds = [
                _type_name(f"{type(v).__module__}.{type(v).__name__}")
                for v in (left, right)
            ]
            raise ExpressionError(f"no operator * for {kinds[0]} and {kinds[1]}")
        if name == "_+_" and _is_sequence(left) and _is_sequence(right):
            meter = _meter()
            meter.spend(_cost(left) + _cost(right))
            size = meter.weigh(left)[0] + meter.weigh(right)[0]
            if size > MAX_VALUE_SIZE:
                raise ExpressionError(_too_large(size))
        return original(left, right)

    function.__name__ = getattr(original, "__name__", name)
    return function


def _charged(name: str) -> Callable[..., Any]:
    """Wrap a function whose work grows with its arguments: charge it as steps."""
    original = base_functions[name]

    def function(*args: Any) -> Any:
        _meter().spend(sum(_cost(arg) for arg in args))
        return original(*args)

    function.__name__ = getattr(original, "__name__", name)
    return function


_OPERATOR_NAMES: dict[Callable[[Any, Any], Any], str] = {
    operator.lt: "_<_",
    operator.le: "_<=_",
    operator.gt: "_>_",
    operator.ge: "_>=_",
    operator.eq: "_==_",
    operator.ne: "_!=_",
}

_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "_<_": _comparison(operator.lt),
    "_<=_": _comparison(operator.le),
    "_>_": _comparison(operator.gt),
    "_>=_": _comparison(operator.ge),
    "_==_": _equality(True),
    "_!=_": _equality(False),
    **{name: _arithmetic(name) for name in ("_+_", "_-_", "_*_", "_/_")},
    **{
        name: _charged(name)
        for name in ("_in_", "contains", "startsWith", "endsWith", "matches")
        + ("string", "bytes")
    },
}


# -- bounds ------------------------------------------------------------------------
# Every evaluation gets a meter: each parse-tree visit is a step, functions whose work
# grows with their arguments pay for it in steps, and each value the expression builds
# is weighed, so that neither a macro over a long list nor a value doubled in a
# `reduce` can hang the process or exhaust its memory.

# Parse-tree nodes whose value is new, rather than one read or passed through: a
# `primary` holding one of these, a method or macro call, an operator.
_BUILDING_PRIMARIES = frozenset({"list_lit", "map_lit", "ident_arg", "dot_ident_arg"})
_OPERATORS = frozenset({"addition", "multiplication"})
# A step is one visit, about 5 µs; comparing or copying 4 entries of a list or map,
# or scanning 1,024 characters, costs about as much.
_ENTRIES_PER_STEP = 4
_CHARACTERS_PER_STEP = 1024
# Outside any one evaluation, charged only to a request's budget: compiling a source
# costs about this many steps a character, converting one JSON value (either way)
# about one.
_COMPILE_STEPS_PER_CHARACTER = 4


class _Meter:
    """Count the steps of one evaluation and weigh the values it builds."""

    __slots__ = ("steps", "_weights")

    def __init__(self) -> None:
        self.steps = MAX_EVALUATION_STEPS
        # {id(value): (value, size, depth)}; holding the value keeps its id unused.
        self._weights: dict[int, tuple[Any, int, int]] = {}

    def spend(self, steps: int = 1) -> None:
        """Take steps from the budget; refuse the evaluation when it runs out."""
        self.steps -= steps
        if self.steps < 0:
            raise ExpressionError(
                f"expression takes more than {MAX_EVALUATION_STEPS} steps"
            )
        request = current_budget()
        if request is not None:
            request.spend(steps)

    def check(self, value: Any) -> None:
        """Refuse a built value that is too large or nested too deeply."""
        size, depth = self.weigh(value)
        if size > MAX_VALUE_SIZE:
            raise ExpressionError(_too_large(size))
        if depth > MAX_VALUE_DEPTH:
            raise ExpressionError(
                f"expression builds a value nested deeper than {MAX_VALUE_DEPTH} levels"
            )

    def weigh(self, value: Any) -> tuple[int, int]:
        """Return (size, depth) of a value as a tree, walking each container once.

        Shared sublists count every time they appear (`[r, r]` is twice r), since
        that is what the value weighs once written out as JSON.
        """
        if not _is_container(value):
            return (len(value) if isinstance(value, str | bytes) else 1), 0
        known = self._weights.get(id(value))
        if known is not None:
            return known[1], known[2]
        # Iterative post-order walk: values from the context may nest deeply.
        stack: list[tuple[Any, bool]] = [(value, False)]
        while stack:
            item, children_done = stack.pop()
            if id(item) in self._weights:
                continue
            children = _children(item)
            if not children_done:
                stack.append((item, True))
                stack.extend(
                    (child, False)
                    for child in children
                    if _is_container(child) and id(child) not in self._weights
                )
                continue
            size, depth = 1, 0
            for child in children:
                child_size, child_depth = self.weigh(child)
                size += child_size
                depth = max(depth, child_depth)
            self._weights[id(item)] = (item, size, depth + 1)
        return self._weights[id(value)][1:]


_METER: contextvars.ContextVar[_Meter] = contextvars.ContextVar("expression_meter")


def _meter() -> _Meter:
    # Expression.evaluate sets one per evaluation; a program run some other way
    # gets a fresh one at each call, so it is not bounded.
    return _METER.get(None) or _Meter()


def _is_container(value: Any) -> bool:
    return isinstance(value, list | tuple | Mapping)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, str | bytes) or _is_container(value)


def _children(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [*value.keys(), *value.values()]
    return list(value)


def _cost(value: Any) -> int:
    """Return the steps that reading all of a value costs."""
    if isinstance(value, str | bytes):
        return len(value) // _CHARACTERS_PER_STEP
    if _is_container(value):
        return _meter().weigh(value)[0] // _ENTRIES_PER_STEP
    return 0


def _builds(tree: lark.Tree) -> bool:
    if tree.data == "member_dot_arg":
        return True
    if tree.data in _OPERATORS:
        return len(tree.children) > 1  # else it passes its one operand on
    if tree.data == "primary" and isinstance(tree.children[0], lark.Tree):
        child = tree.children[0]
        if child.data == "ident_arg" and str(child.children[0]) in ("dyn", "has"):
            return False  # dyn(x) is x
        return child.data in _BUILDING_PRIMARIES
    return False


def _too_large(size: int) -> str:
    return f"expression builds a value of size {size}; the limit is {MAX_VALUE_SIZE}"


class _MeteredEvaluator(Evaluator):
    """Evaluate like celpy, spending a step per visit and weighing built values."""

    # lark's Interpreter visits every child through _visit_tree, not visit.
    def _visit_tree(self, tree: lark.Tree) -> Any:
        meter = _meter()
        meter.spend()
        value = super()._visit_tree(tree)
        if _is_sequence(value) and _builds(tree):
            meter.check(value)
        return value

    def sub_evaluator(self, ast: lark.Tree) -> Evaluator:
        return _MeteredEvaluator(ast, activation=self.activation)


class _MeteredRunner(celpy.InterpretedRunner):
    """Run a program with the metered evaluator."""

    def evaluate(self, context: Any) -> Any:
        evaluator = _MeteredEvaluator(ast=self.ast, activation=self.new_activation())
        return evaluator.evaluate(context)


def _eval_message(exc: CELEvalError) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    if text.startswith("undeclared reference to "):
        text = text.split(" (in activation", 1)[0]
    elif match := _OVERLOAD.match(text):
        operation, left, right = match.groups()
        symbol = _OPERATION_SYMBOLS.get(operation, operation)
        text = f"no operator {symbol} for {_type_name(left)} and {_type_name(right)}"
    return _shorten(f"cannot evaluate: {text}")


# "found no matching overload for Token('RULE', 'relation_gt') applied to
# '(<class 'celpy.celtypes.IntType'>, <class 'celpy.celtypes.StringType'>)'"
_OVERLOAD = re.compile(
    r"found no matching overload for Token\('RULE', '(\w+)'\) applied to "
    r"'\(<class '([\w.]+)'>, <class '([\w.]+)'>\)'"
)
_OPERATION_SYMBOLS = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
}


def _type_name(qualified: str) -> str:
    name = qualified.rsplit(".", 1)[-1]
    if name == "NoneType":
        return "null"
    return name.removesuffix("Type").lower()


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
