"""Small text rules shared by schemas and services."""

from __future__ import annotations

import re
import unicodedata

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")
EMAIL = re.compile(
    r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def slugify(value: str, *, max_length: int = 63) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return _SLUG_STRIP.sub("-", ascii_text.lower()).strip("-")[:max_length].strip("-")


def has_control_chars(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def normalize_email(value: str) -> str:
    email = value.strip()
    if len(email) > 320 or not EMAIL.match(email):
        raise ValueError("not a valid email address")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"
