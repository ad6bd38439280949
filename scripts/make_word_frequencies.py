"""Regenerate bot/data/english-zipf.tsv.gz from the wordfreq package (a dev-only tool).

The bot weighs question words by how rare they are in everyday English: a rare word the article
lacks ("Lavrov", "borscht") means the article does not answer; a common one ("actually") is chatter.
Shipping this small table keeps wordfreq (58 MB, slow to import) off the answer path.

    pip install wordfreq && python scripts/make_word_frequencies.py
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import wordfreq  # type: ignore[import-not-found]

TARGET = Path(__file__).resolve().parent.parent / "bot" / "data" / "english-zipf.tsv.gz"
WORD = re.compile(r"[a-z][a-z']*")


def main() -> None:
    """Write the 60,000 most frequent English words with their Zipf frequency times 100."""
    rows = [
        f"{word}\t{round(wordfreq.zipf_frequency(word, 'en') * 100)}"
        for word in wordfreq.top_n_list("en", 60000)
        if WORD.fullmatch(word)
    ]
    TARGET.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode(), 9, mtime=0))
    print(f"wrote {len(rows)} words to {TARGET}")


if __name__ == "__main__":
    main()
