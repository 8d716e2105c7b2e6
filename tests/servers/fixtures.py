"""Pytest fixtures that start the loopback stand-ins in tests/servers/."""

from __future__ import annotations
