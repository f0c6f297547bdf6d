{
  "targets": [
    {
      "target_name": "robot_nas_native",
      "sources": [
        "native/addon.c",
        "native/kernels/conv.c",
        "native/kernels/channels.c",
        "native/kernels/elementwise.c",
        "native/kernels/pool.c",
        "native/kernels/depthwise.c",
        "native/kernels/maxpool.c",
        "native/kernels/copy.c",
        "native/kernels/activation.c",
        "native/kernels/dispatch.c"
      ],
      "cflags": ["-O3", "-march=native", "-ffp-contract=off", "-std=gnu11", "-pthread", "-Wno-unused-parameter"],
      "ldflags": ["-pthread"]
    }
  ]
}
