"""Baseline for `scripts/bench.sh ocr-data`: the original recognizer's data path in Python (python-lmdb
reads, Pillow decode + convert("L") + bicubic resize to 100x32, ToTensor-style scaling to [-1, 1]) in
batches of 64 from a torch DataLoader with 1 and 2 workers, as the original train.py feeds its model.
Prints one JSON object."""
import argparse
import io
import json
import time

import lmdb
import numpy as np
import torch
from PIL import Image


class LmdbCrops(torch.utils.data.Dataset):
    def __init__(self, root):
        self.root = root
        self.env = None
        env = lmdb.open(root, readonly=True, lock=False, readahead=False, meminit=False)
        with env.begin() as txn:
            self.n = int(txn.get(b"num-samples"))
        env.close()

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        if self.env is None:  # one environment per worker process
            self.env = lmdb.open(self.root, readonly=True, lock=False, readahead=False, meminit=False)
        with self.env.begin() as txn:
            label = txn.get(b"label-%09d" % (index + 1)).decode("utf-8")
            image = Image.open(io.BytesIO(txn.get(b"image-%09d" % (index + 1)))).convert("L")
        return image, label


def collate(batch):
    images, labels = zip(*batch)
    arrays = [np.asarray(im.resize((100, 32), Image.BICUBIC), dtype=np.float32) for im in images]
    tensor = torch.from_numpy(np.stack(arrays)[:, None]).div_(255).sub_(0.5).div_(0.5)
    return tensor, labels


def rate(root, workers, batches):
    loader = torch.utils.data.DataLoader(LmdbCrops(root), batch_size=64, shuffle=True, num_workers=workers,
                                         collate_fn=collate, persistent_workers=True)
    it = iter(loader)
    for _ in range(2):
        next(it)
    start = time.perf_counter()
    done = 0
    while done < batches:
        try:
            next(it)
        except StopIteration:
            it = iter(loader)
            next(it)
        done += 1
    return batches * 64 / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lmdb", required=True)
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(json.dumps({f"samples_per_s_{w}_threads": rate(args.lmdb, w, args.iterations) for w in (1, 2)}))


if __name__ == "__main__":
    main()
