"""Actions people use without code: HTTP, email, Slack, webhooks, SQL, transform.

Importing the package registers them (engine.apps does, at startup).
"""

from engine.connectors import email, slack

__all__ = ["email", "slack"]
