"""Simulated study on the shipped demo: participants of the four user types label the demo
pack through the app's handlers (active order, attention check, the real store), and the study
owner's export is written for ``make train-study EXPORT=...`` (issue 15).

Each participant has one type (concise, friendly, steps or cautious) and prefers the side whose
pack attribute for that type is higher, flipping ``--noise`` of the answers; ``--skippers``
more participants skip everything. Prints a JSON summary (counts, flags) and writes
``OUT/labels.jsonl`` (the export, unchanged) and ``OUT/spl.db``.

    python bench/study_loop.py --out runs/sim-study --participants 120
    make train-study EXPORT=runs/sim-study/labels.jsonl STUDY_OUT=runs/sim-study
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--participants", type=int, default=120)
    parser.add_argument("--skippers", type=int, default=4)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from app import handlers as h
    from app.export import export_jsonl, session_quality
    from app.service import Service
    from app.settings import Settings
    from app.store import Store

    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / "spl.db"
    db.unlink(missing_ok=True)
    service = Service.from_folders()
    types = list(service.pack["dataset"].get("attributes") or service.user_types)
    rng = random.Random(args.seed)
    with Store.open(db) as store:
        people = [(f"SIM-{i:03d}", types[i % len(types)]) for i in range(args.participants)]
        people += [(f"SKIP-{i:02d}", "skip") for i in range(args.skippers)]
        for pid, kind in people:
            sid = h.start_session(store, pid, study_id="SIM", mode="active")
            while (pair := h.next_pair(store, service, sid)) is not None:
                if kind == "skip":
                    choice = "skip"
                else:
                    item = service.item(pair["pair_id"])
                    t = types.index(kind)
                    first_better = item["attributes_a"][t] - item["attributes_b"][t]
                    # the pair as shown: a is the item's a unless the sides were swapped
                    shown_a_is_first = pair["a"] == item["a"]
                    prefer_a = (first_better > 0) == shown_a_is_first if first_better else \
                        rng.random() < 0.5
                    if rng.random() < args.noise:
                        prefer_a = not prefer_a
                    choice = "A" if prefer_a else "B"
                h.label(store, service, sid, pair["pair_id"], choice,
                        seconds=rng.uniform(3.0, 12.0))
            h.finish(store, Settings(), sid)
        (args.out / "labels.jsonl").write_text(export_jsonl(store), encoding="utf-8")
        quality = session_quality(store)
    flags: dict[str, int] = {}
    for q in quality:
        for flag in q["flags"]:
            flags[flag] = flags.get(flag, 0) + 1
    print(json.dumps({"participants": len(people), "types": types,
                      "answers": sum(q["n_answers"] for q in quality),
                      "skips": sum(q["n_skips"] for q in quality), "flagged_sessions": flags,
                      "export": str(args.out / "labels.jsonl")}, indent=1))


if __name__ == "__main__":
    main()
