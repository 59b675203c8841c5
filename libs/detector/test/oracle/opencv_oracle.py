#!/usr/bin/env python3
"""OpenCV DNN's darknet importer as a reference for @emofleet/detector (Debian python3-opencv).

forward: load cfg + weights with cv2.dnn.readNetFromDarknet, run one NCHW float32 blob, write the raw
         output of the layer feeding [region] (or the network's last layer) and, for region networks, the
         region output (rows: cell-major then anchor; columns x, y, w, h relative, objectness, class scores).
         Prints a JSON manifest: {"outputs": [{"name", "file", "shape"}]}.
bench:   times net.forward() on a random blob; prints one JSON line {"fps", "p50Ms", "p99Ms", "rssMb"}.

OpenCV keeps only class scores above the cfg's [region] thresh; --region-thresh rewrites that value in a
temporary copy of the cfg (nothing else changes) so low-scoring boxes can be compared too.
"""
import argparse
import json
import os
import re
import resource
import sys
import tempfile
import time

import cv2
import numpy as np


def load_net(cfg_path, weights_path, region_thresh, threads):
    cfg_text = open(cfg_path, encoding="utf-8").read()
    if region_thresh is not None:
        region = cfg_text.rfind("[region]")
        if region >= 0:
            head, tail = cfg_text[:region], cfg_text[region:]
            tail = re.sub(r"(?m)^\s*thresh\s*=.*$", "", tail) + "\nthresh=%g\n" % region_thresh
            cfg_text = head + tail
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as handle:
        handle.write(cfg_text)
        patched = handle.name
    try:
        net = cv2.dnn.readNetFromDarknet(patched, weights_path)
    finally:
        os.unlink(patched)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    if threads:
        cv2.setNumThreads(threads)
    return net


def raw_output_name(net):
    names = list(net.getLayerNames())
    final = net.getUnconnectedOutLayersNames()[0]
    if final.startswith("detection_out"):
        # darknet [region] is imported as permute (NCHW -> NHWC) + region: the raw conv output precedes them.
        permute = [n for n in names if n.startswith("permute_")][-1]
        return names[names.index(permute) - 1], final
    return final, None


def forward(args):
    shape = [int(v) for v in args.shape.split(",")]
    blob = np.fromfile(args.input, dtype=np.float32).reshape([1] + shape)
    net = load_net(args.cfg, args.weights, args.region_thresh, args.threads)
    net.setInput(blob)
    raw_name, region_name = raw_output_name(net)
    wanted = [raw_name] + ([region_name] if region_name else [])
    outputs = net.forward(wanted)
    manifest = []
    for name, value in zip(wanted, outputs):
        path = os.path.join(args.out_dir, name + ".f32")
        np.ascontiguousarray(value, dtype=np.float32).tofile(path)
        manifest.append({"name": name, "file": path, "shape": list(value.shape)})
    print(json.dumps({"outputs": manifest}))


def bench(args):
    net = load_net(args.cfg, args.weights, None, args.threads)
    shape = [int(v) for v in args.shape.split(",")]
    blob = np.random.default_rng(1).random([1] + shape, dtype=np.float32)
    net.setInput(blob)
    net.forward()  # warm-up (also finishes lazy initialisation)
    times = []
    deadline = time.perf_counter() + args.seconds
    while len(times) < args.min_iterations or (time.perf_counter() < deadline and len(times) < args.max_iterations):
        start = time.perf_counter()
        net.setInput(blob)
        net.forward()
        times.append(time.perf_counter() - start)
    times.sort()
    total = sum(times)
    p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "fps": len(times) / total,
        "p50Ms": times[len(times) // 2] * 1e3,
        "p99Ms": p99 * 1e3,
        "rssMb": rss_mb,
        "iterations": len(times),
        "opencv": cv2.__version__,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("forward", "bench"):
        command = sub.add_parser(name)
        command.add_argument("--cfg", required=True)
        command.add_argument("--weights", required=True)
        command.add_argument("--shape", required=True, help="input c,h,w")
        command.add_argument("--threads", type=int, default=0)
    sub.choices["forward"].add_argument("--input", required=True, help="float32 NCHW blob")
    sub.choices["forward"].add_argument("--out-dir", required=True)
    sub.choices["forward"].add_argument("--region-thresh", type=float, default=None)
    sub.choices["bench"].add_argument("--seconds", type=float, default=10.0)
    sub.choices["bench"].add_argument("--min-iterations", type=int, default=5)
    sub.choices["bench"].add_argument("--max-iterations", type=int, default=1000)
    args = parser.parse_args()
    if args.command == "forward":
        forward(args)
    else:
        bench(args)


if __name__ == "__main__":
    sys.exit(main())
