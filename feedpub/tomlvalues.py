"""Typed values read from config.toml: each check names the key in its error."""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ConfigError


def reject_unknown(raw: Mapping[str, object], known: set[str], where: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (known keys: {', '.join(sorted(known))})"
        )


def string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {value!r}")
    return value


def opt_str(value: object, where: str) -> str | None:
    return None if value is None else string(value, where)


def a_list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list, got {value!r}")
    return value


def boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    return value


def opt_int(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be a whole number, got {value!r}")
    return value


def positive_int(value: object, where: str) -> int:
    number = opt_int(value, where)
    if number is None or number < 1:
        raise ConfigError(f"{where} must be a whole number of at least 1, got {value!r}")
    return number


def opt_positive_int(value: object, where: str) -> int | None:
    return None if value is None else positive_int(value, where)


def opt_number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where} must be a number of at least 0, got {value!r}")
    return float(value)
