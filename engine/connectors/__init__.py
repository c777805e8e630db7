"""Actions people use without code: HTTP, email, Slack, webhooks, SQL, transform.

Importing the package registers them (engine.apps does, at startup).
"""

from engine.connectors import email, http, slack, sql, transform

__all__ = ["email", "http", "slack", "sql", "transform"]
