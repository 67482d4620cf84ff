"""Which of kk, ru and en a message is written in, when that is clear.

Deliberately simple: the script first (Kazakh letters are Kazakh in either alphabet), then a
few very common words. A message that gives no clear sign is None, never a guess: the bot then
keeps the language it would have used anyway.
"""

from __future__ import annotations

import re

# Letters only Kazakh uses: Cyrillic, the 2018 Latin alphabet (á ǵ ı ń ó ú ý) and the 2021 one
# (ä ğ ñ ö ü ū ş).
KAZAKH_CYRILLIC = set("әғқңөұүһі")  # lower case: words are compared lowered
KAZAKH_LATIN = set("áǵıńóúýäğñöüūşáǵńóúý")  # lower case: words are compared lowered
# Common Kazakh words as people type them without Kazakh letters, in each script.
KAZAKH_WORDS_CYRILLIC = {
    "сайлау", "сайлауы", "кашан", "калай", "кандай", "кайда", "болады", "рахмет", "салем",
    "керек", "бар", "жок", "ма", "ме", "ба", "бе", "па", "пе", "мен", "сен", "бул", "дауыс",
    "туралы", "деген", "бап", "бабы", "неше", "беру", "береди", "кайдан",
}  # fmt: skip
# "не" is Kazakh ("what") as much as Russian ("not"): it is in neither list.
KAZAKH_WORDS_LATIN = {
    "saylau", "sailau", "saılaý", "qashan", "kashan", "qalai", "qalay", "kalai", "qaida",
    "qayda", "qandai", "qanday", "bolady", "kerek", "rahmet", "raqmet", "salem", "ma", "me",
    "ba", "be", "pa", "pe", "bar", "joq", "jok", "dauys", "beru", "men", "sen", "bul",
    "qaiyrly", "jane", "emes", "uchaske", "uchaskesi", "saılaýy", "saylauy",
}  # fmt: skip
RUSSIAN_WORDS = {
    "когда", "где", "как", "что", "кто", "какой", "какие", "выборы", "выборов", "выборах",
    "голосовать", "голосование", "можно", "ли", "в", "во", "на", "и", "по", "это", "мне",
    "я", "мой", "партия", "партии", "привет", "спасибо", "здравствуйте", "будут", "будет",
    "есть", "нужно", "участок", "за", "о", "с", "из", "дела", "ошибка", "кого", "или", "а",
    "куда", "почему", "сколько", "чем", "у", "вы", "ты", "мы", "нашёл", "нашел", "ответе",
}  # fmt: skip
ENGLISH_WORDS = {
    "the", "is", "are", "when", "where", "what", "how", "who", "which", "can", "do", "does",
    "i", "you", "my", "me", "to", "in", "of", "for", "vote", "voting", "election", "elections",
    "party", "parties", "hello", "hi", "thanks", "thank", "please", "and", "a", "an", "next",
    "station", "abroad", "will", "be", "there", "it", "this", "about",
}  # fmt: skip
WORD = re.compile(r"[^\W\d_]+")
# A word with a "q" not followed by "u", a vowel, and none of c, w, x (which Kazakh Latin
# spelling does not use).
QAZAQ = re.compile(r"(?=.*q(?!u))(?=.*[aeiouyáóúıý])[^cwx]+")


def detect_language(text: str) -> str | None:
    """kk, ru or en when the text clearly is in that language, else None."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    words = [w.lower() for w in WORD.findall(text)]
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in letters)
    if cyrillic > len(letters) / 2:
        # Words are counted, not letters: a Russian question names "Ақ жол" too, and a bare
        # place name ("Алматы", "Москва") is written alike in both languages.
        kazakh = sum(w in KAZAKH_WORDS_CYRILLIC or not KAZAKH_CYRILLIC.isdisjoint(w) for w in words)
        russian = sum(w in RUSSIAN_WORDS for w in words)
        return "kk" if kazakh > russian else "ru" if russian > kazakh else None
    if cyrillic:
        return None  # mixed scripts
    kazakh = sum(w in KAZAKH_WORDS_LATIN or not KAZAKH_LATIN.isdisjoint(w) for w in words)
    if kazakh == 0 and not all(ch.isascii() for ch in letters):
        return None  # another alphabet, or accents of another language
    # "q" not followed by "u" is Kazakh Latin (qashan, qaida), hardly ever English; but not
    # alone, where it may be a name ("Qatar"), nor in a word no Kazakh spelling has.
    if len(words) > 1:
        kazakh += sum(QAZAQ.fullmatch(w) is not None for w in words if w not in KAZAKH_WORDS_LATIN)
    english = sum(w in ENGLISH_WORDS for w in words)
    if kazakh > english:
        return "kk"
    if english > kazakh:
        return "en"
    return None
