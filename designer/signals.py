"""What designing announces, for other apps to record (designer imports none of them).

Sent inside the transaction that made the change, so a receiver's writes commit or
roll back with it. `runs` records each as an Event (runs/receivers.py).
"""

from django.dispatch import Signal

# A draft was stored: kwargs `version` (WorkflowVersion) and `actor` (a user or None).
version_created = Signal()

# A connection was created, updated or deleted: kwargs `connection`, `change`
# ("created", "updated", "deleted"), `actor`, and for updates `secrets_changed` (the
# names of the secrets given, never their values), and `changes` (the audit diff of
# its fields; secrets only as {"changed": true}: designer/audit.py).
connection_changed = Signal()
