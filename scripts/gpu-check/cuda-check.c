/*
 * A small CUDA driver-API program for scripts/gpu-check.sh: no CUDA toolkit headers, libcuda is
 * opened with dlopen (it is the one the container was given). It prints the device's name, allocates
 * device memory, runs a kernel (JIT-compiled from the PTX below by the driver) that writes
 * out[i] = 2 * i + 1, copies the result back and checks it. Exit status 0 only when every value is right.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef void *CUmodule;
typedef void *CUfunction;
typedef unsigned long long CUdeviceptr;

#define N 1024

static const char PTX[] =
    ".version 6.0\n"
    ".target sm_50\n"
    ".address_size 64\n"
    ".visible .entry fill(.param .u64 out, .param .u32 n)\n"
    "{\n"
    "  .reg .pred p;\n"
    "  .reg .b32 r<6>;\n"
    "  .reg .b64 rd<4>;\n"
    "  ld.param.u64 rd1, [out];\n"
    "  ld.param.u32 r1, [n];\n"
    "  mov.u32 r2, %ctaid.x;\n"
    "  mov.u32 r3, %ntid.x;\n"
    "  mov.u32 r4, %tid.x;\n"
    "  mad.lo.s32 r5, r2, r3, r4;\n"
    "  setp.ge.u32 p, r5, r1;\n"
    "  @p bra done;\n"
    "  cvta.to.global.u64 rd2, rd1;\n"
    "  mul.wide.u32 rd3, r5, 4;\n"
    "  add.s64 rd2, rd2, rd3;\n"
    "  shl.b32 r2, r5, 1;\n"
    "  add.s32 r2, r2, 1;\n"
    "  st.global.u32 [rd2], r2;\n"
    "done:\n"
    "  ret;\n"
    "}\n";

static void *lib;

static void *sym(const char *name) {
  void *f = dlsym(lib, name);
  if (!f) {
    fprintf(stderr, "cuda-check: libcuda has no %s\n", name);
    exit(3);
  }
  return f;
}

#define CHECK(what, call)                                            \
  do {                                                               \
    CUresult r_ = (call);                                            \
    if (r_ != 0) {                                                   \
      fprintf(stderr, "cuda-check: %s failed: CUresult %d\n", what, r_); \
      return 4;                                                      \
    }                                                                \
  } while (0)

int main(void) {
  lib = dlopen("libcuda.so.1", RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "cuda-check: cannot open libcuda.so.1: %s\n", dlerror());
    return 2;
  }
  CUresult (*cuInit)(unsigned) = sym("cuInit");
  CUresult (*cuDeviceGetCount)(int *) = sym("cuDeviceGetCount");
  CUresult (*cuDeviceGet)(CUdevice *, int) = sym("cuDeviceGet");
  CUresult (*cuDeviceGetName)(char *, int, CUdevice) = sym("cuDeviceGetName");
  CUresult (*cuCtxCreate)(CUcontext *, unsigned, CUdevice) = sym("cuCtxCreate_v2");
  CUresult (*cuModuleLoadData)(CUmodule *, const void *) = sym("cuModuleLoadData");
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *) = sym("cuModuleGetFunction");
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t) = sym("cuMemAlloc_v2");
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *, void **, void **) = sym("cuLaunchKernel");
  CUresult (*cuCtxSynchronize)(void) = sym("cuCtxSynchronize");
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t) = sym("cuMemcpyDtoH_v2");
  CUresult (*cuMemFree)(CUdeviceptr) = sym("cuMemFree_v2");
  CUresult (*cuCtxDestroy)(CUcontext) = sym("cuCtxDestroy_v2");

  int count = 0;
  CUdevice dev;
  CUcontext ctx;
  CUmodule mod;
  CUfunction fn;
  CUdeviceptr out;
  char name[256];
  static unsigned host[N];
  CHECK("cuInit", cuInit(0));
  CHECK("cuDeviceGetCount", cuDeviceGetCount(&count));
  CHECK("cuDeviceGet", cuDeviceGet(&dev, 0));
  CHECK("cuDeviceGetName", cuDeviceGetName(name, sizeof name, dev));
  printf("devices visible: %d\ndevice 0: %s\n", count, name);
  CHECK("cuCtxCreate", cuCtxCreate(&ctx, 0, dev));
  CHECK("cuModuleLoadData (PTX JIT)", cuModuleLoadData(&mod, PTX));
  CHECK("cuModuleGetFunction", cuModuleGetFunction(&fn, mod, "fill"));
  CHECK("cuMemAlloc", cuMemAlloc(&out, sizeof host));
  unsigned n = N;
  void *args[] = {&out, &n};
  CHECK("cuLaunchKernel", cuLaunchKernel(fn, N / 256, 1, 1, 256, 1, 1, 0, NULL, args, NULL));
  CHECK("cuCtxSynchronize", cuCtxSynchronize());
  CHECK("cuMemcpyDtoH", cuMemcpyDtoH(host, out, sizeof host));
  unsigned long long sum = 0;
  for (unsigned i = 0; i < N; i++) {
    if (host[i] != 2 * i + 1) {
      fprintf(stderr, "cuda-check: out[%u] is %u, not %u\n", i, host[i], 2 * i + 1);
      return 5;
    }
    sum += host[i];
  }
  printf("kernel ran: %d values right, sum %llu (expected %llu)\n", N, sum, (unsigned long long)N * N);
  cuMemFree(out);
  cuCtxDestroy(ctx);
  return 0;
}
