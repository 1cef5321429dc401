// Neural-network functions: embedding, linear (BLAS and oneDNN paths), normalization, dropout, losses.
#include "mlt.h"

static c10::optional<at::Tensor> opt(mlt_tensor t) {
  return t == nullptr ? c10::optional<at::Tensor>() : c10::optional<at::Tensor>(*t);
}

MLT_API mlt_tensor mlt_embedding(mlt_tensor weight, mlt_tensor ids, int64_t padding_idx) {
  MLT_TENSOR(at::embedding(*weight, *ids, padding_idx))
}
MLT_API mlt_tensor mlt_linear(mlt_tensor x, mlt_tensor w, mlt_tensor b) { MLT_TENSOR(at::linear(*x, *w, opt(b))) }

// Inference-only linear through oneDNN. `w` may be a dense weight or one already moved to the oneDNN layout with
// mlt_tensor_to_mkldnn (preferred: packs once). Input of any rank >= 2; output dense, same leading dims.
MLT_API mlt_tensor mlt_linear_mkldnn(mlt_tensor x, mlt_tensor w, mlt_tensor b) {
  MLT_TENSOR(([&] {
    auto in = x->contiguous();
    auto lead = in.sizes().vec();
    lead.pop_back();
    auto x2 = in.reshape({-1, in.size(-1)}).to_mkldnn();
    auto y = at::mkldnn_linear(x2, *w, opt(b)).to_dense();
    lead.push_back(y.size(-1));
    return y.view(lead);
  }()))
}

MLT_API mlt_tensor mlt_layer_norm(mlt_tensor x, const int64_t* shape, int n, mlt_tensor w, mlt_tensor b, double eps) {
  MLT_TENSOR(at::layer_norm(*x, mlt::dims(shape, n), opt(w), opt(b), eps))
}
MLT_API mlt_tensor mlt_dropout(mlt_tensor x, double p, int train) { MLT_TENSOR(at::dropout(*x, p, train != 0)) }

// reduction: 0 none, 1 mean, 2 sum (at::Reduction).
MLT_API mlt_tensor mlt_cross_entropy(mlt_tensor logits, mlt_tensor target, mlt_tensor weight, int reduction,
                                     int64_t ignore_index, double label_smoothing) {
  MLT_TENSOR(at::cross_entropy_loss(*logits, *target, opt(weight), reduction, ignore_index, label_smoothing))
}
MLT_API mlt_tensor mlt_nll_loss(mlt_tensor logp, mlt_tensor target, int reduction, int64_t ignore_index) {
  MLT_TENSOR(at::nll_loss(*logp, *target, {}, reduction, ignore_index))
}
MLT_API mlt_tensor mlt_mse_loss(mlt_tensor x, mlt_tensor y, int reduction) { MLT_TENSOR(at::mse_loss(*x, *y, reduction)) }
MLT_API mlt_tensor mlt_bce_with_logits(mlt_tensor x, mlt_tensor y, mlt_tensor weight, mlt_tensor pos_weight, int reduction) {
  MLT_TENSOR(at::binary_cross_entropy_with_logits(*x, *y, opt(weight), opt(pos_weight), reduction))
}

// Vision ops later heads need (backbones).
MLT_API mlt_tensor mlt_conv2d(mlt_tensor x, mlt_tensor w, mlt_tensor b, const int64_t* stride, const int64_t* padding,
                              const int64_t* dilation, int64_t groups) {
  MLT_TENSOR(at::conv2d(*x, *w, opt(b), mlt::dims(stride, 2), mlt::dims(padding, 2), mlt::dims(dilation, 2), groups))
}
MLT_API mlt_tensor mlt_batch_norm(mlt_tensor x, mlt_tensor w, mlt_tensor b, mlt_tensor rm, mlt_tensor rv, int train,
                                  double momentum, double eps) {
  MLT_TENSOR(at::batch_norm(*x, opt(w), opt(b), opt(rm), opt(rv), train != 0, momentum, eps, false))
}
MLT_API mlt_tensor mlt_max_pool2d(mlt_tensor x, const int64_t* k, const int64_t* s, const int64_t* p) {
  MLT_TENSOR(at::max_pool2d(*x, mlt::dims(k, 2), mlt::dims(s, 2), mlt::dims(p, 2)))
}
MLT_API mlt_tensor mlt_adaptive_avg_pool2d(mlt_tensor x, int64_t oh, int64_t ow) {
  MLT_TENSOR(at::adaptive_avg_pool2d(*x, {oh, ow}))
}
