#!/usr/bin/python3
"""Writes the GEMMs of a BERT-base layer at batch 1, seq 128 as ONNX graphs (not fixtures: nothing is committed), for
sgemm_ceiling.mjs to time ONNX Runtime's MLAS SGEMM alone: each graph runs one MatMul [128, K] x [K, N] twelve times
(on one input, weights as an initializer, so ONNX Runtime prepacks them as in the model).

    /usr/bin/python3 test/benchmarks/OnnxRuntime/make_gemm_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# q/k/v fused (768 -> 2304), attention output (768 -> 768), FFN up (768 -> 3072) and down (3072 -> 768)
SHAPES = [(128, 768, 2304), (128, 768, 768), (128, 768, 3072), (128, 3072, 768)]
REPEAT = 12


def main(out):
    os.makedirs(out, exist_ok=True)
    for m, k, n in SHAPES:
        w = numpy_helper.from_array((np.random.RandomState(0).randn(k, n) * 0.02).astype(np.float32), "W")
        nodes = [helper.make_node("MatMul", ["A", "W"], [f"Y{i}"]) for i in range(REPEAT)]
        outputs = [helper.make_tensor_value_info(f"Y{i}", TensorProto.FLOAT, [m, n]) for i in range(REPEAT)]
        graph = helper.make_graph(nodes, "gemm", [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])], outputs, [w])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, os.path.join(out, f"mm_{m}_{k}_{n}.onnx"))


if __name__ == "__main__":
    main(sys.argv[1])
