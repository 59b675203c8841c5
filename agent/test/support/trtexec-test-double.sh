#!/bin/sh
# TEST DOUBLE of NVIDIA's trtexec, for machines without TensorRT (every machine this repository is tested on).
# It prints output in trtexec's layout (TensorRT 8 performance summary) with made-up numbers and writes a FAKE
# engine file: text that says what it is, plus the sha256 of the ONNX input, so different models give different
# "engines". The agent runs it exactly as it runs the real trtexec (`--engine-builder <this file>`).
#
# Environment:
#   EMOFLEET_TRTEXEC_DOUBLE_VERSION  TensorRT version code to announce (default 8201 = 8.2.1)
#   EMOFLEET_TRTEXEC_DOUBLE_FAIL     when set, fail like a parser error with this text, exit code 1
#   EMOFLEET_TRTEXEC_DOUBLE_SECONDS  sleep this long before "building" (default 0)
set -u
version="${EMOFLEET_TRTEXEC_DOUBLE_VERSION:-8201}"
stamp() { date -u '+[%m/%d/%Y-%H:%M:%S]'; }
info() { printf '%s [I] %s\n' "$(stamp)" "$1"; }

echo "&&&& RUNNING TensorRT.trtexec [TensorRT v${version}] # trtexec-test-double $*"
info "THIS IS A TEST DOUBLE of trtexec (agent/test/support/trtexec-test-double.sh): no TensorRT runs here and the engine it writes is fake."

onnx=''
engine=''
for argument in "$@"; do
  case "$argument" in
    --onnx=*) onnx="${argument#--onnx=}" ;;
    --saveEngine=*) engine="${argument#--saveEngine=}" ;;
  esac
done
info "=== Model Options ==="
info "Format: ONNX"
info "Model: ${onnx}"

if [ -n "${EMOFLEET_TRTEXEC_DOUBLE_FAIL:-}" ]; then
  printf '%s [E] (test double) failing as EMOFLEET_TRTEXEC_DOUBLE_FAIL asks: %s\n' "$(stamp)" "$EMOFLEET_TRTEXEC_DOUBLE_FAIL"
  printf '%s [E] Failed to parse onnx file\n' "$(stamp)"
  printf '%s [E] Engine creation failed\n' "$(stamp)"
  echo "&&&& FAILED TensorRT.trtexec [TensorRT v${version}] # trtexec-test-double $*"
  exit 1
fi
if [ -z "$onnx" ] || [ ! -f "$onnx" ]; then
  printf '%s [E] Could not open file %s\n' "$(stamp)" "$onnx"
  echo "&&&& FAILED TensorRT.trtexec [TensorRT v${version}] # trtexec-test-double $*"
  exit 1
fi
sleep "${EMOFLEET_TRTEXEC_DOUBLE_SECONDS:-0}"

model_sha256=$(sha256sum "$onnx" | cut -d ' ' -f 1)
{
  echo "emofleet trtexec TEST DOUBLE engine: NOT a TensorRT engine"
  echo "onnx-sha256: ${model_sha256}"
  echo "tensorrt: ${version}"
  echo "arguments: $*"
} > "$engine"
info "Engine built in 0.01 sec (test double)."
info "=== Performance summary ==="
info "Throughput: 61.4986 qps"
info "Latency: min = 15.9141 ms, max = 18.2346 ms, mean = 16.2212 ms, median = 16.1094 ms, percentile(90%) = 16.5391 ms, percentile(95%) = 16.8047 ms, percentile(99%) = 17.9063 ms"
info "Enqueue Time: min = 1.03125 ms, max = 1.98438 ms, mean = 1.20431 ms, median = 1.17188 ms, percentile(90%) = 1.35156 ms, percentile(95%) = 1.45313 ms, percentile(99%) = 1.80469 ms"
info "GPU Compute Time: min = 15.6016 ms, max = 17.8516 ms, mean = 15.8887 ms, median = 15.7813 ms, percentile(90%) = 16.1953 ms, percentile(95%) = 16.4531 ms, percentile(99%) = 17.5313 ms"
info "Total Host Walltime: 3.02446 s"
info "Total GPU Compute Time: 2.98707 s"
echo "&&&& PASSED TensorRT.trtexec [TensorRT v${version}] # trtexec-test-double $*"
