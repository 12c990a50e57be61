"""The README stays true: every setting is documented, and CI runs the README's test command."""

from __future__ import annotations

from pathlib import Path

from common.settings import UNPREFIXED, Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme():
    env_names = {field: f"AGENTFLEET_{field.upper()}" for field in Settings.model_fields}
    env_names |= {field: name for name, field in UNPREFIXED.items()}
    missing = [name for name in env_names.values() if f"`{name}`" not in README]
    assert not missing, f"README's configuration table lacks {missing}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in README and "make demo" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()
