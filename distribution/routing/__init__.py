"""Routing: which partner (or pool, or person) gets each lead, and a trace of why."""

from distribution.routing.engine import Decision, decide, route

__all__ = ["Decision", "decide", "route"]
