"""What the store accepts: ids, texts, choices and JSON payloads are checked here, and a
refusal is an ``InvalidInput`` with a plain sentence (no paths, no SQL). Used by ``app.store``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone

from app.records import CHOICES, Choice, InvalidChoice, InvalidInput

__all__ = ["MAX_ID_CHARS", "MAX_TEXT_CHARS", "PRIVATE_KEYS", "check_choice", "clean_id",
           "clean_text", "now", "optional_id", "private_keys", "to_json"]

MAX_ID_CHARS = 128
MAX_TEXT_CHARS = 50_000
PRIVATE_KEYS = frozenset({"ip", "ip_address", "client_ip", "remote_addr", "host", "user_agent",
                           "useragent", "headers", "cookie", "cookies"})


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def clean_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"The {what} must be a non-empty string.")
    value = value.strip()
    if len(value) > MAX_ID_CHARS or not value.isprintable():
        raise InvalidInput(f"The {what} must be at most {MAX_ID_CHARS} printable characters; "
                           f"got {len(value)} characters.")
    return value


def optional_id(value: object, what: str) -> str | None:
    return None if value is None or value == "" else clean_id(value, what)


def clean_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"The {what} must be text, not {type(value).__name__}.")
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidInput(f"The {what} has {len(value)} characters; the limit is "
                           f"{MAX_TEXT_CHARS}. Shorten it.")
    return value


def check_choice(choice: object) -> Choice:
    if choice not in CHOICES:
        shown = repr(choice)[:40]
        raise InvalidChoice(f"The choice must be one of A, B, tie or skip; got {shown}.")
    return choice  # type: ignore[return-value]


def to_json(value: object, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The {what} must be JSON-serialisable ({exc}).") from None


def private_keys(value: object) -> set[str]:
    if isinstance(value, Mapping):
        found = {k for k in value if str(k).lower().replace("-", "_") in PRIVATE_KEYS}
        return found.union(*(private_keys(v) for v in value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*(private_keys(v) for v in value))
    return set()
