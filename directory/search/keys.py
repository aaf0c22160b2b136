"""Search keys: one script-independent spelling of any text, used on both sides of a search.

`search_key("Київ, вул. Хрещатик")` → "kiiv vul khreshchatik"; "Kijów" → "kijow". The same
function folds the documents (at index time) and the reader's query, so case, diacritics,
punctuation and script never decide whether a listing is found. Spellings that transliteration
cannot join (Kyiv / Kiev / Київ) are joined by the gazetteer's place aliases in the document.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

# Apostrophes and soft signs (transliterated to "'") join a word: "Кам'янець" → "kamianets".
_JOINERS = re.compile(r"['’ʼ`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Arabic light normalisation (as in Arabic information retrieval's "light" stemmers), applied
# before transliteration: the definite article and the one-letter proclitics written onto it
# ("المأوى" the shelter, "والسكن" and the housing, "للنساء" for the women) are not part of the
# word a reader types ("مأوى"), and the hamza/madda forms of alef, alef maqsura and ta marbuta
# are typed either way. Only words that keep at least two letters are stripped.
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_AR_ARTICLE = re.compile(r"(?<!\w)(?:[وفبك]?ال|لل)(?=\w\w)")
_AR_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": None})


def search_key(text: str | None) -> str:
    """Fold `text` to lowercase ASCII words separated by single spaces ("" for nothing)."""
    if not text:
        return ""
    if text.isascii():  # most texts: no normalisation or transliteration to do
        folded = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text)
        if _ARABIC.search(text):
            text = _AR_ARTICLE.sub("", text.translate(_AR_FOLD))
        folded = anyascii(text).casefold()
    folded = _JOINERS.sub("", folded)
    return _NON_WORD.sub(" ", folded).strip()


@lru_cache(maxsize=65536)
def _cached_key(text: str) -> str:
    return search_key(text)


def search_key_cached(text: str) -> str:
    """`search_key` remembering short texts (place aliases, labels, organisation names repeat
    across thousands of documents while indexing)."""
    return _cached_key(text) if len(text) <= 300 else search_key(text)


def search_terms(text: str | None) -> list[str]:
    """The distinct words of `search_key(text)`, in order."""
    return list(dict.fromkeys(search_key(text).split()))
