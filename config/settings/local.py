"""Settings for a developer machine and the embedded default (`standalone`)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import ENV

DEBUG = ENV.debug
