"""Localized texts: the code tables and the mail templates, merged from the core and every module."""
from __future__ import annotations

import json
import string
from pathlib import Path

from .registry import RegistryError

LANGUAGES = ("en", "vi", "ru", "chi")


class Messages:
    """Code texts and mail templates for the four languages."""

    def __init__(self, texts: dict[str, dict[str, str]], mails: dict[str, dict[str, dict]], default: str = "en",
                 pages: dict[str, dict[str, str]] | None = None):
        self.texts = texts
        self.mails = mails
        self.pages = pages or {lang: {} for lang in LANGUAGES}
        self.default = default if default in LANGUAGES else "en"

    def language(self, requested) -> str:
        """The language actually used: the requested one when known, else the default."""
        return requested if isinstance(requested, str) and requested in self.texts else self.default

    def text(self, code: str, language: str) -> str:
        return self.texts.get(language, {}).get(code) or self.texts[self.default].get(code, "")

    def table(self, language: str) -> dict[str, str]:
        return self.texts[language]

    def page(self, key: str, language: str) -> str:
        """A text of the browser pages (titles, buttons, hints), in `language` or the default one."""
        return self.pages.get(language, {}).get(key) or self.pages[self.default].get(key, "")

    def mail(self, template: str, language: str, **values) -> tuple[str, str]:
        """(subject, body) of a mail template filled with `values`."""
        entry = self.mails.get(language, {}).get(template) or self.mails[self.default][template]
        return entry["subject"].format(**values), entry["body"].format(**values)


def load_messages(dirs: list[Path], codes: dict, default: str = "en") -> Messages:
    """Merge `<dir>/<lang>.json` and `<dir>/mail/<lang>.json` of each dir; check completeness."""
    texts: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    mails: dict[str, dict[str, dict]] = {lang: {} for lang in LANGUAGES}
    pages: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for directory in dirs:
        for lang in LANGUAGES:
            texts[lang].update(_read(directory / f"{lang}.json"))
            mails[lang].update(_read(directory / "mail" / f"{lang}.json"))
            pages[lang].update(_read(directory / "pages" / f"{lang}.json"))
    for lang in LANGUAGES:
        missing = sorted(set(codes) - set(texts[lang]))
        if missing:
            raise RegistryError(f"code(s) {', '.join(missing)} have no text in messages/{lang}.json")
    _check_templates(mails)
    return Messages(texts, mails, default, pages)


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RegistryError(f"{path.parent.name}/{path.name} is not valid JSON: {exc}") from exc


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _check_templates(mails: dict[str, dict[str, dict]]) -> None:
    reference = mails["en"]
    for lang, templates in mails.items():
        for name, entry in reference.items():
            other = templates.get(name)
            if other is None:
                raise RegistryError(f"mail template {name!r} is missing in language {lang!r}")
            for part in ("subject", "body"):
                if placeholders(other[part]) != placeholders(entry[part]):
                    raise RegistryError(f"mail template {name!r} ({lang}, {part}) has other placeholders than en")
