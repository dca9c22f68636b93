"""python-lmdb side of the LMDB interoperability test, in the original tool's format.

usage: lmdb_reference.py write OUTPUT_LMDB IMAGE LABEL [IMAGE LABEL ...]
           writes as create_lmdb_dataset.py does (image-%09d, label-%09d from 1, num-samples)
       lmdb_reference.py read LMDB
           prints num-samples, then one line per sample: label<TAB>byte count of the image
"""
import sys

import lmdb


def write(path, pairs):
    env = lmdb.open(path, map_size=1 << 26)
    with env.begin(write=True) as txn:
        for i, (image, label) in enumerate(pairs, start=1):
            with open(image, "rb") as f:
                txn.put(b"image-%09d" % i, f.read())
            txn.put(b"label-%09d" % i, label.encode("utf-8"))
        txn.put(b"num-samples", str(len(pairs)).encode())


def read(path):
    env = lmdb.open(path, max_readers=32, readonly=True, lock=False, readahead=False, meminit=False)
    with env.begin(write=False) as txn:
        n = int(txn.get(b"num-samples"))
        print(n)
        for i in range(1, n + 1):
            label = txn.get(b"label-%09d" % i).decode("utf-8")
            image = txn.get(b"image-%09d" % i)
            print(f"{label}\t{len(image)}")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        args = sys.argv[3:]
        write(sys.argv[2], list(zip(args[0::2], args[1::2])))
    else:
        read(sys.argv[2])
