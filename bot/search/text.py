"""Text normalisation shared by the FAQ search and the station lookup.

People type Kazakh in Cyrillic, in the 2018 Latin letters (á ǵ ı ń ó ú ý, sh, ch), in the 2021
letters (ä ğ ñ ö ş ū ü) and in plain ASCII; Russian sometimes in Latin too. The three Latin
alphabets disagree on what i, ı and y mean, so instead of guessing the alphabet we fold every
form onto one coarse Latin skeleton where the ambiguous letters share a symbol. The skeleton
loses a few distinctions (ы/і/и, у/ұ/ү) that never separate two FAQ topics, and makes
"Сайлау", "Saılaý", "saylau" and "saılau" the same word.
"""

from __future__ import annotations

import re
import unicodedata

_CYRILLIC = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "e",
    "ж": "j", "з": "z", "и": "i", "й": "i", "і": "i", "к": "k", "қ": "k", "л": "l", "м": "m",
    "н": "n", "ң": "n", "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ұ": "u", "ү": "u", "ф": "f", "х": "h", "һ": "h", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "sh", "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip
_LATIN = {
    "á": "a", "ä": "a", "à": "a", "â": "a", "ǵ": "g", "ğ": "g", "ı": "i", "í": "i", "ï": "i",
    "î": "i", "y": "i", "ń": "n", "ñ": "n", "ó": "o", "ö": "o", "ô": "o", "ú": "u", "ü": "u",
    "ū": "u", "ý": "u", "ù": "u", "û": "u", "w": "u", "ş": "sh", "ç": "ch", "q": "k", "c": "k",
    "x": "h", "é": "e", "è": "e", "ê": "e", "ë": "e",
}  # fmt: skip
_TABLE = str.maketrans({**_CYRILLIC, **_LATIN})
# Latin digraphs of the same sounds, after the single letters are mapped.
_DIGRAPHS = (("zh", "j"), ("kh", "h"), ("kh", "h"))
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_DOUBLE = re.compile(r"(.)\1+")


def fold(word: str) -> str:
    """Maps one lower-case word of any of the scripts above onto the shared skeleton."""
    text = word.translate(_TABLE)
    for digraph, letter in _DIGRAPHS:
        text = text.replace(digraph, letter)
    return _DOUBLE.sub(r"\1", text)


def words(text: str) -> list[str]:
    """Lower-cased words and numbers, accents kept (they carry Kazakh letters)."""
    text = unicodedata.normalize("NFC", text).casefold()
    # "9-бап" and "9бап" both mean article 9: split digits from letters.
    text = re.sub(r"(\d)(?=[^\W\d_])|([^\W\d_])(?=\d)", r"\1\2 ", text)
    return _WORD.findall(text)


def folded_words(text: str) -> list[str]:
    return [fold(w) for w in words(text)]
