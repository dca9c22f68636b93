#!/usr/bin/env python3
"""Writes the .pth fixtures of the state-dict reader tests into tests/data/pth/ (committed; re-run only
to change them). Needs Debian's python3-torch. Every value is a small deterministic pattern so the C++
tests can check it element by element; see tests/unit/test_pth_reader.cpp for what each file must give.

    /usr/bin/python3 tests/python/make_pth_fixtures.py tests/data/pth
"""
import collections
import io
import os
import pickle
import pickletools
import struct
import sys
import zipfile

import torch


def pattern(*shape, dtype=torch.float32):
    count = 1
    for s in shape:
        count *= s
    return (torch.arange(count, dtype=torch.float64) * 0.25 - 1.0).reshape(shape).to(dtype)


def small_state_dict():
    sd = collections.OrderedDict()
    sd["conv.weight"] = pattern(2, 1, 3, 3)
    sd["conv.bias"] = pattern(2)
    sd["bn.running_mean"] = pattern(2)
    sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.long)
    sd["fc.weight"] = torch.nn.Parameter(pattern(3, 2))
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("bn", {"version": 2})])
    return sd


def write(directory, name, obj, **kwargs):
    path = os.path.join(directory, name)
    torch.save(obj, path, **kwargs)
    return path


def rewrite_zip(source, target, change):
    """Copies a zip written by torch.save entry by entry (stored, as torch writes), letting `change`
    replace an entry's bytes."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))


def hostile_pickle():
    # GLOBAL posix.system, then REDUCE with ("echo pwned",): what `torch.load` would run.
    return (b"\x80\x02cposix\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.")


def legacy_header(magic=0x1950A86A20F9469CFC6C):
    out = io.BytesIO()
    pickle.dump(magic, out, protocol=2)
    pickle.dump(1001, out, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True,
                 "type_sizes": {"short": 2, "int": 4, "long": 4}}, out, protocol=2)
    return out.getvalue()


def main(directory):
    os.makedirs(directory, exist_ok=True)
    sd = small_state_dict()
    write(directory, "zip_ordereddict.pth", sd)
    write(directory, "zip_dict.pth", dict(sd))
    write(directory, "legacy_ordereddict.pth", sd, _use_new_zipfile_serialization=False)

    ocr = collections.OrderedDict(
        ("module." + k, v) for k, v in [("Prediction.generator.weight", pattern(4, 3)),
                                         ("Prediction.generator.bias", pattern(4))])
    write(directory, "legacy_dataparallel_ocr.pth", ocr, _use_new_zipfile_serialization=False)

    base = pattern(4, 6)
    views = collections.OrderedDict([("whole", base), ("row2", base[2]), ("column3", base[:, 3]),
                                     ("block", base[1:3, 2:5])])
    write(directory, "zip_shared_views.pth", views)
    write(directory, "legacy_shared_views.pth", views, _use_new_zipfile_serialization=False)

    dtypes = collections.OrderedDict([("half", pattern(5, dtype=torch.float16)), ("double", pattern(3, dtype=torch.float64)),
                                      ("long", torch.tensor([-3, 0, 1 << 40])), ("byte", torch.tensor([0, 7, 255], dtype=torch.uint8)),
                                      ("bool", torch.tensor([True, False, True])), ("int", torch.tensor([-5, 9], dtype=torch.int32)),
                                      ("bfloat16", pattern(2, dtype=torch.bfloat16)), ("scalar", torch.tensor(2.5))])
    write(directory, "zip_dtypes.pth", dtypes)
    write(directory, "legacy_dtypes.pth", dtypes, _use_new_zipfile_serialization=False)

    write(directory, "zip_checkpoint_wrapper.pth", {"epoch": 3, "model_state_dict": sd, "optimizer": {"lr": 0.1},
                                                    "note": "wrapper"})
    write(directory, "legacy_checkpoint_wrapper.pth", {"state_dict": sd, "best_acc": 0.5},
          _use_new_zipfile_serialization=False)

    # Hostile and broken files.
    good = os.path.join(directory, "zip_dict.pth")
    rewrite_zip(good, os.path.join(directory, "hostile_zip_os_system.pth"),
                lambda name, data: hostile_pickle() if name.endswith("data.pkl") else data)
    with open(os.path.join(directory, "hostile_legacy_os_system.pth"), "wb") as f:
        f.write(legacy_header() + hostile_pickle())
    with open(good, "rb") as f:
        data = f.read()
    with open(os.path.join(directory, "truncated_zip.pth"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(directory, "legacy_wrong_magic.pth"), "wb") as f:
        f.write(legacy_header(magic=0x1234) + b"\x80\x02}q\x00.")
    rewrite_zip(good, os.path.join(directory, "zip_short_storage.pth"),
                lambda name, data: data[: len(data) // 2] if "/data/0" in name else data)
    with open(os.path.join(directory, "legacy_dataparallel_ocr.pth"), "rb") as f:
        legacy = f.read()
    with open(os.path.join(directory, "legacy_short_storage.pth"), "wb") as f:
        f.write(legacy[:-8])  # the last storage loses two floats
    # A big-endian legacy file: tensors with the header's little_endian flag off and every
    # storage byte-swapped, as a big-endian machine writes it.
    sd_be = collections.OrderedDict([("w", pattern(3, dtype=torch.float64)), ("n", torch.tensor([1, -2], dtype=torch.long))])
    buffer = io.BytesIO()
    torch.save(sd_be, buffer, _use_new_zipfile_serialization=False)
    write_big_endian(buffer.getvalue(), os.path.join(directory, "legacy_big_endian.pth"))
    print("wrote fixtures to", directory, file=sys.stderr)


def skip_pickle(data, position):
    """Offset just past the pickle starting at `position` (without running it)."""
    for opcode, _, offset in pickletools.genops(io.BytesIO(data[position:])):
        if opcode.name == "STOP":
            return position + offset + 1
    raise ValueError("no STOP opcode")


def write_big_endian(little, path):
    position = 0
    for _ in range(3):  # magic, protocol, sys_info
        position = skip_pickle(little, position)
    header_end = position
    keys_start = skip_pickle(little, header_end)
    keys_end = skip_pickle(little, keys_start)
    keys = pickle.loads(little[keys_start:keys_end])
    width = {key: 8 for key in keys}  # both tensors have 8-byte elements (float64, int64)
    position, out = keys_end, bytearray()
    for key in keys:
        (count,) = struct.unpack_from("<q", little, position)
        position += 8
        out += struct.pack(">q", count)
        for i in range(count):
            out += little[position + i * width[key]: position + (i + 1) * width[key]][::-1]
        position += count * width[key]
    header = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, header, protocol=2)
    pickle.dump(1001, header, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": False,
                 "type_sizes": {"short": 2, "int": 4, "long": 4}}, header, protocol=2)
    with open(path, "wb") as f:
        f.write(header.getvalue() + little[header_end:keys_end] + bytes(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "data", "pth"))
