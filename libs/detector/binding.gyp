{
  # node-gyp build of the native detector. OpenBLAS (Debian: libopenblas-dev, amd64 and arm64) provides SGEMM.
  # The tensorrt backend is compiled only when TensorRT's NvInfer.h is found (see scripts/find-tensorrt.js).
  "variables": {
    "tensorrt_include%": "<!(node scripts/find-tensorrt.js)",
    # process.stdout.write, not `node -p`: under FORCE_COLOR (nx sets it) -p prints the number 0 with ANSI colour
    # codes, `portable==0` never matched and the x64 addon was built for generic x86-64 (SSE2) without a word.
    "portable%": "<!(node -e \"process.stdout.write(process.env.EMOFLEET_PORTABLE ? '1' : '0')\")"
  },
  "targets": [
    {
      "target_name": "emofleet_detector",
      "sources": [
        "native/core/activation_plan.cpp",
        "native/core/batch_norm_fold.cpp",
        "native/core/cfg_sections.cpp",
        "native/core/cpu_engine.cpp",
        "native/core/detector.cpp",
        "native/core/detector_error.cpp",
        "native/core/frame_preprocessor.cpp",
        "native/core/network_spec.cpp",
        "native/core/region_head.cpp",
        "native/core/square_input.cpp",
        "native/core/classifier_stage.cpp",
        "native/core/thread_pool.cpp",
        "native/core/weights_loader.cpp",
        "native/core/kernels/convolution.cpp",
        "native/core/kernels/depthwise_convolution.cpp",
        "native/core/kernels/direct_convolution.cpp",
        "native/core/kernels/dense.cpp",
        "native/core/kernels/im2col.cpp",
        "native/core/kernels/int8_epilogue.cpp",
        "native/core/kernels/int8_gemm.cpp",
        "native/core/kernels/packed_gemm.cpp",
        "native/core/kernels/pointwise_convolution.cpp",
        "native/core/kernels/quantized_convolution.cpp",
        "native/core/kernels/pooling.cpp",
        "native/core/kernels/reorg.cpp",
        "native/core/kernels/sgemm.cpp",
        "native/core/kernels/sgemm_peak.cpp",
        "native/core/kernels/winograd_convolution.cpp",
        "native/binding/addon.cpp",
        "native/binding/arguments.cpp",
        "native/binding/detector_wrap.cpp",
        "native/binding/int8_binding.cpp",
        "native/binding/promise_worker.cpp",
        "native/binding/workers.cpp"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++1y", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-frtti"],
      "libraries": ["-lopenblas", "-lpthread"],
      "conditions": [
        ["target_arch=='x64' and portable==0", { "cflags_cc": ["-march=native"] }],
        ["tensorrt_include!=''", {
          "sources": ["native/backends/tensorrt_backend.cpp"],
          "defines": ["EMOFLEET_WITH_TENSORRT"],
          "include_dirs": ["<(tensorrt_include)", "/usr/local/cuda/include"],
          "library_dirs": ["/usr/local/cuda/lib64"],
          "libraries": ["-lnvinfer", "-lcudart"]
        }]
      ]
    }
  ]
}
