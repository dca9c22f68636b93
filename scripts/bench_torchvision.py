"""torchvision side of scripts/bench.sh: the same measurements as cargovision_bench, printed as JSON."""
import argparse
import json

import torch
import torchvision

from bench_timing import median_seconds


def inference_ms(model, batch, size, iterations):
    x = torch.randn(batch, 3, size, size)
    with torch.inference_mode():
        return 1000.0 * median_seconds(iterations, lambda: model(x)) / batch


def train_samples_per_s(model, batch, size, iterations):
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-5, eps=1e-7)
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, 1000, (batch,))

    def step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    return batch / median_seconds(iterations, step)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="resnet152")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, args.arch)().eval()
    result = {
        "arch": args.arch,
        "threads": torch.get_num_threads(),
        "infer_ms_per_image_b1": inference_ms(model, 1, args.size, args.iterations),
        "infer_ms_per_image_b32": inference_ms(model, 32, args.size, max(3, args.iterations // 3)),
        "train_samples_per_s_b8": train_samples_per_s(model, 8, args.size, max(3, args.iterations // 2)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
