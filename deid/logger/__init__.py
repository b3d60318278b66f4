"""Logging facade of the pydicom/deid drop-in API: ``from deid.logger import bot``.

Examples
--------
>>> from deid.logger import bot
>>> hasattr(bot, "warning")
True
"""

from deid.logger.message import DeidMessage
from deid.logger.progress import ProgressBar

#: The shared message object (upstream's global ``bot``).
bot = DeidMessage()

__all__ = ["DeidMessage", "ProgressBar", "bot"]
