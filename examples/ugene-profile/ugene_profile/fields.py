"""The profile's fields and their rules, as pydantic types: a bad value answers 002003 with `details`
naming the field and the problem (e.g. `{"arg": "dob", "problem": "date_not_in_past"}`)."""
from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime, timezone
from typing import Annotated, Any

from iso3166 import countries_by_alpha2
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from ugene import Args

OLDEST_YEARS = 150
METADATA_MAX_BYTES = 4096


def _no_control(value: str) -> str:
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise PydanticCustomError("control_characters", "control characters are not allowed")
    return value


def text(max_length: int):
    """Free text of one line: surrounding spaces trimmed, 1..max_length characters, no control ones."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length),
                     AfterValidator(_no_control)]


def _birth_date(value: date) -> date:
    # Today in UTC from the wall clock: pydantic runs before the handler, without the app's clock,
    # and a date of birth does not depend on the hour.
    today = datetime.now(timezone.utc).date()
    if value >= today:
        raise PydanticCustomError("date_not_in_past", "the date of birth must be in the past")
    try:
        oldest = today.replace(year=today.year - OLDEST_YEARS)
    except ValueError:                                   # 29 February
        oldest = today.replace(year=today.year - OLDEST_YEARS, day=28)
    if value < oldest:
        raise PydanticCustomError("date_too_old", "the date of birth is more than {years} years ago",
                                  {"years": OLDEST_YEARS})
    return value


def _country(value: str) -> str:
    code = value.upper()
    if code not in countries_by_alpha2:
        raise PydanticCustomError("country_unknown", "not an ISO 3166-1 alpha-2 country code")
    return code


def _metadata(value: dict) -> dict:
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > METADATA_MAX_BYTES:
        raise PydanticCustomError("metadata_too_large", "metadata is larger than {limit} bytes of JSON",
                                  {"limit": METADATA_MAX_BYTES})
    return value


Name = text(100)
Address = text(255)
City = text(100)
BirthDate = Annotated[date, AfterValidator(_birth_date)]
# Letters, digits, spaces and hyphens, as postcodes are written around the world ("SW1A 1AA", "01-234").
Postcode = Annotated[str, StringConstraints(strip_whitespace=True,
                                            pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9 -]{0,14}[A-Za-z0-9])?$")]
Country = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{2}$"),
                    AfterValidator(_country)]
Metadata = Annotated[dict[str, Any], AfterValidator(_metadata)]


class ProfileArgs(Args):
    """Every field is optional: only those given change, and `null` clears one."""

    first_name: Name | None = None
    last_name: Name | None = None
    dob: BirthDate | None = None
    address: Address | None = None
    postcode: Postcode | None = None
    city: City | None = None
    country: Country | None = None
    metadata: Metadata | None = None


FIELDS = tuple(ProfileArgs.model_fields)
