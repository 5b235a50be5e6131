"""Turn raw model output into candidate texts (and say why each rejected piece was rejected), or into one of
a set of choices."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

_PREAMBLE = re.compile(
    r"^\s*(sure|certainly|of course|okay|ok|here (is|are)|below (is|are))\b[^\n]*?[:!.]\s*$", re.IGNORECASE
)
_NUMBERING = re.compile(r"^\s*(?:\(?\d{1,3}[.):]|[-*\u2022])\s+")
_LEAD_LABEL = re.compile(r"^\s*(?:[A-Z][\w ]{0,30}\s*\d*)\s*:\s+(?=\S)")
_REFUSAL = re.compile(
    r"\b(i'?m sorry|i am sorry|i cannot|i can'?t (help|assist|write|provide|create)|as an ai|"
    r"i'?m (just )?an ai|i am (just )?an ai|language model|i'?m unable to|i am unable to)\b",
    re.IGNORECASE,
)
_COMMENTARY = re.compile(  # where the model starts talking about the text it wrote
    r"(?<=[.!?\"'\u201d])\s+(?=(?:"
    r"in this (?:sentence|review|text|example|message|tweet|article|question)\b"
    r"|this (?:sentence|review|text|example|message|tweet|article|question) "
    r"(?:is|uses|has|shows|expresses|conveys|captures|highlights|describes)\b"
    r"|i(?: have|'ve)? (?:replaced|written|wrote|used|included|added|created)\b"
    r"|(?:note|explanation|label|sentiment|category)\s*:))",
    re.IGNORECASE,
)
_PART_TAG = re.compile(  # "Sentence 2: " at the start of the text or of one of its sentences
    r"(?:^|(?<=[.!?]))\s*(?:sentence|tweet|review|text)\s*\d{1,2}\s*:\s+", re.IGNORECASE)
_META = re.compile(  # the model talking about the task, or to the user, instead of writing the text
    r"^\W*an? (?:\w+ ){0,2}(?:review|sentence|text|phrase)s?\b"  # a text named, not written: "A negative review ..."
    r"|^\W*(?:this|these|the) (?:\w+ )?(?:passage|sentence|text|review|example)s? (?:contains?|conveys?|are|is"
    r"|shares?|has|have|should|must|describes?|shows?|highlights?)\b"  # or talked about: "These sentences convey"
    r"|\b(?:your (?:entire |whole )?(?:answer|response|request|prompt)|here(?:'|\u2019)?s (?:a|an|the|my) "
    r"(?:possible|revised|sample|new|rewritten|short)\b|i(?:'|\u2019)?d (?:love|be happy) to|hope (?:this|that) helps"
    r"|feel free to (?:ask|modify|adjust|let)|as requested|the (?:original|given) (?:sentence|text|prompt)"
    r"|my responses?|your feedback|help you get started|here are (?:some|a few) (?:tips|ideas|examples|suggestions)"
    r"|fits? this description|share a common thread"
    r"|\byou(?:(?:'|\u2019)?re| are) an ai\b"  # the system prompt's persona: "You are an AI assistant ..."
    r"|\bi(?:(?:'|\u2019)?m| am) an? (?:[\w-]+ ){1,3}ai (?:assistant|model)\b"  # "I'm a helpful AI assistant"
    r"|(?:this|a|an) (?:\w+ ){0,2}(?:article|review|tweet|text|story) (?:is about|featuring|features|with the label"
    r"|has the attributes?)|ha(?:s|ve) the attributes? of|with the label ['\"\u201c])",  # a text described, not written
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\[[A-Za-z][A-Za-z ]{0,30}\]")  # "[Your Title]", "[genre]": a template, not a text
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_QUOTES = "\"'\u201c\u201d\u2018\u2019`"
_NON_WORD = re.compile(r"[\W_]+")


def _digest(text: str) -> int:
    """A 64-bit hash of `text`: the duplicate check keeps these, not the texts, so memory stays small."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def normalise(text: str) -> str:
    """Lower-case the text and drop punctuation and spacing: the key for near-duplicate checks."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def sentence_keys(text: str, min_words: int = 1) -> set[str]:
    """The normalised sentences of `text` (each line split at sentence ends) of at least `min_words` words."""
    keys = {normalise(sentence) for line in text.splitlines() for sentence in _SENTENCE_END.split(line)}
    return {key for key in keys if len(key.split()) >= min_words}


def split_candidates(output: str, expected: int, instructions: frozenset[str] = frozenset()) -> list[str]:
    """Split one completion into candidate texts: numbered or bulleted items, else lines, else the whole.
    A sentence that repeats one of `instructions` (normalised sentences of the prompt) is cut out."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    while lines and (_PREAMBLE.match(lines[0]) or (len(lines) > 1 and lines[0].rstrip().endswith(":"))):
        lines.pop(0)  # "Sure, here it is:", "Here are some tips to help you get started:"
    if expected > 1 or any(_NUMBERING.match(line) for line in lines):
        items: list[str] = []
        for line in lines:
            if _NUMBERING.match(line) or not items:
                items.append(_NUMBERING.sub("", line, count=1))
            else:
                items[-1] += " " + line.strip()
        return [clean(item, instructions) for item in items]
    return [clean(" ".join(lines), instructions)]


def clean(text: str, instructions: frozenset[str] = frozenset()) -> str:
    """Strip a leading 'Movie review:'-style tag, 'Sentence 2:'-style part tags, the model's commentary after
    the text ("In this sentence, I have ...", "Note: ..."), sentences it repeated or took from `instructions`
    ("Reply with the movie review only."), surrounding quotes and spacing."""
    text = _LEAD_LABEL.sub("", text.strip(), count=1).strip()
    text = _COMMENTARY.split(text, maxsplit=1)[0].strip()
    text = _PART_TAG.sub(" ", text).strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return re.sub(r"\s+", " ", _without_repeats(text, instructions))


def _without_repeats(text: str, instructions: frozenset[str]) -> str:
    """`text` without the sentences that repeat an earlier one of it or one of `instructions` (up to case and
    punctuation)."""
    kept, seen = [], set(instructions)
    for sentence in _SENTENCE_END.split(text):
        key = normalise(sentence)
        if key not in seen:
            kept.append(sentence)
            seen.add(key)
    return " ".join(kept)


REPETITIVE_MIN_WORDS = 10
REPETITIVE_DISTINCT_SHARE = 0.4
LOOP_WINDOW = 16  # words
LOOP_DISTINCT_SHARE = 0.5
PHRASE_WORDS, PHRASE_REPEATS = 4, 3


def _repetitive(key: str) -> bool:
    """Whether a normalised text is a loop: of 10 words or more with under 40 % of them distinct ("ok, ok, ok,
    ..."); or ending in one, some 16 words in a row of which under half are distinct ("... funny, funny,
    funny"); or saying the same 4 words 3 times ("a classic trope they despise ... a classic trope they
    despise ..."). Of the 154,674 texts of the seven real train splits in ../shared/data, 51 are flagged
    (0.03 %)."""
    words = key.split()
    if len(words) >= REPETITIVE_MIN_WORDS and len(set(words)) < REPETITIVE_DISTINCT_SHARE * len(words):
        return True
    windows = (words[i : i + LOOP_WINDOW] for i in range(len(words) - LOOP_WINDOW + 1))
    if any(len(set(window)) < LOOP_DISTINCT_SHARE * LOOP_WINDOW for window in windows):
        return True
    phrases = Counter(tuple(words[i : i + PHRASE_WORDS]) for i in range(len(words) - PHRASE_WORDS + 1))
    return bool(phrases) and max(phrases.values()) >= PHRASE_REPEATS


ECHO_OPENING_WORDS, ECHO_RUN_WORDS = 3, 5


def echoes(key: str, source: str) -> bool:
    """Whether a normalised text opens with the first 3 words of a normalised `source` (a hypothesis it was asked
    to fit) or shares a run of 5 words with it: the model restating its brief instead of writing the text."""
    words, told = key.split(), source.split()
    if len(told) >= ECHO_OPENING_WORDS and words[:ECHO_OPENING_WORDS] == told[:ECHO_OPENING_WORDS]:
        return True
    runs = {tuple(told[i : i + ECHO_RUN_WORDS]) for i in range(len(told) - ECHO_RUN_WORDS + 1)}
    return any(tuple(words[i : i + ECHO_RUN_WORDS]) in runs for i in range(len(words) - ECHO_RUN_WORDS + 1))


@dataclass
class CandidateFilter:
    """Accepts candidate texts and counts every rejection by reason; remembers hashes of accepted texts."""

    min_words: int = 3
    dropped: Counter[str] = field(default_factory=Counter)
    _seen_exact: set[int] = field(default_factory=set)
    _seen_normal: set[int] = field(default_factory=set)

    def reason_to_drop(self, text: str, prompt_texts: list[str], hypothesis: str = "") -> str | None:
        """Why `text` must be dropped, or None to keep it. `prompt_texts` are what the prompt showed, `hypothesis`
        the blind spot it asked the text to fit (targeted prompts)."""
        if not text:
            return "empty"
        if len(text.split()) < self.min_words:
            return "too_short"
        if _REFUSAL.search(text):
            return "refusal"
        if _META.search(text):
            return "meta_text"
        if any(not any(placeholder in p for p in prompt_texts) for placeholder in _PLACEHOLDER.findall(text)):
            return "placeholder"  # unless the examples hold it too ("[NAME]" in anonymised data)
        key = normalise(text)
        if _repetitive(key):
            return "repetitive"
        if any(key == normalise(p) or (len(key) > 20 and key in normalise(p)) for p in prompt_texts):
            return "prompt_echo"
        if hypothesis and echoes(key, normalise(hypothesis)):
            return "hypothesis_echo"
        if _digest(text) in self._seen_exact:
            return "duplicate"
        if _digest(key) in self._seen_normal:
            return "near_duplicate"
        return None

    def accept(self, text: str, prompt_texts: list[str], hypothesis: str = "") -> bool:
        """Keep `text` (and remember it) or count why it was dropped."""
        reason = self.reason_to_drop(text, prompt_texts, hypothesis)
        if reason is not None:
            self.dropped[reason] += 1
            return False
        self.remember(text)
        return True

    def remember(self, text: str) -> None:
        """Treat `text` as already present (e.g. a seed example) so copies of it are dropped."""
        self._seen_exact.add(_digest(text))
        self._seen_normal.add(_digest(normalise(text)))


_CHOICE_WORD = re.compile(r"[\w/&'-]+(?: [\w/&'-]+)*")


def _plain(text: str) -> str:
    return " ".join(_CHOICE_WORD.findall(text.lower().replace("_", " ")))


def parse_choice(answer: str, choices: Sequence[str]) -> str | None:
    """The choice the answer gives: the whole answer, else the choice named earliest in it (longer names
    first where two start at the same place), ignoring case, punctuation and underscores; None when it names
    none."""
    text = _plain(answer)
    by_lower = {_plain(choice): choice for choice in choices}
    if text in by_lower:
        return by_lower[text]
    found = []
    for lower, choice in by_lower.items():
        match = re.search(rf"(?<![\w]){re.escape(lower)}(?![\w])", text)
        if match:
            found.append((match.start(), -len(lower), choice))
    return min(found)[2] if found else None
