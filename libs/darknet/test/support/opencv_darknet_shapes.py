"""Independent oracle: load darknet cfg/weights with OpenCV's importer and report what it infers.

Reads a JSON list of cases from stdin: [{"cfg": path, "weights": path, "input": [c, h, w]}, ...].
Writes a JSON list to stdout, one entry per case:
  {"layers": {"<darknet index>": {"output": [c, h, w], "conv_weights": n, "conv_filters": n}}}
or {"error": "..."} when OpenCV rejects the case. The darknet index is the numeric suffix OpenCV gives its
layer names (conv_5, bn_5, relu_5 ... belong to darknet layer 5); the last such layer holds the output.
"""
import json
import re
import sys

import cv2


def inspect(case):
    net = cv2.dnn.readNetFromDarknet(case["cfg"], case["weights"])
    c, h, w = case["input"]
    names = net.getLayerNames()
    layer_ids, _, out_shapes = net.getLayersShapes([1, c, h, w])
    by_id = {int(layer_id): out_shapes[i] for i, layer_id in enumerate(list(layer_ids))}
    layers = {}
    for name in names:
        match = re.match(r"^[A-Za-z]+_(\d+)$", name)
        if not match:
            continue
        index = match.group(1)
        layer_id = net.getLayerId(name)
        shape = [int(v) for v in list(by_id[layer_id][0])]
        entry = layers.setdefault(index, {})
        entry["output"] = shape[1:] if len(shape) == 4 else shape
        if name.startswith("conv_"):
            kernel = net.getParam(name, 0)
            entry["conv_weights"] = int(kernel.size)
            entry["conv_filters"] = int(kernel.shape[0])
        if name.startswith("fullyConnected_"):
            matrix = net.getParam(name, 0)
            entry["fc_weights"] = int(matrix.size)
            entry["fc_outputs"] = int(matrix.shape[0])
    return {"layers": layers}


def main():
    results = []
    for case in json.load(sys.stdin):
        try:
            results.append(inspect(case))
        except cv2.error as error:
            results.append({"error": str(error)})
    json.dump(results, sys.stdout)


main()
