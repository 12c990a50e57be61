"""The committed schema.graphql is the schema the code serves."""

from __future__ import annotations

from pathlib import Path

from api.schema import export_sdl

SDL_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_the_committed_schema_file_matches_the_code() -> None:
    committed = SDL_FILE.read_text(encoding="utf-8") if SDL_FILE.exists() else ""

    assert committed == export_sdl(), (
        "schema.graphql is out of date with the code in api/. Regenerate it with\n"
        "    python -m api.schema > schema.graphql\n"
        "and commit the result."
    )
