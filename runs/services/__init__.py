"""Services that change runs: every state change is an FSM transition with an Event.

One module per responsibility, in dependency order (each imports only those above it):

- `graphs`: published versions' compiled graphs, cached per process;
- `admission`: how many runs and tasks may be active;
- `dispatching`: creating, starting and publishing attempts, the retry budget;
- `handoff_steps`: opening and cancelling the handoffs of waiting steps;
- `advancing`: `Advance`, which moves a run through its graph and persists what the
  graph decides; admitting pending runs;
- `starting`: `run_start` (admission, idempotency, canary pick);
- `attempts`: an attempt's start and finish, eager continuation;
- `recovery`: due retries, timers, lost and stuck attempts (the sweeper's jobs);
- `controls`: cancel, pause, resume and retry a run.

`runs.handoffs` (people acting on handoffs) builds on them; nothing here imports it.
"""
