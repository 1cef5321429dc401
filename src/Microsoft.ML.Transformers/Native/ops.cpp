// Elementwise math, reductions, comparisons and shape operations.
#include "mlt.h"

// A double from C# becomes an integer Scalar when the tensor is integral and the value whole, so that
// long_tensor + 1 stays int64 as in PyTorch (a double Scalar would promote the result to float).
static at::Scalar sc(const at::Tensor& t, double s) {
  if (at::isIntegralType(t.scalar_type(), /*includeBool=*/true) && s == static_cast<double>(static_cast<int64_t>(s)))
    return at::Scalar(static_cast<int64_t>(s));
  return at::Scalar(s);
}

#define UNARY(name, expr) \
  MLT_API mlt_tensor mlt_##name(mlt_tensor a) { MLT_TENSOR(expr) }
#define BINARY(name, expr) \
  MLT_API mlt_tensor mlt_##name(mlt_tensor a, mlt_tensor b) { MLT_TENSOR(expr) }
#define SCALAR(name, expr) \
  MLT_API mlt_tensor mlt_##name(mlt_tensor a, double s) { MLT_TENSOR(expr) }

// ---- elementwise ----
MLT_API mlt_tensor mlt_add(mlt_tensor a, mlt_tensor b, double alpha) { MLT_TENSOR(at::add(*a, *b, alpha)) }
MLT_API mlt_tensor mlt_sub(mlt_tensor a, mlt_tensor b, double alpha) { MLT_TENSOR(at::sub(*a, *b, alpha)) }
BINARY(mul, at::mul(*a, *b))
BINARY(div, at::div(*a, *b))
BINARY(maximum, at::maximum(*a, *b))
BINARY(minimum, at::minimum(*a, *b))
BINARY(pow_t, at::pow(*a, *b))
SCALAR(add_scalar, at::add(*a, sc(*a, s)))
SCALAR(mul_scalar, at::mul(*a, sc(*a, s)))
SCALAR(div_scalar, at::div(*a, s))
SCALAR(pow_scalar, at::pow(*a, sc(*a, s)))
SCALAR(rsub_scalar, at::rsub(*a, sc(*a, s)))
UNARY(neg, at::neg(*a))
UNARY(exp, at::exp(*a))
UNARY(log, at::log(*a))
UNARY(sqrt, at::sqrt(*a))
UNARY(rsqrt, at::rsqrt(*a))
UNARY(abs, at::abs(*a))
UNARY(tanh, at::tanh(*a))
UNARY(sigmoid, at::sigmoid(*a))
UNARY(relu, at::relu(*a))
UNARY(silu, at::silu(*a))
UNARY(sin, at::sin(*a))
UNARY(cos, at::cos(*a))
UNARY(erf, at::erf(*a))
UNARY(logical_not, at::logical_not(*a))
MLT_API mlt_tensor mlt_gelu(mlt_tensor a, int tanh_approx) { MLT_TENSOR(at::gelu(*a, tanh_approx ? "tanh" : "none")) }
MLT_API mlt_tensor mlt_clamp(mlt_tensor a, double lo, double hi, int has_lo, int has_hi) {
  MLT_TENSOR(at::clamp(*a, has_lo ? c10::optional<at::Scalar>(sc(*a, lo)) : c10::nullopt,
                       has_hi ? c10::optional<at::Scalar>(sc(*a, hi)) : c10::nullopt))
}
MLT_API mlt_tensor mlt_where(mlt_tensor cond, mlt_tensor a, mlt_tensor b) { MLT_TENSOR(at::where(*cond, *a, *b)) }
MLT_API mlt_tensor mlt_masked_fill(mlt_tensor a, mlt_tensor mask, double value) { MLT_TENSOR(a->masked_fill(*mask, sc(*a, value))) }

// ---- comparisons (tensor or scalar right-hand side) ----
BINARY(eq, at::eq(*a, *b))
BINARY(ne, at::ne(*a, *b))
BINARY(lt, at::lt(*a, *b))
BINARY(gt, at::gt(*a, *b))
SCALAR(eq_scalar, at::eq(*a, s))
SCALAR(ne_scalar, at::ne(*a, s))
SCALAR(lt_scalar, at::lt(*a, s))
SCALAR(le_scalar, at::le(*a, s))
SCALAR(gt_scalar, at::gt(*a, s))
SCALAR(ge_scalar, at::ge(*a, s))
MLT_API int mlt_allclose(mlt_tensor a, mlt_tensor b, double rtol, double atol) {
  try { mlt::last_error.clear(); return at::allclose(*a, *b, rtol, atol) ? 1 : 0; }
  catch (const c10::Error& e) { mlt::last_error = e.what_without_backtrace(); }
  return -1;
}

// ---- in place (optimizers, weight updates); run under no_grad by the caller ----
MLT_API int mlt_add_(mlt_tensor a, mlt_tensor b, double alpha) { MLT_STATUS(a->add_(*b, alpha)) }
MLT_API int mlt_mul_scalar_(mlt_tensor a, double s) { MLT_STATUS(a->mul_(s)) }
MLT_API int mlt_addcmul_(mlt_tensor a, mlt_tensor b, mlt_tensor c, double v) { MLT_STATUS(a->addcmul_(*b, *c, v)) }
MLT_API int mlt_addcdiv_(mlt_tensor a, mlt_tensor b, mlt_tensor c, double v) { MLT_STATUS(a->addcdiv_(*b, *c, v)) }
MLT_API int mlt_copy_(mlt_tensor a, mlt_tensor b) { MLT_STATUS(a->copy_(*b)) }
MLT_API int mlt_zero_(mlt_tensor a) { MLT_STATUS(a->zero_()) }
MLT_API int mlt_fill_(mlt_tensor a, double v) { MLT_STATUS(a->fill_(sc(*a, v))) }
MLT_API int mlt_normal_(mlt_tensor a, double mean, double std) { MLT_STATUS(a->normal_(mean, std)) }

// ---- reductions ----
MLT_API mlt_tensor mlt_sum(mlt_tensor a, const int64_t* d, int nd, int keepdim) {
  MLT_TENSOR(nd == 0 ? at::sum(*a) : at::sum(*a, mlt::dims(d, nd), keepdim != 0))
}
MLT_API mlt_tensor mlt_mean(mlt_tensor a, const int64_t* d, int nd, int keepdim) {
  MLT_TENSOR(nd == 0 ? at::mean(*a) : at::mean(*a, mlt::dims(d, nd), keepdim != 0))
}
MLT_API mlt_tensor mlt_amax(mlt_tensor a, const int64_t* d, int nd, int keepdim) {
  MLT_TENSOR(at::amax(*a, mlt::dims(d, nd), keepdim != 0))
}
MLT_API mlt_tensor mlt_argmax(mlt_tensor a, int64_t dim, int keepdim) { MLT_TENSOR(at::argmax(*a, dim, keepdim != 0)) }
MLT_API mlt_tensor mlt_cumsum(mlt_tensor a, int64_t dim) { MLT_TENSOR(at::cumsum(*a, dim)) }
MLT_API mlt_tensor mlt_softmax(mlt_tensor a, int64_t dim) { MLT_TENSOR(at::softmax(*a, dim)) }
MLT_API mlt_tensor mlt_log_softmax(mlt_tensor a, int64_t dim) { MLT_TENSOR(at::log_softmax(*a, dim)) }
// topk returns values and indices through two out-handles.
MLT_API int mlt_topk(mlt_tensor a, int64_t k, int64_t dim, int largest, int sorted, mlt_tensor* values, mlt_tensor* indices) {
  MLT_STATUS(({
    auto r = at::topk(*a, k, dim, largest != 0, sorted != 0);
    *values = mlt::wrap(std::get<0>(r));
    *indices = mlt::wrap(std::get<1>(r));
  }))
}

// ---- shape ----
MLT_API mlt_tensor mlt_reshape(mlt_tensor a, const int64_t* s, int n) { MLT_TENSOR(a->reshape(mlt::dims(s, n))) }
MLT_API mlt_tensor mlt_view(mlt_tensor a, const int64_t* s, int n) { MLT_TENSOR(a->view(mlt::dims(s, n))) }
MLT_API mlt_tensor mlt_permute(mlt_tensor a, const int64_t* s, int n) { MLT_TENSOR(a->permute(mlt::dims(s, n))) }
MLT_API mlt_tensor mlt_expand(mlt_tensor a, const int64_t* s, int n) { MLT_TENSOR(a->expand(mlt::dims(s, n))) }
MLT_API mlt_tensor mlt_transpose(mlt_tensor a, int64_t d0, int64_t d1) { MLT_TENSOR(a->transpose(d0, d1)) }
MLT_API mlt_tensor mlt_unsqueeze(mlt_tensor a, int64_t d) { MLT_TENSOR(a->unsqueeze(d)) }
MLT_API mlt_tensor mlt_squeeze(mlt_tensor a, int64_t d) { MLT_TENSOR(a->squeeze(d)) }
MLT_API mlt_tensor mlt_flatten(mlt_tensor a, int64_t s, int64_t e) { MLT_TENSOR(a->flatten(s, e)) }
MLT_API mlt_tensor mlt_slice(mlt_tensor a, int64_t dim, int64_t start, int64_t end, int64_t step) {
  MLT_TENSOR(a->slice(dim, start, end, step))
}
MLT_API mlt_tensor mlt_select(mlt_tensor a, int64_t dim, int64_t index) { MLT_TENSOR(a->select(dim, index)) }
MLT_API mlt_tensor mlt_index_select(mlt_tensor a, int64_t dim, mlt_tensor index) { MLT_TENSOR(at::index_select(*a, dim, *index)) }
MLT_API mlt_tensor mlt_gather(mlt_tensor a, int64_t dim, mlt_tensor index) { MLT_TENSOR(at::gather(*a, dim, *index)) }
MLT_API mlt_tensor mlt_cat(const mlt_tensor* ts, int n, int64_t dim) {
  MLT_TENSOR(([&] {
    std::vector<at::Tensor> v;
    v.reserve(n);
    for (int i = 0; i < n; ++i) v.push_back(*ts[i]);
    return at::cat(v, dim);
  }()))
}
MLT_API mlt_tensor mlt_stack(const mlt_tensor* ts, int n, int64_t dim) {
  MLT_TENSOR(([&] {
    std::vector<at::Tensor> v;
    v.reserve(n);
    for (int i = 0; i < n; ++i) v.push_back(*ts[i]);
    return at::stack(v, dim);
  }()))
}

// ---- products ----
BINARY(matmul, at::matmul(*a, *b))
BINARY(bmm, at::bmm(*a, *b))
