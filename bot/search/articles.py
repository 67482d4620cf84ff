"""Article references in a question: "article 9", "art. 9", "статья 9", "9 статья",
"9-бап", "9 бап", "бап 9", "9-bap"."""

from __future__ import annotations

import re

from bot.search.text import fold, words

# "article" in its folded forms: art, artikle(s); статья/статьи/статье/статью -> stati...;
# бап/бабы/бабында -> bap, bab...; but not station(s) or statistics.
_ARTICLE_PREFIXES = ("artikl", "stati", "bap", "bab")
_NOT_ARTICLE = ("statio", "statis")


def _is_article_word(word: str) -> bool:
    folded = fold(word)
    if folded in ("art", "st", "state"):  # "статье" folds to "state"
        return True
    return folded.startswith(_ARTICLE_PREFIXES) and not folded.startswith(_NOT_ARTICLE)


def article_numbers(text: str) -> list[int]:
    """Numbers written next to a word for "article", in the order they appear."""
    tokens = words(re.sub(r"\bst\.", "st ", text.casefold()))
    found: list[int] = []
    for i, token in enumerate(tokens):
        if not token.isdigit() or len(token) > 3:
            continue
        neighbours = tokens[max(i - 1, 0) : i] + tokens[i + 1 : i + 2]
        if any(_is_article_word(n) for n in neighbours):
            number = int(token)
            if number not in found:
                found.append(number)
    return found
