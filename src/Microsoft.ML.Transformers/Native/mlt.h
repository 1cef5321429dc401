// Flat C ABI over libtorch for Microsoft.ML.Transformers.
// Conventions: tensors are opaque heap-allocated at::Tensor handles freed by mlt_tensor_free; a call that fails
// returns NULL (handles) or -1 (status) and leaves a thread-local message readable with mlt_last_error().
// No C++ exception ever crosses this boundary.
#pragma once
#include <ATen/ATen.h>
#include <atomic>
#include <cstdint>
#include <string>

#define MLT_API extern "C" __attribute__((visibility("default")))

typedef at::Tensor* mlt_tensor;

namespace mlt {
extern thread_local std::string last_error;
extern std::atomic<int64_t> live_tensors;

inline mlt_tensor wrap(at::Tensor t) {
  live_tensors.fetch_add(1, std::memory_order_relaxed);
  return new at::Tensor(std::move(t));
}
inline at::IntArrayRef dims(const int64_t* p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }
inline at::Device device(int type, int index) {
  return at::Device(type == 1 ? at::kCUDA : at::kCPU, static_cast<c10::DeviceIndex>(index));
}
}  // namespace mlt

// Run an expression yielding at::Tensor; on failure record the message and return NULL.
#define MLT_TENSOR(expr)                                  \
  try {                                                   \
    mlt::last_error.clear();                              \
    return mlt::wrap(expr);                               \
  } catch (const c10::Error& e) {                         \
    mlt::last_error = e.what_without_backtrace();         \
  } catch (const std::exception& e) {                     \
    mlt::last_error = e.what();                           \
  } catch (...) {                                         \
    mlt::last_error = "unknown native error in libtorch"; \
  }                                                       \
  return nullptr;

// Run a statement block; on failure record the message and return -1, else 0.
#define MLT_STATUS(block)                                 \
  try {                                                   \
    mlt::last_error.clear();                              \
    block;                                                \
    return 0;                                             \
  } catch (const c10::Error& e) {                         \
    mlt::last_error = e.what_without_backtrace();         \
  } catch (const std::exception& e) {                     \
    mlt::last_error = e.what();                           \
  } catch (...) {                                         \
    mlt::last_error = "unknown native error in libtorch"; \
  }                                                       \
  return -1;
