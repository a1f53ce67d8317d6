"""LlamaIndex's default indexing pipeline, timed; run by bench_indexing.py --vs-llamaindex with
bench/.venv-llamaindex's Python (not the app's).

    python llamaindex_pipeline.py MODEL_FOLDER FILE...

SimpleDirectoryReader(input_files=FILES).load_data(), then VectorStoreIndex.from_documents()
with HuggingFaceEmbedding(model_name=MODEL_FOLDER) on the CPU and no LLM: LlamaIndex's
defaults otherwise (SentenceSplitter, 1024-token chunks with 200 overlap, embedding batch 10,
in-memory vector store). Prints one JSON line: files read, nodes, seconds after imports, and
how many of each node's tokens the embedder never saw (MiniLM reads the first 256; counted
after the timing, with the model's own tokenizer).
"""

from __future__ import annotations

import json
import os
import sys
import time

# As in medsearch_app/core/system/offline.py (this runs in LlamaIndex's own venv, without the app):
# no hub look-ups, no telemetry from any library, whatever the environment said.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY",
             "ORT_DISABLE_TELEMETRY"):
    os.environ[_var] = "1"
t_start = time.perf_counter()

from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex  # noqa: E402
from llama_index.embeddings.huggingface import HuggingFaceEmbedding  # noqa: E402


def main() -> int:
    model, files = sys.argv[1], sys.argv[2:]
    t0 = time.perf_counter()
    Settings.llm = None
    embed = HuggingFaceEmbedding(model_name=model, device="cpu")
    Settings.embed_model = embed
    docs = SimpleDirectoryReader(input_files=files).load_data()
    index = VectorStoreIndex.from_documents(docs)
    seconds = time.perf_counter() - t0
    built_at = time.time()
    nodes = list(index.docstore.docs.values())
    read = {d.metadata.get("file_name") for d in docs}
    tok = embed._model.tokenizer
    limit = int(embed._model.max_seq_length)
    total = unseen = 0
    for n in nodes:
        k = len(tok(n.get_content(), add_special_tokens=True, truncation=False)["input_ids"])
        total += k
        unseen += max(0, k - limit)
    print(json.dumps({"files_given": len(files), "files_read": len(read),
                      "skipped": sorted({os.path.basename(f) for f in files} - read),
                      "nodes": len(nodes), "seconds_after_imports": round(seconds, 3),
                      "import_seconds": round(t0 - t_start, 3), "built_at": built_at,
                      "tokens": total,
                      "tokens_not_embedded": unseen, "max_seq_length": limit}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
