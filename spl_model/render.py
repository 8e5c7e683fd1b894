r"""Text rendering: the one ``(prompt, response)`` text format every backbone embeds, and the cut
that shortens an over-long rendered text while keeping its response.

Pure Python (no torch, no transformers): the demo app renders texts to look up precomputed
embeddings without loading any model.

Example:
    >>> render("Hi", "Hello!")
    'Human: Hi\n\nAssistant: Hello!'
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["Truncate", "check_texts", "keep_response", "render"]

_RESPONSE_MARK = "\n\nAssistant:"  # where render() puts the response (its last occurrence)
_CUT_MARK = " ... "  # stands where the middle of an over-long prompt was cut out
Truncate = Literal["keep-response", "right"]


def render(prompt: str, response: str) -> str:
    """The one text format every backbone embeds (SPL.md section 1).

    Returns ``"Human: {prompt}\\n\\nAssistant: {response}"``. Used for context pairs, targets and
    survey pairs alike, so a text embedded once is found again in the cache. A rendered text
    longer than the backbone's ``max_length`` is shortened by ``Backbone.fit_text`` so that
    the response survives: the prompt is cut in its middle, never the response first.
    """
    if not isinstance(prompt, str) or not isinstance(response, str):
        raise TypeError(
            f"render() takes two strings; got prompt={type(prompt).__name__}, "
            f"response={type(response).__name__}. Convert the dataset columns to text first."
        )
    return f"Human: {prompt}\n\nAssistant: {response}"


def keep_response(tokenizer: Any, text: str, budget: int) -> str:
    """``text`` cut to at most ``budget`` tokens (special tokens not counted) keeping the response.

    ``render()``-ed text (it has the ``"\\n\\nAssistant:"`` marker): the response, from its last
    marker on, is kept whole when it fits in 3/4 of the budget, and the prompt gets the rest:
    its first quarter and its last three quarters of that share, joined by `` ... ``. A longer
    response keeps its start, after the prompt's last ``budget // 4`` tokens. Other text keeps
    its start. Works on any fast tokenizer (it needs the token offsets); the cut is made in the
    text, and the result is re-checked with the tokenizer, so it fits.
    """
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    spans = enc["offset_mapping"]  # [(start, end)] per token
    if len(spans) <= budget:
        return text
    mark = text.rfind(_RESPONSE_MARK)
    if mark <= 0:
        return text[: spans[budget - 1][1]]
    first_response = next((i for i, (_, end) in enumerate(spans) if end > mark), len(spans))
    n_prompt, n_response = first_response, len(spans) - first_response
    cut_cost = len(tokenizer(_CUT_MARK, add_special_tokens=False)["input_ids"])
    for slack in range(0, budget, max(1, budget // 16)):
        room = budget - slack
        if n_response <= room - room // 4:
            share = max(0, room - n_response - cut_cost)  # prompt tokens kept: head + tail
            head = share // 4
            tail = share - head
            rest = text[spans[first_response - tail][0]:] if tail else text[mark:]
            candidate = (text[: spans[head - 1][1]] + _CUT_MARK + rest) if head else rest
        else:
            tail = min(n_prompt, room // 4)
            end = spans[min(len(spans), first_response + room - tail) - 1][1]
            candidate = text[spans[first_response - tail][0] if tail else mark:end]
        if len(tokenizer(candidate, add_special_tokens=False, verbose=False)["input_ids"]) <= budget:
            return candidate
    return text[: spans[budget - 1][1]]


def check_texts(texts: list[str]) -> None:
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise ValueError(f"expected a list of strings, got {type(texts).__name__}.")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(
                f"text {i} is empty or not a string ({text!r}); every text must have content. "
                "Build texts with render(prompt, response)."
            )
