/*
 * The engine's compute kernels, one C source for two targets:
 *   - WebAssembly (clang --target=wasm32 -msimd128): vf = 4 float lanes, the portable default;
 *   - native (node-gyp, the machine's compiler with -march=native): vf = 16 lanes (AVX-512 where present).
 *
 * Every kernel has the signature  void k(const int32_t *args, int t0, int t1)  and computes tasks [t0, t1) of
 * its work; the caller (src/engine) splits the tasks over threads. A task's result never depends on which
 * thread ran it or on how many threads there are (reductions go through per-task partial sums added in task
 * order), so every number is the same with 1 or N threads.
 *
 * Arguments are 32-bit words in engine memory: byte offsets of tensors (MEM(a) turns one into a pointer), counts,
 * and floats stored bit for bit (ARGF). No kernel uses static data or the C stack for arrays, so one module
 * instance per thread can run on one shared memory.
 */
#ifndef ROBOT_NAS_KERNELS_H
#define ROBOT_NAS_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#if defined(__wasm__)
#define VW 4
#define ADDR(a) ((uintptr_t)(uint32_t)(a))
#else
#ifndef VW
#define VW 16
#endif
extern __thread char *kernel_memory_base;
#define ADDR(a) ((uintptr_t)(kernel_memory_base + (uint32_t)(a)))
#endif

typedef float vf __attribute__((vector_size(VW * 4), aligned(4)));
#define INLINE static inline __attribute__((always_inline))

#define MEMF(a) ((float *)ADDR(a))
#define MEMI(a) ((int32_t *)ADDR(a))
#define MEMD(a) ((double *)ADDR(a))
#define ARGF(args, i) (((const float *)(args))[i])

INLINE vf vload(const float *p) { return *(const vf *)p; }
INLINE void vstore(float *p, vf v) { *(vf *)p = v; }
#if VW == 4
INLINE vf vsplat(float s) { return (vf){s, s, s, s}; }
#elif VW == 8
INLINE vf vsplat(float s) { return (vf){s, s, s, s, s, s, s, s}; }
#else
INLINE vf vsplat(float s) { return (vf){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }
#endif
INLINE vf vzero(void) { return vsplat(0.0f); }

typedef void (*kernel_fn)(const int32_t *args, int t0, int t1);

/* The kernel table: its order is the ids src/engine/kernels.ts uses (a test compares the two lists). */
#define KERNEL_LIST(X) \
  X(pad_copy)          \
  X(pack_filter)       \
  X(conv_rows)         \
  X(conv_wgrad)        \
  X(reduce_partials)   \
  X(chan_sum)          \
  X(chan_sqdev)        \
  X(chan_dot)          \
  X(chan_affine)       \
  X(chan_affine2)      \
  X(bn_out)            \
  X(ew_add)            \
  X(ew_addn)           \
  X(ew_relu)           \
  X(ew_mask)           \
  X(ew_scale)          \
  X(avgpool_fwd)       \
  X(avgpool_bwd)       \
  X(gap_fwd)           \
  X(gap_bwd)           \
  X(linear_fwd)        \
  X(linear_bwd_input)  \
  X(linear_bwd_weight) \
  X(dot_f64)           \
  X(sample_chan_dot)   \
  X(dw_fwd)            \
  X(dw_bwd_input)      \
  X(dw_wgrad)          \
  X(dw_wgrad_f32)      \
  X(maxpool_fwd)       \
  X(maxpool_bwd)       \
  X(gather_idx)        \
  X(chan_copy)         \
  X(crop)              \
  X(ew_act)            \
  X(nc_scale)

#define DECLARE(name) void k_##name(const int32_t *args, int t0, int t1);
KERNEL_LIST(DECLARE)
#undef DECLARE

#endif
