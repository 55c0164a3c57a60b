"""Errors a user can act on. The CLI prints them as one line and exits 2 (STYLE §4)."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment, with a message that says what to do."""

    exit_code = 2
