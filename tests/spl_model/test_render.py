"""spl_model.render's cut by hand: ``keep_response`` with a tokenizer of one token per word, so
every kept span can be counted (the MiniLM cases are in tests/train/test_backbones.py)."""

from __future__ import annotations

import pytest

from spl_fixtures import WordTokenizer
from spl_model.render import check_texts, keep_response, render


WORDS = WordTokenizer()
PROMPT = " ".join(f"p{i}" for i in range(20))  # 20 tokens, after "Human:"


def _count(text: str) -> int:
    return len(WORDS(text, add_special_tokens=False)["input_ids"])


def test_a_text_that_fits_is_returned_whole() -> None:
    text = render(PROMPT, "r0 r1")  # 1 + 20 + 1 + 2 = 24 tokens
    assert keep_response(WORDS, text, 24) is text


@pytest.mark.parametrize(("budget", "expected"), [
    # room 20, response 5 tokens ("Assistant:" + 4): the prompt keeps 20 - 5 - 1 (the cut
    # mark) = 14 tokens, a quarter (3: "Human:", p0, p1) before the cut, 11 after it
    (20, "Human: p0 p1 ... p9 p10 p11 p12 p13 p14 p15 p16 p17 p18 p19\n\nAssistant: r0 r1 r2 r3"),
    # room 12: 6 prompt tokens, 1 before the cut, 5 after
    (12, "Human: ... p15 p16 p17 p18 p19\n\nAssistant: r0 r1 r2 r3"),
    # room 8: 2 prompt tokens, none before the cut (no mark then), 2 after
    (8, "p18 p19\n\nAssistant: r0 r1 r2 r3"),
])
def test_the_prompt_gives_way_from_its_middle(budget: int, expected: str) -> None:
    text = render(PROMPT, "r0 r1 r2 r3")
    got = keep_response(WORDS, text, budget)
    assert got == expected
    assert _count(got) <= budget


def test_a_response_over_three_quarters_of_the_budget_keeps_its_start() -> None:
    """31 response tokens > 20 - 20 // 4: the prompt's last 5 tokens, then the response's
    first 14 after its marker (5 + 1 + 14 = 20)."""
    text = render(PROMPT, " ".join(f"r{i}" for i in range(30)))
    got = keep_response(WORDS, text, 20)
    assert got == ("p15 p16 p17 p18 p19\n\nAssistant: "
                   + " ".join(f"r{i}" for i in range(14)))
    # a response of exactly 3/4 of the budget (15 of 20 with its marker) is still kept whole,
    # and the prompt keeps 20 - 15 - 1 = 4 tokens: 1 before the cut, 3 after
    response = " ".join(f"r{i}" for i in range(14))
    assert keep_response(WORDS, render(PROMPT, response), 20) == \
        "Human: ... p17 p18 p19\n\nAssistant: " + response


def test_a_text_without_the_marker_keeps_its_start() -> None:
    text = " ".join(f"w{i}" for i in range(30))
    assert keep_response(WORDS, text, 10) == "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9"
    # the marker at the very start is no prompt to cut either
    marked = "\n\nAssistant: " + text
    assert keep_response(WORDS, marked, 5) == "\n\nAssistant: w0 w1 w2 w3"


def test_a_longer_text_than_any_cut_can_fix_falls_back_to_its_start() -> None:
    """A tokenizer that counts every candidate as too long: after every slack, the start."""

    class Stubborn(WordTokenizer):
        def __call__(self, text: str, **kwargs) -> dict:
            out = super().__call__(text, **kwargs)
            if not kwargs.get("return_offsets_mapping") and text.strip() != "...":  # a count
                out["input_ids"] = list(range(10_000))
            return out

    text = render(PROMPT, "r0 r1 r2 r3")
    assert keep_response(Stubborn(), text, 6) == "Human: p0 p1 p2 p3 p4"


def test_check_texts_names_the_bad_text() -> None:
    check_texts(["a", "b"])
    check_texts(("a",))
    with pytest.raises(ValueError, match="list of strings, got str"):
        check_texts("a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="list of strings, got NoneType"):
        check_texts(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text 1 is empty"):
        check_texts(["a", "  "])
    with pytest.raises(ValueError, match="text 0 is empty or not a string"):
        check_texts([3])  # type: ignore[list-item]


class DotsCountTwice(WordTokenizer):
    """Counts the cut mark as one token alone but two inside a text, so a first cut comes out
    one token over the budget and keep_response must give up some room."""

    def __call__(self, text, add_special_tokens=True, return_offsets_mapping=False, verbose=True):
        out = super().__call__(text, add_special_tokens, return_offsets_mapping, verbose)
        if not return_offsets_mapping and isinstance(text, str) and text.strip() != "...":
            out["input_ids"] = out["input_ids"] + [0] * text.count(" ... ")
        return out


@pytest.mark.parametrize(("n_prompt", "budget", "head", "tail"), [
    (20, 20, 2, 10),  # room 20 is one over; room 19 (slack steps of 1 below 32): 3 + 10 kept
    (40, 32, 5, 18),  # room 32 is one over; room 30 (steps of 32 // 16 = 2): 6 + 18 kept
])
def test_a_cut_that_comes_out_too_long_gives_up_room_in_steps_of_a_sixteenth(
        n_prompt: int, budget: int, head: int, tail: int) -> None:
    prompt = " ".join(f"p{i}" for i in range(n_prompt))
    got = keep_response(DotsCountTwice(), render(prompt, "r0 r1 r2 r3"), budget)
    kept = " ".join(f"p{i}" for i in range(head)) + " ... " + " ".join(
        f"p{i}" for i in range(n_prompt - tail, n_prompt))
    assert got == f"Human: {kept}\n\nAssistant: r0 r1 r2 r3"


def test_a_response_just_over_three_quarters_keeps_its_start() -> None:
    """16 response tokens (15 words and the marker) > 20 - 20 // 4: the long-response cut."""
    response = " ".join(f"r{i}" for i in range(15))
    got = keep_response(WORDS, render(PROMPT, response), 20)
    assert got == "p15 p16 p17 p18 p19\n\nAssistant: " + " ".join(f"r{i}" for i in range(14))


def test_a_budget_of_two_keeps_the_marker_and_a_one_word_response() -> None:
    """No room for a prompt token (2 - 2 - 1 < 0 is 0 kept): the response from its marker."""
    assert keep_response(WORDS, render(PROMPT, "r0"), 2) == "\n\nAssistant: r0"
