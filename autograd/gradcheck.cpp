#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/tensor_access.h"

namespace qkv {

namespace {
double projected(const Tensor& out, const Tensor& r) {
  double acc = 0;
  for (int64_t i = 0; i < out.numel(); ++i) acc += static_cast<double>(out.data()[i]) * r.data()[i];
  return acc;
}
}  // namespace

GradcheckResult gradcheck(const TensorFn& f, std::vector<Tensor> inputs,
                          const GradcheckOptions& opt) {
  // Work on clean gradients, and give the caller's back at the end untouched.
  std::vector<std::shared_ptr<TensorImpl>> saved;
  for (auto& x : inputs) {
    saved.push_back(x.defined() ? TensorAccess::impl(x)->grad : nullptr);
    if (x.defined()) x.zero_grad();
  }
  Tensor out = f(inputs);
  Generator gen(opt.seed);
  const Tensor r = Tensor::uniform(out.shape(), gen, -1.f, 1.f);
  sum(mul(out, r)).backward();

  GradcheckResult res;
  for (size_t which = 0; which < inputs.size(); ++which) {
    Tensor& x = inputs[which];
    if (!x.defined() || !x.requires_grad()) continue;
    const Tensor grad = x.grad();
    for (int64_t i = 0; i < x.numel(); ++i) {
      float* p = x.data() + i;
      const float saved = *p;
      double lp, lm;
      {
        NoGradGuard no_grad;
        *p = static_cast<float>(saved + opt.eps);
        lp = projected(f(inputs), r);
        *p = static_cast<float>(saved - opt.eps);
        lm = projected(f(inputs), r);
        *p = saved;
      }
      // The step actually taken is what the float could represent, not exactly 2·eps.
      const double step = static_cast<double>(static_cast<float>(saved + opt.eps)) -
                          static_cast<double>(static_cast<float>(saved - opt.eps));
      const double numeric = (lp - lm) / step;
      const double analytic = grad.defined() ? grad.data()[i] : 0.0;
      const double err = std::fabs(analytic - numeric);
      const double ratio = err / (opt.atol + opt.rtol * std::fabs(numeric));
      res.max_abs_error = std::max(res.max_abs_error, err);
      if (ratio > res.worst_ratio || res.index < 0) {
        res.worst_ratio = ratio;
        res.input = static_cast<int>(which);
        res.index = i;
        res.analytic = analytic;
        res.numeric = numeric;
      }
    }
  }
  res.ok = res.worst_ratio <= 1.0;
  std::ostringstream msg;
  msg << (res.ok ? "gradcheck passed" : "gradcheck FAILED") << ": worst is input " << res.input;
  if (res.input >= 0) msg << " " << shape_str(inputs[res.input].shape());
  msg << " element " << res.index << ": analytic " << res.analytic << ", numeric " << res.numeric
      << " (error " << std::fabs(res.analytic - res.numeric) << " = " << res.worst_ratio
      << " × tolerance; atol " << opt.atol << ", rtol " << opt.rtol << ")";
  res.message = msg.str();
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined()) TensorAccess::impl(inputs[i])->grad = saved[i];
  return res;
}

}  // namespace qkv
