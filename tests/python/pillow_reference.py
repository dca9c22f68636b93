"""Pillow reference for the OCR crop preparation: grey conversion and bicubic resizes.

usage: pillow_reference.py INPUT.png OUTPUT_DIR W1xH1 [W2xH2 ...]
Writes OUTPUT_DIR/grey.raw (convert("L")), and per size grey_WxH.raw and rgb_WxH.raw, raw 8-bit bytes.
"""
import os
import sys

from PIL import Image


def main():
    source, out = sys.argv[1], sys.argv[2]
    rgb = Image.open(source).convert("RGB")
    grey = rgb.convert("L")
    with open(os.path.join(out, "grey.raw"), "wb") as f:
        f.write(grey.tobytes())
    for size in sys.argv[3:]:
        w, h = (int(v) for v in size.split("x"))
        with open(os.path.join(out, f"grey_{w}x{h}.raw"), "wb") as f:
            f.write(grey.resize((w, h), Image.BICUBIC).tobytes())
        with open(os.path.join(out, f"rgb_{w}x{h}.raw"), "wb") as f:
            f.write(rgb.resize((w, h), Image.BICUBIC).tobytes())


if __name__ == "__main__":
    main()
