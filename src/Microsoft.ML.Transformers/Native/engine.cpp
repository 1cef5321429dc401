// Engine-wide state: errors, live-tensor accounting, threads, devices, grad mode, seeds.
#include "mlt.h"
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <c10/core/GradMode.h>
#include <dlfcn.h>

namespace mlt {
thread_local std::string last_error;
std::atomic<int64_t> live_tensors{0};
}  // namespace mlt

MLT_API const char* mlt_last_error() { return mlt::last_error.empty() ? nullptr : mlt::last_error.c_str(); }
MLT_API int64_t mlt_live_tensors() { return mlt::live_tensors.load(); }

MLT_API void mlt_tensor_free(mlt_tensor t) {
  if (t == nullptr) return;
  delete t;
  mlt::live_tensors.fetch_sub(1, std::memory_order_relaxed);
}

MLT_API int mlt_set_num_threads(int n) { MLT_STATUS(at::set_num_threads(n)) }
MLT_API int mlt_get_num_threads() { return at::get_num_threads(); }

// The system BLAS keeps its own thread pool beside libtorch's OpenMP pool; with both at full size on a small machine
// they oversubscribe the cores. OpenBLAS exports openblas_set_num_threads / openblas_get_num_threads; other BLAS
// builds may not, in which case these report -1.
MLT_API int mlt_set_blas_threads(int n) {
  using fn = void (*)(int);
  auto f = reinterpret_cast<fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (f == nullptr) return -1;
  f(n);
  return 0;
}
MLT_API int mlt_get_blas_threads() {
  using fn = int (*)();
  auto f = reinterpret_cast<fn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return f == nullptr ? -1 : f();
}
MLT_API int mlt_cuda_is_available() { return at::hasCUDA() ? 1 : 0; }
MLT_API int mlt_cuda_device_count() {
  try { return at::hasCUDA() ? static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()) : 0; } catch (...) { return 0; }
}
MLT_API int mlt_mkldnn_is_available() { return at::hasMKLDNN() ? 1 : 0; }
MLT_API int mlt_manual_seed(int64_t seed) { MLT_STATUS(at::manual_seed(static_cast<uint64_t>(seed))) }

MLT_API int mlt_grad_enabled() { return c10::GradMode::is_enabled() ? 1 : 0; }
MLT_API void mlt_set_grad_enabled(int enabled) { c10::GradMode::set_enabled(enabled != 0); }
