"""`data import` of the app's own export: detection, the per-participant split, contexts made of
the participant's own answers, and what is dropped and counted (skips, ties, repeats)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from train.cli_data import data
from train.data.importers import ImportConfig, detect_format, read_records
from train.data.schema import DatasetError, load_dataset, validate_preference_row
from train.data.study_import import build_study, parse_study, pseudonym

PAIRS = [(f"p{i}", f"Question {i}?", f"Short {i}.", f"A much longer answer number {i}.")
         for i in range(8)]


def export_row(pid: str, pair: tuple, choice: str, session: str = "s1", order: str = "AB",
               flags: list[str] | None = None, repeat: bool = False) -> dict:
    """A row as app.export writes it (the columns the importer reads, plus a few others)."""
    pair_id, prompt, x, y = pair
    a, b = (x, y) if order == "AB" else (y, x)
    chosen, rejected = {"A": (a, b), "B": (b, a)}.get(choice, (None, None))
    return {"participant_id": pid, "study_id": "S1", "session": session, "mode": "fixed",
            "pair_id": pair_id + ("#repeat" if repeat else ""), "position": 0, "prompt": prompt,
            "response_a": a, "response_b": b, "shown_order": order, "choice": choice,
            "chosen": chosen, "rejected": rejected, "seconds": 4.0,
            "session_flags": flags or []}


def study_rows() -> list[dict]:
    rows = []
    for u in range(4):  # u even prefers the short answer, odd the long one; sides vary
        for i, pair in enumerate(PAIRS):
            order = "AB" if (u + i) % 2 else "BA"
            short_side = "A" if order == "AB" else "B"
            choice = short_side if u % 2 == 0 else {"A": "B", "B": "A"}[short_side]
            rows.append(export_row(f"PID{u}", pair, choice, session=f"s{u}", order=order))
        rows.append(export_row(f"PID{u}", PAIRS[0], "tie" if u == 3 else rows[-8]["choice"],
                               session=f"s{u}", repeat=True, order=rows[-8]["shown_order"]))
    rows.append(export_row("PID0", PAIRS[1], "tie", session="s0b"))  # another session: a tie
    rows.append(export_row("PID0", PAIRS[2], "A", session="s0b"))  # answered again: dropped
    rows += [export_row("SKIPPER", p, "skip", session="s9", flags=["all_skips"]) for p in PAIRS]
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_detects_the_app_exports_and_leaves_other_formats_alone(tmp_path):
    labels = write_jsonl(tmp_path / "labels.jsonl", study_rows())
    trl = write_jsonl(tmp_path / "trl.jsonl", [{"prompt": "Q", "chosen": "x", "rejected": "y",
                                                 "user_id": "P", "context": []}])
    generic = write_jsonl(tmp_path / "rows.jsonl", [{"user": "u", "prompt": "Q", "chosen": "x",
                                                     "rejected": "y"}])
    hh = Path(__file__).parents[1] / "fixtures" / "data" / "hh_relabeled.jsonl"
    found = [detect_format(read_records(p)) for p in (labels, trl, generic, hh)]
    assert found == ["study", "study", "jsonl", "hh-relabeled"]


def test_each_participant_is_a_user_whose_own_answers_are_the_context():
    answers, skipped = parse_study(enumerate(study_rows()))
    built = build_study(answers, ImportConfig(format="study", test_fraction=0.25, min_context=1))
    train, test = built.splits["train"], built.splits["test"]
    survey = {s["id"]: s for s in built.splits["survey"]}
    counts = built.card["import_counts"]
    assert skipped == 0 and counts == {
        "export_rows": 46, "participants": 5, "skips": 8, "ties": 1, "attention_repeats": 4,
        "attention_agree": 3, "attention_disagree": 1, "attention_unjudged": 0,
        "repeated_answers": 1, "flagged_sessions_dropped": 0,
        "answers_in_flagged_sessions_dropped": 0, "participants_too_few_answers": 1,
        "ab_answers_used": 32}
    users = {pseudonym(f"PID{u}") for u in range(4)}
    assert built.card["user_types"] == sorted(users)
    for user in users:  # 8 answers each: 2 held out, 6 to train on
        assert sum(r["user"] == user for r in test) == 2
        assert sum(r["user"] == user for r in train) == 6
    held = {(r["user"], r["prompt"]) for r in test}
    for row in train + test:
        validate_preference_row(row)
        short = row["chosen"].startswith("Short")
        assert short == (row["user"] in {pseudonym("PID0"), pseudonym("PID2")})
        for item in row["context"]:
            pair = survey[item["id"]]
            chosen = pair["a"] if item["chosen"] == "a" else pair["b"]
            assert chosen.startswith("Short") == short  # the user's own answer
            assert pair["prompt"] != row["prompt"]  # never the row's own pair
            assert (row["user"], pair["prompt"]) not in held  # a held-out answer: in no context
    assert all(r["controversial"] for r in train + test)  # both kinds answered every pair


def test_exclude_flagged_sessions_and_too_few_answers():
    answers, _ = parse_study(enumerate(study_rows()))
    built = build_study(answers, ImportConfig(format="study"), exclude_flagged=True)
    counts = built.card["import_counts"]
    assert (counts["flagged_sessions_dropped"], counts["answers_in_flagged_sessions_dropped"],
            counts["skips"], counts["participants_too_few_answers"]) == (1, 8, 0, 0)
    only_skips = [export_row("P", p, "skip") for p in PAIRS]
    with pytest.raises(DatasetError, match="no participant has 2 or more A/B answers"):
        build_study(parse_study(enumerate(only_skips))[0], ImportConfig(format="study"))


def test_bad_rows_name_their_line(tmp_path):
    rows = study_rows()
    rows[3]["choice"] = "maybe"
    path = write_jsonl(tmp_path / "labels.jsonl", rows)
    with pytest.raises(DatasetError, match=r"labels.jsonl:4: column 'choice' must be one of"):
        parse_study(read_records(path))
    assert parse_study(read_records(path), skip_bad=True)[1] == 1


def test_cli_imports_the_csv_and_trl_exports_unchanged(tmp_path):
    rows = study_rows()
    path = tmp_path / "labels.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # as app.export writes it
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "session_flags": ";".join(r["session_flags"])} for r in rows)
    result = CliRunner().invoke(data, ["import", str(path), "--out", str(tmp_path / "ds"),
                                       "--test-fraction", "0.25", "--exclude-flagged"])
    assert result.exit_code == 0, result.output
    assert "Detected format: study" in result.output and "8 answers in 1 flagged" in result.output
    card = load_dataset(tmp_path / "ds").card
    assert card["counts"]["train"] + card["counts"]["test"] == 32
    trl = [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"],
            "user_id": r["participant_id"], "context": []}
           for r in rows if r["choice"] in ("A", "B") and not r["pair_id"].endswith("#repeat")]
    result = CliRunner().invoke(data, ["import", str(write_jsonl(tmp_path / "trl.jsonl", trl)),
                                       "--format", "study", "--out", str(tmp_path / "trl")])
    assert result.exit_code == 0, result.output
    assert load_dataset(tmp_path / "trl").card["import_counts"]["participants"] == 4


def test_a_folder_the_admin_export_wrote_imports_its_labels_only(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    write_jsonl(folder / "labels.jsonl", study_rows())
    write_jsonl(folder / "rankings.jsonl", [{"prompt": "Hi", "candidates": ["a", "b"]}])
    write_jsonl(folder / "trl.jsonl", [{"prompt": "Q", "chosen": "x", "rejected": "y",
                                        "user_id": "PID0", "context": []}])
    result = CliRunner().invoke(data, ["import", str(folder), "--out", str(tmp_path / "ds")])
    assert result.exit_code == 0, result.output
    assert load_dataset(tmp_path / "ds").card["import_counts"]["export_rows"] == 46
