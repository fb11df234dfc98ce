"""Strict reading of a command's JSON on the command line.

The domain's own validation is lax where JSON is concerned: `true` passes as the integer 1,
and `" A"` is a different aggregate than `"A"` although a table shows both alike. The command
line therefore also validates in pydantic's strict JSON mode (JSON's own types only; text
still becomes a UUID, a Decimal, an enum or a time) and refuses ids with leading or trailing
whitespace. Refused input is an InvalidCommand (exit 2), like any other invalid field.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from incident_core.domain import Command, Domain
from incident_core.errors import InvalidCommand

__all__ = ["parse_strictly"]


def _is_id(name: str) -> bool:
    return name == "aggregate_id" or name.endswith(("_id", "_number"))


def parse_strictly(domain: Domain, name: str, data: str) -> Command:
    """The command `name` from JSON `data`, validated by the domain and then strictly."""
    command = domain.parse_command(name, data)
    try:
        type(command).model_validate_json(data, strict=True)
    except ValidationError as exc:
        raise InvalidCommand(name, [
            {"loc": list(e["loc"]), "msg": f"{e['msg']} (strictly: no conversions, "
                                           "e.g. true is not 1)", "type": e["type"]}
            for e in exc.errors(include_url=False)]) from None
    padded: list[dict[str, Any]] = [
        {"loc": [field], "msg": f"{value!r} has leading or trailing whitespace; ids are "
                                "not trimmed, remove it", "type": "whitespace"}
        for field, value in command.model_dump().items()
        if _is_id(field) and isinstance(value, str) and value != value.strip()]
    if padded:
        raise InvalidCommand(name, padded)
    return command
