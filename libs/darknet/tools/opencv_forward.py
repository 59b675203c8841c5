"""Independent forward passes with OpenCV's dnn importers, the oracle side of emofleet's export checks.

Reads a JSON list of cases on stdin. Each case:
  {"format": "darknet", "files": [cfg, weights], ...}  -> cv2.dnn.readNetFromDarknet
  {"format": "caffe", "files": [prototxt, caffemodel], ...}  -> cv2.dnn.readNetFromCaffe
with
  "input": path of a raw little-endian float32 file holding the batch, NCHW,
  "shape": [N, C, H, W],
  "outputs": [{"name": "raw", "layer": "<OpenCV layer name>"} or {"name": "raw", "darknet_layer": 14}, ...],
  "output_dir", "file_prefix": each output is written to <output_dir>/<file_prefix><name>.f32 (raw
  little-endian float32, the output blob in NCHW order).
darknet_layer picks OpenCV's last layer for that darknet layer index (OpenCV names them conv_14, bn_14,
relu_14, ... by darknet index). Layer fusion is disabled so every layer runs as imported.
Writes a JSON list on stdout, one entry per case: {"outputs": {"raw": [N, C, H, W], ...}} or {"error": "..."}.
"""
import json
import os
import re
import sys

import cv2
import numpy as np


# OpenCV layer types that are a darknet layer's activation rather than a layer of their own.
ACTIVATION_TYPES = {"ReLU", "Sigmoid", "TanH", "Swish", "Mish", "ReLU6", "ELU"}


def darknet_layer_names(net):
    """Maps each darknet layer index to the last OpenCV layer imported for it.

    OpenCV names the layers of darknet layer i conv_i, bn_i, pool_i, shortcut_i, ... but OpenCV 4.6 numbers
    an activation one past its layer (conv_1, bn_1, leaky_2 / relu_2 / logistic_2), so an activation is
    attributed to the layer imported just before it.
    """
    last = {}
    previous = None
    for name in net.getLayerNames():
        match = re.match(r"^[A-Za-z]+_(\d+)$", name)
        if not match:
            continue
        index = int(match.group(1))
        if net.getLayer(name).type in ACTIVATION_TYPES and previous is not None:
            index = previous
        last[index] = name
        previous = index
    return last


def load(case):
    first, second = case["files"]
    if case["format"] == "darknet":
        return cv2.dnn.readNetFromDarknet(first, second)
    if case["format"] == "caffe":
        return cv2.dnn.readNetFromCaffe(first, second)
    raise ValueError("unknown format %r" % case["format"])


def run(case):
    net = load(case)
    net.enableFusion(False)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    by_darknet_index = darknet_layer_names(net) if case["format"] == "darknet" else {}
    layer_names = []
    for output in case["outputs"]:
        if "darknet_layer" in output:
            index = output["darknet_layer"]
            if index not in by_darknet_index:
                raise ValueError("OpenCV imported no layer for darknet layer %d" % index)
            layer_names.append(by_darknet_index[index])
        else:
            layer_names.append(output["layer"])
    batch = np.fromfile(case["input"], dtype="<f4").reshape(case["shape"])
    net.setInput(batch)
    blobs = net.forward(layer_names)
    shapes = {}
    for output, blob in zip(case["outputs"], blobs):
        blob = np.ascontiguousarray(blob, dtype="<f4")
        blob.tofile(os.path.join(case["output_dir"], case["file_prefix"] + output["name"] + ".f32"))
        shapes[output["name"]] = list(blob.shape)
    return {"outputs": shapes}


def main():
    results = []
    for case in json.load(sys.stdin):
        try:
            results.append(run(case))
        except (cv2.error, ValueError) as error:
            results.append({"error": "%s: %s" % (type(error).__name__, error)})
    json.dump(results, sys.stdout)


main()
