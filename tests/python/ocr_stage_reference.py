#!/usr/bin/env python3
"""Stage outputs of the recognizer in plain PyTorch, as the original computes them
(scripts/bench_ocr_model.py), for the weights and input the C++ parity test wrote. The reference of
tests/unit/test_ocr_model.cpp's OcrParity test. Needs Debian's python3-torch only.

    ocr_stage_reference.py WEIGHTS.pth INPUT.pth STAGES OUTPUT_CHANNEL HIDDEN OUTPUT.pth

STAGES is e.g. TPS-ResNet-BiLSTM-Attn; OUTPUT.pth gets a dict of tensors: transformation (the
rectified input), features (the ConvNet's map), contextual (after SequenceModeling) and prediction
(CTC logits, or the attention decoder's 26 greedy steps)."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import bench_ocr_model as reference  # noqa: E402


def main():
    weights, inputs, stages, output_channel, hidden, output = sys.argv[1:7]
    stages = tuple(stages.split("-"))
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in torch.load(weights).items()}
    head = state["Prediction.generator.weight" if stages[3] == "Attn" else "Prediction.weight"]
    model = reference.Model(stages, head.size(0), 1, int(output_channel), int(hidden), 32, 100)
    model.load_state_dict(state, strict=True)
    model.eval()
    x = torch.load(inputs)["input"]
    with torch.no_grad():
        rectified = model.Transformation(x) if model.Transformation is not None else x
        features = model.FeatureExtraction(rectified)
        pooled = model.AdaptiveAvgPool(features.permute(0, 3, 1, 2)).squeeze(3)
        contextual = model.SequenceModeling(pooled)
        if stages[3] == "CTC":
            prediction = model.Prediction(contextual.contiguous())
        else:
            prediction = model.Prediction(contextual.contiguous(), None, False, 26)
    torch.save({"transformation": rectified, "features": features, "contextual": contextual,
                "prediction": prediction}, output)


if __name__ == "__main__":
    main()
