"""A local Slack stand-in: for end-to-end tests and for ``kotae serve --local``."""

from bot.slack.standin.recorder import Call, Recorder
from bot.slack.standin.sender import EventsSender, Sent
from bot.slack.standin.server import BOT_ID, BOT_USER_ID, RESET, TEAM_ID, Fault, StandIn

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "RESET",
    "TEAM_ID",
    "Call",
    "EventsSender",
    "Fault",
    "Recorder",
    "Sent",
    "StandIn",
]
