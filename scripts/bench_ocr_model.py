#!/usr/bin/env python3
"""Baseline for `scripts/bench.sh ocr`: the recognizer written in plain PyTorch the way the original
(clovaai/deep-text-recognition-benchmark) computes it, timed on the same shapes and loop as
cargovision_bench. Prints one JSON object. Needs Debian's python3-torch only.

The structure follows ../shared/specs/ocr.md (attribute names, layer lists); the attention decoder
recomputes i2h(H) at every step and always runs all steps, as the original does."""
import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench_timing import median_seconds


class LocalizationNetwork(nn.Module):
    def __init__(self, fiducials, channels):
        super().__init__()
        self.F = fiducials
        layers, width = [], channels
        for out, pool in ((64, True), (128, True), (256, True), (512, False)):
            layers += [nn.Conv2d(width, out, 3, 1, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(True)]
            layers.append(nn.MaxPool2d(2, 2) if pool else nn.AdaptiveAvgPool2d(1))
            width = out
        self.conv = nn.Sequential(*layers)
        self.localization_fc1 = nn.Sequential(nn.Linear(512, 256), nn.ReLU(True))
        self.localization_fc2 = nn.Linear(256, fiducials * 2)
        self.localization_fc2.weight.data.fill_(0)
        half = fiducials // 2
        x = torch.linspace(-1.0, 1.0, half)
        top = torch.stack([x, torch.linspace(0.0, -1.0, half)], 1)
        bottom = torch.stack([x, torch.linspace(1.0, 0.0, half)], 1)
        self.localization_fc2.bias.data = torch.cat([top, bottom]).reshape(-1)

    def forward(self, x):
        features = self.conv(x).view(x.size(0), -1)
        return self.localization_fc2(self.localization_fc1(features)).view(x.size(0), self.F, 2)


class GridGenerator(nn.Module):
    def __init__(self, fiducials, height, width):
        super().__init__()
        half = fiducials // 2
        x = torch.linspace(-1.0, 1.0, half, dtype=torch.float64)
        C = torch.cat([torch.stack([x, -torch.ones(half, dtype=torch.float64)], 1),
                       torch.stack([x, torch.ones(half, dtype=torch.float64)], 1)])
        hat_C = torch.cdist(C, C)
        hat_C.fill_diagonal_(1.0)
        hat_C = hat_C ** 2 * torch.log(hat_C)
        delta_C = torch.cat([
            torch.cat([torch.ones(fiducials, 1, dtype=torch.float64), C, hat_C], 1),
            torch.cat([torch.zeros(2, 3, dtype=torch.float64), C.t()], 1),
            torch.cat([torch.zeros(1, 3, dtype=torch.float64), torch.ones(1, fiducials, dtype=torch.float64)], 1)])
        gx = (torch.arange(-width, width, 2, dtype=torch.float64) + 1.0) / width
        gy = (torch.arange(-height, height, 2, dtype=torch.float64) + 1.0) / height
        P = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], 2).reshape(-1, 2)
        r = torch.cdist(P, C)
        P_hat = torch.cat([torch.ones(P.size(0), 1, dtype=torch.float64), P, r ** 2 * torch.log(r + 1e-6)], 1)
        self.register_buffer("inv_delta_C", torch.inverse(delta_C).float())
        self.register_buffer("P_hat", P_hat.float())

    def build_P_prime(self, C_prime):
        batch = C_prime.size(0)
        C_prime_with_zeros = torch.cat([C_prime, torch.zeros(batch, 3, 2, device=C_prime.device)], 1)
        T = torch.bmm(self.inv_delta_C.repeat(batch, 1, 1), C_prime_with_zeros)
        return torch.bmm(self.P_hat.repeat(batch, 1, 1), T)


class TPS(nn.Module):
    def __init__(self, fiducials, height, width, channels):
        super().__init__()
        self.size = (height, width)
        self.LocalizationNetwork = LocalizationNetwork(fiducials, channels)
        self.GridGenerator = GridGenerator(fiducials, height, width)

    def forward(self, x):
        P_prime = self.GridGenerator.build_P_prime(self.LocalizationNetwork(x))
        grid = P_prime.reshape(x.size(0), self.size[0], self.size[1], 2)
        return F.grid_sample(x, grid, padding_mode="border", align_corners=True)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(True)
        self.downsample = downsample

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class ResNetFeatures(nn.Module):
    def __init__(self, channels, output_channel):
        super().__init__()
        widths = [output_channel // 4, output_channel // 2, output_channel, output_channel]
        self.inplanes = output_channel // 8
        conv = lambda i, o, k=3, s=1, p=1: nn.Conv2d(i, o, k, s, p, bias=False)
        self.conv0_1, self.bn0_1 = conv(channels, output_channel // 16), nn.BatchNorm2d(output_channel // 16)
        self.conv0_2, self.bn0_2 = conv(output_channel // 16, self.inplanes), nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(True)
        self.maxpool1 = nn.MaxPool2d(2, 2)
        self.layer1 = self._layer(widths[0], 1)
        self.conv1, self.bn1 = conv(widths[0], widths[0]), nn.BatchNorm2d(widths[0])
        self.maxpool2 = nn.MaxPool2d(2, 2)
        self.layer2 = self._layer(widths[1], 2)
        self.conv2, self.bn2 = conv(widths[1], widths[1]), nn.BatchNorm2d(widths[1])
        self.maxpool3 = nn.MaxPool2d(2, (2, 1), (0, 1))
        self.layer3 = self._layer(widths[2], 5)
        self.conv3, self.bn3 = conv(widths[2], widths[2]), nn.BatchNorm2d(widths[2])
        self.layer4 = self._layer(widths[3], 3)
        self.conv4_1, self.bn4_1 = conv(widths[3], widths[3], 2, (2, 1), (0, 1)), nn.BatchNorm2d(widths[3])
        self.conv4_2, self.bn4_2 = conv(widths[3], widths[3], 2, 1, 0), nn.BatchNorm2d(widths[3])

    def _layer(self, planes, blocks):
        downsample = None
        if self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes, None) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn0_1(self.conv0_1(x)))
        x = self.relu(self.bn0_2(self.conv0_2(x)))
        x = self.relu(self.bn1(self.conv1(self.layer1(self.maxpool1(x)))))
        x = self.relu(self.bn2(self.conv2(self.layer2(self.maxpool2(x)))))
        x = self.relu(self.bn3(self.conv3(self.layer3(self.maxpool3(x)))))
        x = self.layer4(x)
        x = self.relu(self.bn4_1(self.conv4_1(x)))
        return self.relu(self.bn4_2(self.conv4_2(x)))


def vgg_features(channels, output_channel):
    w = [output_channel // 8, output_channel // 4, output_channel // 2, output_channel]
    return nn.Sequential(
        nn.Conv2d(channels, w[0], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d(2, 2),
        nn.Conv2d(w[0], w[1], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d(2, 2),
        nn.Conv2d(w[1], w[2], 3, 1, 1), nn.ReLU(True),
        nn.Conv2d(w[2], w[2], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d((2, 1), (2, 1)),
        nn.Conv2d(w[2], w[3], 3, 1, 1, bias=False), nn.BatchNorm2d(w[3]), nn.ReLU(True),
        nn.Conv2d(w[3], w[3], 3, 1, 1, bias=False), nn.BatchNorm2d(w[3]), nn.ReLU(True), nn.MaxPool2d((2, 1), (2, 1)),
        nn.Conv2d(w[3], w[3], 2, 1, 0), nn.ReLU(True))


class FeatureExtraction(nn.Module):
    def __init__(self, kind, channels, output_channel):
        super().__init__()
        self.ConvNet = ResNetFeatures(channels, output_channel) if kind == "ResNet" else vgg_features(channels, output_channel)

    def forward(self, x):
        return self.ConvNet(x)


class BidirectionalLSTM(nn.Module):
    def __init__(self, inputs, hidden, outputs):
        super().__init__()
        self.rnn = nn.LSTM(inputs, hidden, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(hidden * 2, outputs)

    def forward(self, x):
        self.rnn.flatten_parameters()
        return self.linear(self.rnn(x)[0])


class AttentionCell(nn.Module):
    def __init__(self, inputs, hidden, embeddings):
        super().__init__()
        self.i2h = nn.Linear(inputs, hidden, bias=False)
        self.h2h = nn.Linear(hidden, hidden)
        self.score = nn.Linear(hidden, 1, bias=False)
        self.rnn = nn.LSTMCell(inputs + embeddings, hidden)

    def forward(self, prev_hidden, batch_H, char_onehots):
        projected = self.i2h(batch_H)  # recomputed every step, as the original does
        e = self.score(torch.tanh(projected + self.h2h(prev_hidden[0]).unsqueeze(1)))
        alpha = F.softmax(e, dim=1)
        context = torch.bmm(alpha.permute(0, 2, 1), batch_H).squeeze(1)
        return self.rnn(torch.cat([context, char_onehots], 1), prev_hidden)


class Attention(nn.Module):
    def __init__(self, inputs, hidden, num_class):
        super().__init__()
        self.attention_cell = AttentionCell(inputs, hidden, num_class)
        self.hidden_size = hidden
        self.num_classes = num_class
        self.generator = nn.Linear(hidden, num_class)

    def _onehot(self, index):
        return F.one_hot(index, self.num_classes).float()

    def forward(self, batch_H, text, is_train, steps):
        batch = batch_H.size(0)
        state = (batch_H.new_zeros(batch, self.hidden_size), batch_H.new_zeros(batch, self.hidden_size))
        if is_train:
            hiddens = batch_H.new_zeros(batch, steps, self.hidden_size)
            for i in range(steps):
                state = self.attention_cell(state, batch_H, self._onehot(text[:, i]))
                hiddens[:, i, :] = state[0]
            return self.generator(hiddens)
        targets = torch.zeros(batch, dtype=torch.long)
        probs = batch_H.new_zeros(batch, steps, self.num_classes)
        for i in range(steps):
            state = self.attention_cell(state, batch_H, self._onehot(targets))
            step_logits = self.generator(state[0])
            probs[:, i, :] = step_logits
            targets = step_logits.max(1)[1]
        return probs


class Model(nn.Module):
    def __init__(self, stages, num_class, channels=1, output_channel=512, hidden=256, height=32, width=100):
        super().__init__()
        self.stages = stages
        self.Transformation = TPS(20, height, width, channels) if stages[0] == "TPS" else None
        self.FeatureExtraction = FeatureExtraction(stages[1], channels, output_channel)
        self.AdaptiveAvgPool = nn.AdaptiveAvgPool2d((None, 1))
        self.SequenceModeling = nn.Sequential(BidirectionalLSTM(output_channel, hidden, hidden),
                                              BidirectionalLSTM(hidden, hidden, hidden))
        self.Prediction = Attention(hidden, hidden, num_class) if stages[3] == "Attn" else nn.Linear(hidden, num_class)

    def forward(self, x, text, is_train=True, steps=26):
        if self.Transformation is not None:
            x = self.Transformation(x)
        features = self.FeatureExtraction(x)
        features = self.AdaptiveAvgPool(features.permute(0, 3, 1, 2)).squeeze(3)
        contextual = self.SequenceModeling(features)
        if self.stages[3] == "CTC":
            return self.Prediction(contextual.contiguous())
        return self.Prediction(contextual.contiguous(), text, is_train, steps)


def initialise(model):
    for name, param in model.named_parameters():
        if "localization_fc2" in name:
            continue
        if "bias" in name:
            nn.init.constant_(param, 0.0)
        elif "weight" in name:
            try:
                nn.init.kaiming_normal_(param)
            except ValueError:
                nn.init.constant_(param, 1.0)


def measure(stages, batch_sizes, train_batch, iterations):
    torch.manual_seed(0)
    attn = stages[3] == "Attn"
    num_class = 96 if attn else 95  # the 94-character set plus [GO]/[s] or blank
    model = Model(stages, num_class)
    initialise(model)
    result = {}
    model.eval()
    with torch.no_grad():
        for batch in batch_sizes:
            images = torch.randn(batch, 1, 32, 100)
            text = torch.zeros(batch, 27, dtype=torch.long)
            runs = max(3, iterations if batch == 1 else iterations // 4)
            seconds = median_seconds(runs, lambda: model(images, text, False))
            result[f"infer_ms_per_image_b{batch}"] = 1000.0 * seconds / batch
    model.train()
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-8)
    images = torch.randn(train_batch, 1, 32, 100)
    generator = torch.Generator().manual_seed(1)
    if attn:
        criterion = nn.CrossEntropyLoss(ignore_index=0)
        text = torch.randint(2, num_class, (train_batch, 27), generator=generator)
        text[:, 0] = 0
    else:
        criterion = nn.CTCLoss(zero_infinity=True)
        text = torch.randint(1, num_class, (train_batch, 10), generator=generator)
        lengths = torch.full((train_batch,), 10, dtype=torch.long)

    def step():
        if attn:
            preds = model(images, text[:, :-1], True)
            loss = criterion(preds.reshape(-1, preds.size(-1)), text[:, 1:].reshape(-1))
        else:
            preds = model(images, None).log_softmax(2)
            preds_size = torch.full((train_batch,), preds.size(1), dtype=torch.long)
            loss = criterion(preds.permute(1, 0, 2), text, preds_size, lengths)
        model.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()

    result[f"train_samples_per_s_b{train_batch}"] = train_batch / median_seconds(max(3, iterations // 4), step)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--models", default="TPS-ResNet-BiLSTM-Attn,None-VGG-BiLSTM-CTC")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    out = {"threads": torch.get_num_threads()}
    for name in args.models.split(","):
        out[name] = measure(name.split("-"), (1, 64), 64, args.iterations)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
