// Tensor creation, metadata, data transfer, dtype/device moves and autograd.
#include "mlt.h"
#include <cstring>

static at::TensorOptions opts(int dtype, int dev_type, int dev_index, int requires_grad = 0) {
  return at::TensorOptions()
      .dtype(static_cast<at::ScalarType>(dtype))
      .device(mlt::device(dev_type, dev_index))
      .requires_grad(requires_grad != 0);
}

// Copies `data` (host memory, contiguous, row-major) into a new tensor on the requested device.
MLT_API mlt_tensor mlt_tensor_from_data(const void* data, const int64_t* shape, int ndim, int dtype, int dev_type,
                                        int dev_index, int requires_grad) {
  MLT_TENSOR(([&] {
    auto cpu = at::empty(mlt::dims(shape, ndim), at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)));
    if (cpu.numel() > 0) std::memcpy(cpu.data_ptr(), data, cpu.numel() * cpu.element_size());
    auto t = dev_type == 0 ? cpu : cpu.to(mlt::device(dev_type, dev_index));
    if (requires_grad) t.requires_grad_(true);
    return t;
  }()))
}

MLT_API mlt_tensor mlt_empty(const int64_t* shape, int ndim, int dtype, int dt, int di) {
  MLT_TENSOR(at::empty(mlt::dims(shape, ndim), opts(dtype, dt, di)))
}
MLT_API mlt_tensor mlt_zeros(const int64_t* shape, int ndim, int dtype, int dt, int di, int rg) {
  MLT_TENSOR(at::zeros(mlt::dims(shape, ndim), opts(dtype, dt, di, rg)))
}
MLT_API mlt_tensor mlt_ones(const int64_t* shape, int ndim, int dtype, int dt, int di, int rg) {
  MLT_TENSOR(at::ones(mlt::dims(shape, ndim), opts(dtype, dt, di, rg)))
}
MLT_API mlt_tensor mlt_full(const int64_t* shape, int ndim, double value, int dtype, int dt, int di) {
  MLT_TENSOR(at::full(mlt::dims(shape, ndim), value, opts(dtype, dt, di)))
}
MLT_API mlt_tensor mlt_randn(const int64_t* shape, int ndim, int dtype, int dt, int di, int rg) {
  MLT_TENSOR(at::randn(mlt::dims(shape, ndim), opts(dtype, dt, di, rg)))
}
MLT_API mlt_tensor mlt_rand(const int64_t* shape, int ndim, int dtype, int dt, int di) {
  MLT_TENSOR(at::rand(mlt::dims(shape, ndim), opts(dtype, dt, di)))
}
MLT_API mlt_tensor mlt_arange(double start, double end, double step, int dtype, int dt, int di) {
  MLT_TENSOR(at::arange(start, end, step, opts(dtype, dt, di)))
}
MLT_API mlt_tensor mlt_scalar_tensor(double value, int dtype, int dt, int di) {
  MLT_TENSOR(at::scalar_tensor(value, opts(dtype, dt, di)))
}

// ---- metadata ----
MLT_API int mlt_tensor_ndim(mlt_tensor t) { return static_cast<int>(t->dim()); }
MLT_API int mlt_tensor_shape(mlt_tensor t, int64_t* out) {
  MLT_STATUS(for (int64_t i = 0; i < t->dim(); ++i) out[i] = t->size(i))
}
MLT_API int64_t mlt_tensor_numel(mlt_tensor t) { return t->numel(); }
MLT_API int mlt_tensor_dtype(mlt_tensor t) { return static_cast<int>(t->scalar_type()); }
MLT_API int mlt_tensor_device_type(mlt_tensor t) { return t->is_cuda() ? 1 : 0; }
MLT_API int mlt_tensor_device_index(mlt_tensor t) { return t->is_cuda() ? t->device().index() : -1; }
MLT_API int mlt_tensor_is_mkldnn(mlt_tensor t) { return t->is_mkldnn() ? 1 : 0; }

// Copies the tensor's elements (any device, any strides) into host memory of `nbytes`.
MLT_API int mlt_tensor_copy_to(mlt_tensor t, void* dst, int64_t nbytes) {
  MLT_STATUS(({
    auto c = t->detach();
    if (c.is_mkldnn()) c = c.to_dense();
    c = c.to(at::kCPU).contiguous();
    int64_t need = c.numel() * static_cast<int64_t>(c.element_size());
    TORCH_CHECK(need == nbytes, "copy_to: destination holds ", nbytes, " bytes, tensor needs ", need);
    if (need > 0) std::memcpy(dst, c.data_ptr(), need);
  }))
}
// Writes host data into an existing tensor in place (shape and dtype must match), under no_grad.
MLT_API int mlt_tensor_copy_from(mlt_tensor t, const void* src, int64_t nbytes) {
  MLT_STATUS(({
    at::NoGradGuard ng;
    auto cpu = at::empty(t->sizes(), t->options().device(at::kCPU).requires_grad(false));
    int64_t need = cpu.numel() * static_cast<int64_t>(cpu.element_size());
    TORCH_CHECK(need == nbytes, "copy_from: source holds ", nbytes, " bytes, tensor needs ", need);
    if (need > 0) std::memcpy(cpu.data_ptr(), src, need);
    t->copy_(cpu);
  }))
}
MLT_API double mlt_tensor_item(mlt_tensor t) {
  try { mlt::last_error.clear(); return t->item().toDouble(); }
  catch (const c10::Error& e) { mlt::last_error = e.what_without_backtrace(); }
  catch (const std::exception& e) { mlt::last_error = e.what(); }
  return 0;
}

// ---- conversions ----
MLT_API mlt_tensor mlt_tensor_to_dtype(mlt_tensor t, int dtype) { MLT_TENSOR(t->to(static_cast<at::ScalarType>(dtype))) }
MLT_API mlt_tensor mlt_tensor_to_device(mlt_tensor t, int dt, int di) { MLT_TENSOR(t->to(mlt::device(dt, di))) }
MLT_API mlt_tensor mlt_tensor_clone(mlt_tensor t) { MLT_TENSOR(t->clone()) }
MLT_API mlt_tensor mlt_tensor_detach(mlt_tensor t) { MLT_TENSOR(t->detach()) }
MLT_API mlt_tensor mlt_tensor_contiguous(mlt_tensor t) { MLT_TENSOR(t->contiguous()) }
MLT_API mlt_tensor mlt_tensor_alias(mlt_tensor t) { MLT_TENSOR(at::Tensor(*t)) }
MLT_API mlt_tensor mlt_tensor_to_mkldnn(mlt_tensor t) { MLT_TENSOR(t->to_mkldnn()) }
MLT_API mlt_tensor mlt_tensor_to_dense(mlt_tensor t) { MLT_TENSOR(t->to_dense()) }

// ---- autograd ----
MLT_API int mlt_tensor_requires_grad(mlt_tensor t) { return t->requires_grad() ? 1 : 0; }
MLT_API int mlt_tensor_set_requires_grad(mlt_tensor t, int rg) { MLT_STATUS(t->requires_grad_(rg != 0)) }
MLT_API int mlt_tensor_backward(mlt_tensor t) { MLT_STATUS(t->backward()) }
// Returns NULL without an error when the tensor has no gradient yet.
MLT_API mlt_tensor mlt_tensor_grad(mlt_tensor t) {
  try {
    mlt::last_error.clear();
    auto g = t->grad();
    return g.defined() ? mlt::wrap(g) : nullptr;
  } catch (const c10::Error& e) { mlt::last_error = e.what_without_backtrace(); }
  catch (const std::exception& e) { mlt::last_error = e.what(); }
  return nullptr;
}
MLT_API int mlt_tensor_zero_grad(mlt_tensor t) {
  MLT_STATUS(({ auto& g = t->mutable_grad(); if (g.defined()) g = at::Tensor(); }))
}

// Copies host memory laid out as (shape, dtype) into `t` — converting dtype and moving device as needed — without an
// intermediate tensor (checkpoint loading straight from a memory-mapped file).
MLT_API int mlt_tensor_copy_from_blob(mlt_tensor t, const void* data, const int64_t* shape, int ndim, int dtype) {
  MLT_STATUS(({
    at::NoGradGuard ng;
    auto view = at::from_blob(const_cast<void*>(data), mlt::dims(shape, ndim),
                              at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)));
    TORCH_CHECK(view.sizes() == t->sizes(), "copy_from_blob: source shape ", view.sizes(), " does not match ", t->sizes());
    t->copy_(view);
  }))
}
// Replaces the data of `t` by `src` keeping the same tensor object (module.to(device/dtype) as PyTorch does).
MLT_API int mlt_tensor_set_data(mlt_tensor t, mlt_tensor src) { MLT_STATUS(t->set_data(*src)) }
