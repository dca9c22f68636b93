#!/usr/bin/env python3
"""Tables of scripts/bench.sh classifier|ocr from alternated rounds.

Usage: bench_report.py classifier|ocr OURS_1 THEIRS_1 OURS_2 THEIRS_2 ...  (each a JSON object)
Prints each side's median over the rounds and the median of the rounds' own ratios (each round's two
sides ran minutes apart at most, so its ratio carries less of the machine's drift than a ratio of medians)."""
import json
import statistics
import sys


def rounds_of(arguments):
    objects = [json.loads(a) for a in arguments]
    if not objects or len(objects) % 2:
        sys.exit("bench_report: expected pairs of JSON objects (ours, theirs) per round")
    return objects[0::2], objects[1::2]


def figures(objects, path):
    values = []
    for o in objects:
        for key in path:
            o = o[key]
        values.append(float(o))
    return values


def row(label, ours_rounds, theirs_rounds, path, note, width):
    ours, theirs = figures(ours_rounds, path), figures(theirs_rounds, path)
    ratios = [a / b for a, b in zip(ours, theirs)]
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else ""
    print(f"{label:{width}}{statistics.median(ours):13.2f}{statistics.median(theirs):13.2f}"
          f"{statistics.median(ratios):8.3f}{spread:>11}  {note}")


def classifier(ours, theirs):
    width = 32
    print(f"{'':{width}}{'cargovision':>13}{'torchvision':>13}{'ratio':>8}{'rounds':>11}")
    for label, key, note in (("inference ms/img, batch 1", "infer_ms_per_image_b1", "(goal <= 0.80)"),
                             ("inference ms/img, batch 32", "infer_ms_per_image_b32", "(goal <= 0.80)"),
                             ("training samples/s, batch 8", "train_samples_per_s_b8", "(higher is better)")):
        row(label, ours, theirs, [key], note, width)
    per_image = [o["infer_ms_per_image_b32"] / o["infer_ms_per_image_b1"] for o in ours]
    spread = f"{min(per_image):.2f}-{max(per_image):.2f}" if len(per_image) > 1 else ""
    print(f"{'batch 32 / batch 1, per image':{width}}{statistics.median(o['infer_ms_per_image_b32'] for o in ours):13.2f}"
          f"{statistics.median(o['infer_ms_per_image_b1'] for o in ours):13.2f}{statistics.median(per_image):8.3f}"
          f"{spread:>11}  (goal <= 1.00: batching pays)")
    overhead = statistics.median(o["test_overhead_ratio"] for o in ours)
    print(f"{'test on a folder, ms/img':{width}}{statistics.median(o['test_total_ms_per_image'] for o in ours):13.2f}"
          f"{'model alone':>13}{overhead:8.3f}{'':>11}  (goal <= 1.10; model alone "
          f"{statistics.median(o['test_model_ms_per_image'] for o in ours):.2f} ms)")


def ocr(ours, theirs):
    width = 52
    # Goals (issue 15) for the seed's recognizer; the CRNN rows are reported.
    goals = {"TPS-ResNet-BiLSTM-Attn": ("(goal <= 0.60)", "(goal <= 0.60)", "(goal >= 1.50)")}
    rows = [("inference ms/img, batch 1", "infer_ms_per_image_b1"),
            ("inference ms/img, batch 64", "infer_ms_per_image_b64"),
            ("training samples/s, batch 64", "train_samples_per_s_b64")]
    print(f"{'':{width}}{'cargovision':>13}{'PyTorch':>13}{'ratio':>8}{'rounds':>11}")
    for model in ("TPS-ResNet-BiLSTM-Attn", "None-VGG-BiLSTM-CTC"):
        notes = goals.get(model, ("(lower is better)", "(lower is better)", "(higher is better)"))
        for (label, key), note in zip(rows, notes):
            row(f"{model}, {label}", ours, theirs, [model, key], note, width)


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("classifier", "ocr"):
        sys.exit(__doc__)
    ours, theirs = rounds_of(sys.argv[2:])
    {"classifier": classifier, "ocr": ocr}[sys.argv[1]](ours, theirs)


if __name__ == "__main__":
    main()
