"""Settings for a developer machine and the embedded default (`standalone`)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import ENV

DEBUG = ENV.debug
# Mail Django sends itself, and email.send without an smtp connection, is printed by
# the process that sends it instead of sent (an smtp connection sends for real).
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
