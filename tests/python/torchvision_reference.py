"""Writes torchvision reference data for the C++ parity tests (run by Debian's /usr/bin/python3).

For every backbone: <arch>_keys.tsv (state-dict key, shape). For three small ones: <arch>.pt, the
state dict of a seeded model with randomised BatchNorm statistics (saved the default way,
torch.save(model.state_dict()): an OrderedDict in the zip format), and
<arch>_io.pt, a fixed input and torchvision's eval-mode output on it.
"""
import sys

import torch
import torchvision

ALL = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "mobilenet_v2", "efficientnet_b0"]
WITH_OUTPUTS = ["resnet18", "mobilenet_v2", "efficientnet_b0"]


def main(out_dir):
    for arch in ALL:
        model = getattr(torchvision.models, arch)()
        with open(f"{out_dir}/{arch}_keys.tsv", "w") as f:
            for key, value in model.state_dict().items():
                f.write(f"{key}\t{'x'.join(str(d) for d in value.shape)}\n")
    for arch in WITH_OUTPUTS:
        torch.manual_seed(1)
        model = getattr(torchvision.models, arch)().eval()
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.running_mean.uniform_(-0.1, 0.1)
                    module.running_var.uniform_(0.5, 1.5)
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.1, 0.1)
            x = torch.randn(2, 3, 96, 96)
            y = model(x)
        torch.save(model.state_dict(), f"{out_dir}/{arch}.pt")  # the default way: an OrderedDict, zip format
        torch.save({"input": x, "output": y}, f"{out_dir}/{arch}_io.pt")


if __name__ == "__main__":
    main(sys.argv[1])
