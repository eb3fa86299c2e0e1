"""Topic words for cluster labels: one TF-IDF set-up shared by network and spatial clusters.

Project titles in funding registries repeat the funder's vocabulary ("European",
"innovation", "project"); those words label nothing, so they join the English stop words.
"""

from __future__ import annotations

import numpy as np

FUNDING_BOILERPLATE = frozenset({
    "europe", "european", "eu", "innovation", "innovative", "project", "projects", "research",
    "new", "based", "towards", "horizon", "action", "actions", "programme", "support", "network",
    "development", "phase", "ref", "call", "initiative", "novel", "approach", "approaches",
})  # fmt: skip


def topic_vectoriser():
    """A scikit-learn ``TfidfVectorizer`` over words of three or more letters, without stop
    words or funding boilerplate."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    return TfidfVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS | FUNDING_BOILERPLATE),
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z-]{2,}\b",
        lowercase=True,
        sublinear_tf=True,
    )


def top_words(scores: np.ndarray, vocabulary: np.ndarray, n: int) -> list[str]:
    """The ``n`` highest-scoring words (ties by vocabulary order), positive scores only."""
    best = np.argsort(-scores, kind="stable")[:n]
    return [str(vocabulary[i]) for i in best if scores[i] > 0]
