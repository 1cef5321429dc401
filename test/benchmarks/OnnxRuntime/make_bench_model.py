#!/usr/bin/python3
"""Exports a BERT-shaped encoder (random weights, fixed seed) to ONNX for the OnnxRuntime benchmark.

    /usr/bin/python3 test/benchmarks/OnnxRuntime/make_bench_model.py [out_dir]

Writes <out_dir>/config.json and <out_dir>/onnx/model.onnx (Transformers.js layout; default out_dir
artifacts/bench/onnx-bert-h256-l4, which is gitignored). Inputs input_ids, attention_mask, token_type_ids
[batch_size, sequence_length]; outputs logits [batch_size, 2] and last_hidden_state. Only the timing matters,
so weights are random; the layer is the usual post-LayerNorm BERT layer.
"""
import json
import math
import os
import sys

import torch
from torch import nn

VOCAB, HIDDEN, LAYERS, HEADS, FFN, POSITIONS, LABELS = 2000, 256, 4, 4, 1024, 512, 2


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.ff1 = nn.Linear(HIDDEN, FFN)
        self.ff2 = nn.Linear(FFN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, x, bias):
        b, s, _ = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, HEADS, HIDDEN // HEADS).permute(2, 0, 3, 1, 4).unbind(0)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(HIDDEN // HEADS) + bias, dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(b, s, HIDDEN)
        x = self.ln1(x + self.out(ctx))
        return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.words = nn.Embedding(VOCAB, HIDDEN)
        self.positions = nn.Embedding(POSITIONS, HIDDEN)
        self.types = nn.Embedding(2, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.classifier = nn.Linear(HIDDEN, LABELS)

    def forward(self, input_ids, attention_mask, token_type_ids):
        pos = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.ln(self.words(input_ids) + self.positions(pos) + self.types(token_type_ids))
        bias = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        return self.classifier(x[:, 0]), x


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "artifacts", "bench", "onnx-bert-h256-l4")
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    torch.manual_seed(0)
    model = Encoder().eval()
    ids = torch.randint(0, VOCAB, (2, 16))
    mask, types = torch.ones_like(ids), torch.zeros_like(ids)
    dyn = {0: "batch_size", 1: "sequence_length"}
    tmp = os.path.join(out, "onnx", "model.onnx.tmp")
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, types), tmp, opset_version=14,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["logits", "last_hidden_state"],
                          dynamic_axes={"input_ids": dyn, "attention_mask": dyn, "token_type_ids": dyn,
                                        "logits": {0: "batch_size"}, "last_hidden_state": dyn})
    os.replace(tmp, os.path.join(out, "onnx", "model.onnx"))
    config = {"model_type": "bert", "architectures": ["BertForSequenceClassification"], "vocab_size": VOCAB,
              "hidden_size": HIDDEN, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
              "intermediate_size": FFN, "max_position_embeddings": POSITIONS}
    with open(os.path.join(out, "config.json.tmp"), "w") as f:
        json.dump(config, f, indent=2)
    os.replace(os.path.join(out, "config.json.tmp"), os.path.join(out, "config.json"))
    print(out)


if __name__ == "__main__":
    main()
