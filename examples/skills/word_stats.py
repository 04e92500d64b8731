"""A small, real skill: word statistics for a text."""

import re
from collections import Counter


def word_stats(text, top=3):
    """Count the words in `text` and list the `top` most common ones."""
    words = re.findall(r"[a-z']+", text.lower())
    return {
        "words": len(words),
        "unique": len(set(words)),
        "top": [w for w, _ in Counter(words).most_common(top)],
    }
