"""Turning one piece of advice into responses that differ along four visible attributes.

Content (per prompt: three tips with a reason each, an example and a caution) is data: the text
files ``train/data/topics/{home,life,work}.txt`` (read with ``importlib.resources``), each a
series of topics opened by a ``[topic name]`` line (``read_topics``), each topic a series of
entries separated by a blank line, in a small line format parsed here (``parse_topic``)::

    [cooking]
    Q: How do I keep rice from turning mushy?
    - Rinse the rice until the water runs clear. | This washes off the loose starch.
    - ... (three tips: "imperative sentence. | Reason sentence.")
    E: For example, ...
    C: Keep the lid on while it simmers, or the bottom can scorch.

Attributes take values in {-1, +1}; +1 is the first word of each name:

- ``concise``: +1 gives two tips in a few lines; -1 gives all three tips, each with its
  reason, plus the worked example.
- ``friendly``: +1 opens and closes warmly and casually; -1 opens formally, with no sign-off.
- ``steps``: +1 is a numbered list; -1 is flowing prose ("First, ... Next, ... Finally, ...").
- ``cautious``: +1 adds the caution; -1 leaves it out and ends confidently.

``render6`` writes the same advice along six independent attributes (``ATTRIBUTES_6``, 64
combinations in ``COMBOS_6``), for the population world:

- ``concise``: +1 gives two tips without their reasons; -1 all three tips, each with its reason.
- ``friendly``: +1 adds a warm opener and a warm sign-off; -1 has neither.
- ``steps``: +1 is a numbered list; -1 is flowing prose.
- ``cautious``: +1 adds the caution; -1 ends confidently instead.
- ``formal``: +1 is the formal register (a formal opening line such as "The recommended approach
  is as follows.", a formal caution prefix and ending, contractions written out); -1 is the plain,
  casual register (no opening line, casual caution prefix and ending).
- ``example``: +1 includes the worked example as its own paragraph; -1 leaves it out.

Every attribute has its own visible mark (third tip, "!" phrases, "1. " lines, the caution, the
formal opening line, the example), so the 64 texts of a prompt are all different. ``render`` (the
four-attribute world) is unchanged.
"""

from __future__ import annotations

import itertools
import re
import zlib
from dataclasses import dataclass
from typing import Mapping, Sequence

from train.data.schema import DatasetError

__all__ = ["ATTRIBUTES", "ATTRIBUTES_6", "Advice", "COMBOS", "COMBOS_6", "parse_topic", "read_topics",
           "render", "render6"]

ATTRIBUTES: tuple[str, ...] = ("concise", "friendly", "steps", "cautious")
# Every attribute vector, in a fixed order: the responses of a prompt are indexed by it.
COMBOS: tuple[tuple[int, ...], ...] = tuple(itertools.product((1, -1), repeat=len(ATTRIBUTES)))
# The population world's six attributes (the four above first) and their 64 vectors.
ATTRIBUTES_6: tuple[str, ...] = ATTRIBUTES + ("formal", "example")
COMBOS_6: tuple[tuple[int, ...], ...] = tuple(itertools.product((1, -1), repeat=len(ATTRIBUTES_6)))

_WARM_OPENERS = (
    "Great question!", "Happy to help with this!", "Oh, good one!", "Sure thing!",
    "Ah, I love this question!", "I can definitely help with that!",
)
_WARM_CLOSERS = (
    "Good luck, you've got this!", "Hope that helps!", "Let me know how it goes!",
    "Hope this makes it easier!", "You'll do great!", "Cheers, and good luck!",
)
_FORMAL_OPENERS_PROSE = (
    "The recommended approach is as follows.", "The standard guidance is as follows.",
    "The following approach is recommended.",
)
_FORMAL_OPENERS_LIST = (
    "The recommended approach is as follows:", "The standard guidance is as follows:",
    "The following steps are recommended:",
)
_WARM_CAUTIONS = ("Just one heads-up:", "One thing to watch out for:", "Quick word of caution:")
_FORMAL_CAUTIONS = ("Please note:", "A word of caution:", "One caveat applies:")
_WARM_DIRECT = ("That's really all there is to it.", "It's simpler than it sounds.",
                "No need to overthink it.")
_FORMAL_DIRECT = ("That is all that is required.", "No further measures are needed.",
                  "This is sufficient in most cases.")
# render6 only: warm phrases without contractions for the formal register.
_WARM_OPENERS_FORMAL = ("Thank you for the question!", "I am happy to help with this!",
                        "I would be glad to help with this!")
_WARM_CLOSERS_FORMAL = ("I hope that helps!", "Best of luck with it!", "I wish you every success!")
_CONTRACTIONS = {
    "don't": "do not", "doesn't": "does not", "didn't": "did not", "isn't": "is not",
    "aren't": "are not", "wasn't": "was not", "can't": "cannot", "won't": "will not",
    "shouldn't": "should not", "wouldn't": "would not", "couldn't": "could not",
    "it's": "it is", "that's": "that is", "there's": "there is", "you're": "you are",
    "you'll": "you will", "you've": "you have", "you'd": "you would", "we're": "we are",
    "they're": "they are", "i'm": "I am", "i'd": "I would", "let's": "let us",
}
_CONTRACTION_RE = re.compile(r"\b(" + "|".join(re.escape(c) for c in _CONTRACTIONS) + r")\b",
                             re.IGNORECASE)
_PROSE_LINKS = ("First,", "Next,", "Finally,")
_OPENING_VERBS = {"Start", "Begin"}
# First words whose capital letter must survive when a sentence continues another.
_KEEP_CASE = {"I", "I'm", "I'd", "I've", "Wi-Fi", "Excel", "Google", "TV", "PIN", "CPR"}


@dataclass(frozen=True)
class Advice:
    """The content of one prompt, independent of how it is phrased."""

    topic: str
    prompt: str
    tips: tuple[tuple[str, str], ...]  # (imperative sentence, reason sentence)
    example: str
    caution: str


def _sentence(text: str, where: str) -> str:
    text = " ".join(text.split())
    if not text or not text[0].isupper() or text[-1] not in ".!?":
        raise DatasetError(f"{where}: expected a sentence with a capital and a full stop, got {text!r}")
    return text


def read_topics(text: str) -> dict[str, str]:
    """Split a topics file into ``{topic: its entries}``, in file order.

    >>> read_topics("[pets]\\nQ: ...\\n\\nQ: ...\\n[travel]\\nQ: ...\\n")
    {'pets': 'Q: ...\\n\\nQ: ...', 'travel': 'Q: ...'}
    """
    topics: dict[str, list[str]] = {}
    lines: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("[") and line.rstrip().endswith("]"):
            lines = topics.setdefault(line.strip()[1:-1], [])
        elif lines is None:
            if line.strip():
                raise DatasetError(f"line {number}: content before the first [topic] line: {line!r}")
        else:
            lines.append(line)
    return {topic: "\n".join(body).strip() for topic, body in topics.items()}


def parse_topic(topic: str, text: str) -> list[Advice]:
    """Parse one topic's content block (format in the module docstring)."""
    out: list[Advice] = []
    for number, block in enumerate(text.strip().split("\n\n"), start=1):
        where = f"topic {topic!r}, entry {number}"
        fields: dict[str, str] = {}
        tips: list[tuple[str, str]] = []
        for line in block.strip().splitlines():
            line = line.strip()
            if line.startswith("- "):
                tip, sep, reason = line[2:].partition(" | ")
                if not sep:
                    raise DatasetError(f"{where}: tip without ' | reason': {line!r}")
                tips.append((_sentence(tip, where), _sentence(reason, where)))
            elif line[:3] in ("Q: ", "E: ", "C: "):
                fields[line[0]] = _sentence(line[3:], where)
            else:
                raise DatasetError(f"{where}: cannot parse line {line!r}")
        if set(fields) != {"Q", "E", "C"} or len(tips) != 3:
            raise DatasetError(f"{where}: needs Q:, E:, C: and exactly three tips")
        out.append(Advice(topic, fields["Q"], tuple(tips), fields["E"], fields["C"]))
    return out


def _continue(sentence: str) -> str:
    """Lower-case the first letter so the sentence can follow a connective."""
    first = sentence.split(" ", 1)[0].rstrip(",.:;")
    if first in _KEEP_CASE or (len(first) > 1 and first[1].isupper()):
        return sentence
    return sentence[0].lower() + sentence[1:]


def _pick(options: Sequence[str], key: str) -> str:
    """Choose a phrase deterministically, so the same response always reads the same."""
    return options[zlib.crc32(key.encode("utf-8")) % len(options)]


def _body(advice: Advice, concise: bool, steps: bool) -> str:
    tips = advice.tips[:2] if concise else advice.tips
    if steps:
        lines = [tip if concise else f"{tip} {reason}" for tip, reason in tips]
        return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1))
    if concise:
        (first, _), (second, _) = tips
        return f"{first[:-1]}, and {_continue(second)}"
    links = _PROSE_LINKS if len(tips) == 3 else _PROSE_LINKS[:1] + _PROSE_LINKS[2:]
    return " ".join(
        # "First, start by ..." reads badly: a tip that already opens the sequence keeps its verb.
        f"{tip} {reason}" if link == "First," and tip.split(" ", 1)[0] in _OPENING_VERBS
        else f"{link} {_continue(tip)} {reason}"
        for link, (tip, reason) in zip(links, tips)
    )


def render(advice: Advice, attributes: Mapping[str, int] | Sequence[int]) -> str:
    """Write the response to ``advice.prompt`` with the given attribute values (each +1/-1)."""
    values = dict(zip(ATTRIBUTES, attributes)) if not isinstance(attributes, Mapping) else attributes
    concise, friendly = values["concise"] > 0, values["friendly"] > 0
    steps, cautious = values["steps"] > 0, values["cautious"] > 0
    key = advice.prompt + "".join("+" if values[a] > 0 else "-" for a in ATTRIBUTES)
    if friendly:
        opener = _pick(_WARM_OPENERS, key)
    else:
        opener = _pick(_FORMAL_OPENERS_LIST if steps else _FORMAL_OPENERS_PROSE, key)
    if cautious:
        prefix = _pick(_WARM_CAUTIONS if friendly else _FORMAL_CAUTIONS, key)
        ending = [f"{prefix} {_continue(advice.caution)}"]
    else:
        ending = [_pick(_WARM_DIRECT if friendly else _FORMAL_DIRECT, key)]
    if friendly:
        ending.append(_pick(_WARM_CLOSERS, key + "close"))
    body = _body(advice, concise, steps)
    if concise and not steps:
        return " ".join([opener, body, *ending])
    blocks = [opener, body] if steps else [f"{opener} {body}"]
    if not concise:
        blocks.append(advice.example)
    blocks.append(" ".join(ending))
    return "\n\n".join(blocks)


def _uncontract(text: str) -> str:
    """Write out the common contractions ("don't" -> "do not"), keeping a leading capital."""
    def expand(match: re.Match) -> str:
        word = match.group(0)
        full = _CONTRACTIONS[word.lower()]
        return full[0].upper() + full[1:] if word[0].isupper() else full
    return _CONTRACTION_RE.sub(expand, text.replace("\u2019", "'"))


def render6(advice: Advice, attributes: Mapping[str, int] | Sequence[int]) -> str:
    """Write the response to ``advice.prompt`` along the six ``ATTRIBUTES_6`` (each +1/-1)."""
    values = (dict(zip(ATTRIBUTES_6, attributes)) if not isinstance(attributes, Mapping)
              else attributes)
    concise, friendly, steps, cautious, formal, example = (values[a] > 0 for a in ATTRIBUTES_6)
    key = advice.prompt + "".join("+" if values[a] > 0 else "-" for a in ATTRIBUTES_6)
    plain = _uncontract if formal else (lambda text: text)
    head = []
    if friendly:
        head.append(_pick(_WARM_OPENERS_FORMAL if formal else _WARM_OPENERS, key))
    if formal:
        head.append(_pick(_FORMAL_OPENERS_LIST if steps else _FORMAL_OPENERS_PROSE, key + "formal"))
    if cautious:
        prefix = _pick(_FORMAL_CAUTIONS if formal else _WARM_CAUTIONS, key)
        ending = [f"{prefix} {_continue(plain(advice.caution))}"]
    else:
        ending = [_pick(_FORMAL_DIRECT if formal else _WARM_DIRECT, key)]
    if friendly:
        ending.append(_pick(_WARM_CLOSERS_FORMAL if formal else _WARM_CLOSERS, key + "close"))
    if concise:
        tips = [(plain(tip), "") for tip, _ in advice.tips[:2]]
    else:
        tips = [(plain(tip), plain(reason)) for tip, reason in advice.tips]
    body = _body(Advice(advice.topic, advice.prompt, tuple(tips), "", ""), concise, steps)
    if steps:
        blocks = [" ".join(head), body] if head else [body]
    else:
        blocks = [" ".join([*head, body])]
    if example:
        blocks.append(plain(advice.example))
    if concise and not steps and not example:
        return " ".join([*blocks, *ending])
    blocks.append(" ".join(ending))
    return "\n\n".join(blocks)
