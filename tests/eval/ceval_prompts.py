#!/usr/bin/env python3
"""ceval_prompts.py: C-Eval answer-only few-shot prompts written from DESIGN.md's rule alone, independently of
ft-eval, with Python's csv module (the same text pandas gives for these files, per data/ceval/SOURCE.md).
Output: one JSON line per val question, {"subject", "id", "prompt"}, in mapping.json order, as
ft-eval --dump-prompts writes them. tests/golden/ceval-prompts.jsonl was made by ft-eval and checked by this.

usage: ceval_prompts.py DATA_DIR SUBJECT[,SUBJECT...] [SHOTS]"""
import csv
import json
import sys


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        return list(r)


def block(row, with_answer):
    text = row["question"]
    for letter in "ABCD":
        text += "\n" + letter + ". " + row[letter]
    text += "\n答案："
    if with_answer:
        text += row["answer"] + "\n\n"
    return text


def main():
    data, wanted = sys.argv[1], sys.argv[2].split(",")
    shots = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    with open(data + "/mapping.json", encoding="utf-8") as f:
        mapping = json.load(f)
    out = sys.stdout
    for subject, info in mapping.items():
        if subject not in wanted:
            continue
        prefix = "以下是中国关于" + info["name"] + "考试的单项选择题，请选出其中的正确答案。\n\n"
        for row in rows(f"{data}/dev/{subject}_dev.csv")[:shots]:
            prefix += block(row, True)
        for row in rows(f"{data}/val/{subject}_val.csv"):
            line = {"subject": subject, "id": row["id"], "prompt": prefix + block(row, False)}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
