"""Field patterns and bounds the node types and the graph schema share."""

from engine.retry import MAX_DELAY_S

NODE_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
QUEUE_PATTERN = r"^[a-z0-9_.-]{1,64}$"
# Upper bound of every duration a graph gives, so date arithmetic never overflows and
# no timer outlives a year (the client checks the same).
MAX_DURATION_S = int(MAX_DELAY_S)
MAX_TIMEOUT_S = 86400

# Shared definitions of the graph schema (its `$defs`).
RETRY = {"$ref": "#/$defs/retry"}
TIMEOUT = {"$ref": "#/$defs/timeout"}
ASSIGNEE = {"$ref": "#/$defs/assignee"}
