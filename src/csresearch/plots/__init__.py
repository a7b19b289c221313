"""(moving) charts now live beside each analysis; the theme is :mod:`csresearch.style`."""

from ..style import *  # noqa: F401,F403
from ..style import MOVEMENT_COLORS, PALETTE, money, percent, set_theme  # noqa: F401
