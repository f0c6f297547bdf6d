/*
 * The native kernel backend: the kernels of native/kernels compiled for this machine, behind Node-API, with a pool of
 * pthreads that split each kernel's tasks. One pool per JavaScript thread (Node-API instance data), because every
 * JavaScript thread has its own engine memory; the base address of that memory is thread-local in the kernels.
 *
 * run(id, args, tasks, grain, parallel): the calling thread takes part, then waits until every pool thread is done.
 * Pool threads spin for a while after a job (kernels of one pass come in quick succession), then sleep on a condition
 * variable.
 */
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

__thread char *kernel_memory_base;
void dispatch(int id, uint32_t args, int t0, int t1);
int kernel_count(void);

#define MAX_THREADS 16
#define SPINS 20000
#define YIELD_AFTER 1000

typedef struct Pool {
  char *base;
  int threads; /* including the caller */
  pthread_t tid[MAX_THREADS];
  int started;
  _Atomic int gen;
  /* Per thread k, generation << 32 | next task of its segment [k·tasks/parts, (k+1)·tasks/parts): a thread claims
   * tasks by compare-and-swap while the generation is its own, first from its own segment, then from the others'.
   * Thread k thus runs the same part of every kernel whenever the load is even: the images a kernel writes are the
   * ones the next kernel reads on the same core, still in its cache. */
  struct {
    _Atomic uint64_t v;
    char pad[56];
  } ticket[MAX_THREADS];
  _Atomic int finished; /* tasks done */
  _Atomic int active;   /* pool threads taking part */
  _Atomic int quit;
  _Atomic int id, tasks, grain, parts;
  _Atomic uint32_t args;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int sleepers;
} Pool;

typedef struct Worker {
  Pool *pool;
  int index;
} Worker;

static Worker workers[MAX_THREADS * 64];
static _Atomic int worker_slots;

static inline int seg_begin(int k, int tasks, int parts) { return (int)((int64_t)k * tasks / parts); }

/* Claims and runs tasks of segment j under generation g until it is exhausted or a newer job replaced it. */
static int drain(Pool *p, int g, int j, int id, uint32_t args, int tasks, int grain, int parts) {
  const uint64_t key = (uint64_t)(uint32_t)g << 32;
  const int end = seg_begin(j + 1, tasks, parts);
  _Atomic uint64_t *tk = &p->ticket[j].v;
  for (;;) {
    uint64_t cur = atomic_load(tk);
    if ((cur & ~0xffffffffull) != key) return 0;
    const int t = (int)(cur & 0xffffffffu);
    if (t >= end) return 1;
    const int e = t + grain < end ? t + grain : end;
    if (!atomic_compare_exchange_weak(tk, &cur, key | (uint32_t)e)) continue;
    dispatch(id, args, t, e);
    atomic_fetch_add(&p->finished, e - t);
  }
}

/* Runs tasks of generation g as thread k: its own segment, then the others' (fields read after the generation, so
 * they are g's whenever a claim under g succeeds). */
static void take_tasks(Pool *p, int g, int k) {
  kernel_memory_base = p->base;
  const int id = atomic_load(&p->id), tasks = atomic_load(&p->tasks), grain = atomic_load(&p->grain);
  const int parts = atomic_load(&p->parts);
  const uint32_t args = atomic_load(&p->args);
  if (k >= parts) return;
  for (int d = 0; d < parts; d++)
    if (!drain(p, g, (k + d) % parts, id, args, tasks, grain, parts)) return;
}

static void *worker_main(void *arg) {
  Worker *w = arg;
  Pool *p = w->pool;
  int seen = atomic_load(&p->gen);
  for (;;) {
    int g = atomic_load(&p->gen);
    /* `quit` is checked as well as the generation: a thread that starts after pool_finalize's increment (a process
     * that exits right after creating its pool, on a loaded machine) would otherwise wait for a job that never comes,
     * and the finalizer's join with it. pool_finalize sets quit before it takes the mutex to wake the sleepers. */
    for (int s = 0; g == seen && !atomic_load(&p->quit); g = atomic_load(&p->gen)) {
      if (++s > SPINS) {
        pthread_mutex_lock(&p->mu);
        p->sleepers++;
        while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->cv, &p->mu);
        p->sleepers--;
        pthread_mutex_unlock(&p->mu);
        break;
      }
      /* Past a short pure spin, yield between polls: V8's GC and compiler helpers need a core now and then, and a
       * thread spinning on the only free one would make the JavaScript thread wait for them. */
      if (s > YIELD_AFTER)
        sched_yield();
#if defined(__x86_64__)
      else
        __builtin_ia32_pause();
#endif
    }
    seen = g;
    if (atomic_load(&p->quit)) return NULL;
    if (w->index >= atomic_load(&p->active)) continue;
    take_tasks(p, g, w->index + 1);
  }
}

static void pool_finalize(napi_env env, void *data, void *hint) {
  Pool *p = data;
  atomic_store(&p->quit, 1);
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add(&p->gen, 1);
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->started; i++) pthread_join(p->tid[i], NULL);
  free(p);
}

static Pool *get_pool(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  if (data) return data;
  Pool *p = calloc(1, sizeof(Pool));
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->threads = 1;
  napi_set_instance_data(env, p, pool_finalize, NULL);
  return p;
}

static int32_t arg_i32(napi_env env, napi_value v) {
  int32_t r = 0;
  napi_get_value_int32(env, v, &r);
  return r;
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_typedarray_type type;
  size_t len, off;
  void *data;
  napi_value ab;
  if (argc < 1 || napi_get_typedarray_info(env, argv[0], &type, &len, &data, &ab, &off) != napi_ok) {
    napi_throw_type_error(env, NULL, "bind: expected a Uint8Array at offset 0 of the engine memory");
    return NULL;
  }
  get_pool(env)->base = (char *)data - off;
  return NULL;
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Pool *p = get_pool(env);
  int n = argc ? arg_i32(env, argv[0]) : 1;
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  while (p->started < n - 1) {
    int slot = atomic_fetch_add(&worker_slots, 1);
    if (slot >= (int)(sizeof workers / sizeof workers[0])) break;
    workers[slot].pool = p;
    workers[slot].index = p->started;
    if (pthread_create(&p->tid[p->started], NULL, worker_main, &workers[slot]) != 0) break;
    p->started++;
  }
  p->threads = n - 1 <= p->started ? n : p->started + 1;
  atomic_store(&p->active, p->threads - 1);
  return NULL;
}

static napi_value js_run(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Pool *p = get_pool(env);
  const int id = arg_i32(env, argv[0]);
  const uint32_t args = (uint32_t)arg_i32(env, argv[1]);
  const int tasks = arg_i32(env, argv[2]);
  const int grain = arg_i32(env, argv[3]);
  const int parallel = arg_i32(env, argv[4]);
  if (id < 0 || id >= kernel_count()) {
    napi_throw_range_error(env, NULL, "run: unknown kernel id");
    return NULL;
  }
  kernel_memory_base = p->base;
  if (!parallel || atomic_load(&p->active) == 0) {
    dispatch(id, args, 0, tasks);
    return NULL;
  }
  const int g = atomic_load(&p->gen) + 1;
  const int parts = p->threads < tasks ? p->threads : tasks;
  const uint64_t key = (uint64_t)(uint32_t)g << 32;
  /* Close every ticket under the new generation before touching the fields (see take_tasks). */
  for (int k = 0; k < p->threads; k++) atomic_store(&p->ticket[k].v, key | 0xffffffffu);
  atomic_store(&p->id, id);
  atomic_store(&p->args, args);
  atomic_store(&p->tasks, tasks);
  atomic_store(&p->grain, grain < 1 ? 1 : grain);
  atomic_store(&p->parts, parts);
  atomic_store(&p->finished, 0);
  for (int k = 0; k < parts; k++) atomic_store(&p->ticket[k].v, key | (uint32_t)seg_begin(k, tasks, parts));
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->gen, g);
  if (p->sleepers) pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  take_tasks(p, g, 0);
  /* Only tasks already claimed remain: spin, then yield the core (it may be the one their thread needs). */
  for (int s = 0; atomic_load(&p->finished) < tasks; s++) {
    if (s > 2000)
      sched_yield();
#if defined(__x86_64__)
    else
      __builtin_ia32_pause();
#endif
  }
  return NULL;
}

static napi_value js_vector_width(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_int32(env, VW, &r);
  return r;
}

static napi_value js_kernel_count(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_int32(env, kernel_count(), &r);
  return r;
}

NAPI_MODULE_INIT() {
  const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"bind", js_bind}, {"setThreads", js_set_threads}, {"run", js_run}, {"vectorWidth", js_vector_width}, {"kernelCount", js_kernel_count}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}
