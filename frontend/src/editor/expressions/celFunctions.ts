/**
 * What an expression may name, as the engine allows it (engine/expressions.py): the
 * context names and the CEL functions and macros. tests/engine/test_cel_functions_ts.py
 * keeps these lists equal to the engine's.
 */

/** The names the engine supplies on every evaluation. */
export const CONTEXT_NAMES: Record<string, string> = {
  input: "the run's input",
  steps: 'steps.<node id>.output: a finished step’s output',
  outcome: 'the output of the step an edge leaves',
  run: 'run.id',
  attempt: 'the attempt number (1, 2, …)',
  item: 'a map’s current item',
  index: 'a map’s current index',
};

/** The functions, methods and macros, each with its use. */
export const CEL_FUNCTIONS: Record<string, string> = {
  all: 'list.all(x, predicate)',
  bool: 'bool(value)',
  bytes: 'bytes(string)',
  contains: 'text.contains(part)',
  double: 'double(value)',
  duration: "duration('1h30m')",
  dyn: 'dyn(value)',
  endsWith: 'text.endsWith(suffix)',
  exists: 'list.exists(x, predicate)',
  exists_one: 'list.exists_one(x, predicate)',
  filter: 'list.filter(x, predicate)',
  getDate: 'timestamp.getDate()',
  getDayOfMonth: 'timestamp.getDayOfMonth()',
  getDayOfWeek: 'timestamp.getDayOfWeek()',
  getDayOfYear: 'timestamp.getDayOfYear()',
  getFullYear: 'timestamp.getFullYear()',
  getHours: 'timestamp.getHours()',
  getMilliseconds: 'timestamp.getMilliseconds()',
  getMinutes: 'timestamp.getMinutes()',
  getMonth: 'timestamp.getMonth()',
  getSeconds: 'timestamp.getSeconds()',
  has: 'has(input.field)',
  int: 'int(value)',
  list: 'list (a type)',
  map: 'list.map(x, expression)',
  matches: "text.matches('regex')",
  min: 'list.min()',
  null_type: 'null_type (a type)',
  reduce: 'list.reduce(acc, x, init, expression)',
  size: 'size(list or text)',
  startsWith: 'text.startsWith(prefix)',
  string: 'string(value)',
  timestamp: "timestamp('2024-01-01T00:00:00Z')",
  type: 'type(value)',
  uint: 'uint(value)',
};

/** Functions called as methods on a value (`x.size()` also works for size). */
export const CEL_METHODS: ReadonlySet<string> = new Set([
  'all',
  'contains',
  'endsWith',
  'exists',
  'exists_one',
  'filter',
  'getDate',
  'getDayOfMonth',
  'getDayOfWeek',
  'getDayOfYear',
  'getFullYear',
  'getHours',
  'getMilliseconds',
  'getMinutes',
  'getMonth',
  'getSeconds',
  'map',
  'matches',
  'min',
  'reduce',
  'size',
  'startsWith',
]);
