"""Requests for a recommendation: "who should I vote for", "какая партия лучше", "Аманатқа
дауыс берейін бе". The bot treats parties equally, so these always get its neutrality answer,
even when they name a party the matcher would otherwise answer with that party's card.

The patterns read the folded skeleton (bot.search.text), so one pattern covers Cyrillic and
the Latin alphabets: "кімге дауыс" and "kimge daýys" are both "kimge dauis".
"""

from __future__ import annotations

import re

from bot.search.text import folded_words

_VERB_EN = r"(vote|choose|pik|suport|back)"
_PATTERNS = (
    # en
    rf"\buhom?\s+(should|shall|must)\s+(i|ue|one)\s+{_VERB_EN}",
    rf"\buhom?\s+to\s+{_VERB_EN}",
    rf"\buhom?\s+(uould|uill|do|did)\s+(iou|u)\s+{_VERB_EN}",
    rf"\bshould\s+i\s+(vote\s+for|{_VERB_EN}\s+\w)",
    r"\b(uhih|uhat)\s+(parti|kandidat)\w*\s+(is|are|uould\s+be)?\s*(the\s+)?(best|beter|right)",
    r"\b(uhih|uhat)\s+(parti|kandidat)\w*\s+(should|shall|to|do\s+iou)\b",
    r"\bbest\s+(parti|kandidat)",
    r"\brekomend\w*\s+(me\s+)?(a\s+|an\s+|the\s+)?(parti|kandidat|uho)",
    r"\bis\s+\w+(\s+\w+)?\s+(beter|uorse)\s+than\b",
    # ru
    r"\bza\s+kogo\s+(\w+\s+){0,2}(golos|progolos)",
    r"\bkogo\s+(mne\s+|nam\s+|luchshe\s+|nujno\s+|nado\s+|stoit\s+)*(vibrat|viberu|podderj|izbrat)",
    r"\bza\s+kak\w*\s+parti\w*\s+(\w+\s+)?(golos|progolos)",
    r"\bkak\w*\s+(parti|kandidat)\w*\s+(\w+\s+)?(luchsh|vibrat|podderj|golos|horosh|sil)",
    r"\b(posovet|porekomend|sovetu)\w*\s+(mne\s+)?(\w+\s+)?(parti|kandidat|za\s+kogo|kogo)",
    r"\bstoit\s+li\s+(mne\s+)?(pro)?golosovat\s+za\b",
    r"\b(luchsh|samaia\s+luchsh)\w*\s+(parti|kandidat)",
    r"\bkto\s+luchsh",
    # kk
    r"\bkimge\s+dauis\s+ber(emin|ein|eiin|u\b|u\s+kerek|sem|er|esiz|esin|gen\s+dur)",
    r"\bkai\s+(partia|kandidat)\w*\s+dauis\s+ber(ein|eiin|sem|u|emin|gen)",
    r"\bkai\s+(partia|kandidat)\w*\s+(en\s+)?(jaksi|duris|durus|uzdik|mikti|tanda)",
    r"\b(kimdi|kai\s+partiani)\s+tanda",
    r"\b(partia|kandidat)\w*\s+usin",
    r"\bdauis\s+berei?in\s+(be|ba|pe|pa|me|ma)\b",
    r"\bkaisisi\s+(jaksi|duris|durus|mikti)",
    r"\b(sen|siz)\s+kimge\s+dauis",
)
_RECOMMENDATION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))


def asks_recommendation(text: str) -> bool:
    return _RECOMMENDATION.search(" ".join(folded_words(text))) is not None
