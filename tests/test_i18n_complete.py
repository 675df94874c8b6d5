"""Japanese and English must both be complete: every translatable string has a Japanese translation.

The source strings are English; this extracts them afresh (makemessages into a scratch folder) and
compares them with the merged catalogue that scripts/setup.sh builds from locale/ja/parts/.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["council", "meetings", "documents", "templates"]


@pytest.fixture
def extracted(tmp_path, settings, monkeypatch):
    for name in SOURCES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "locale"))
    (tmp_path / "locale").mkdir()
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["ja"], verbosity=0, no_obsolete=True)
    return tmp_path / "locale" / "ja" / "LC_MESSAGES" / "django.po"


def test_every_string_has_a_japanese_translation(extracted):
    catalogue = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
    assert catalogue.exists(), "run scripts/setup.sh: it merges locale/ja/parts into the catalogue"
    result = subprocess.run(["msgcmp", str(catalogue), str(extracted)], capture_output=True, text=True)
    lines = extracted.read_text(encoding="utf-8").splitlines()
    missing = []
    for err in result.stderr.splitlines():
        parts = err.split(":")
        if len(parts) > 2 and parts[1].isdigit() and "not defined" in err:
            i = int(parts[1]) - 1
            while i > 0 and not lines[i].startswith("msgid "):
                i -= 1
            missing.append(lines[i])
    assert result.returncode == 0, "strings without a Japanese translation:\n" + "\n".join(missing[:200])


def test_japanese_is_the_default_and_english_available(settings):
    assert settings.LANGUAGE_CODE == "ja"
    assert {code for code, _ in settings.LANGUAGES} == {"ja", "en"}
