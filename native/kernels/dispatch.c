/*
 * The one entry point the thread pools call: dispatch(id, args, t0, t1), id = position in KERNEL_LIST. A switch rather
 * than a table of function pointers, so the WebAssembly module has no data segment to initialise in shared memory.
 */
#include "kernels.h"

#define ID(name) KID_##name,
enum { KERNEL_LIST(ID) KERNEL_COUNT };
#undef ID

int kernel_count(void) { return KERNEL_COUNT; }

void dispatch(int id, uint32_t args, int t0, int t1) {
  const int32_t *a = MEMI(args);
  switch (id) {
#define CASE(name) \
  case KID_##name: \
    k_##name(a, t0, t1); \
    return;
    KERNEL_LIST(CASE)
#undef CASE
    default:
      return;
  }
}
