// Training in shards (nn/data_parallel.h): the batch's gradient from shards on replicas that
// share the model's weights, the same bits on one thread as on two.
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "autograd/ops.h"
#include "nn/data_parallel.h"
#include "nn/seq2seq_shards.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/fixtures.h"
#include "tests/helpers.h"

using namespace qkv;

namespace {

// Six sentences of random tokens; rows 1 and 4 end in padding.
using Batch = nn::Seq2SeqBatch;
constexpr int64_t B = 6, S = 5, T = 4;

Batch make_batch(const nn::Seq2SeqConfig& c) {
  Generator gen(7);
  Batch b{Tensor::zeros({B, S}), Tensor::ones({B, S}), Tensor::zeros({B, T}), Tensor::ones({B, T}),
          Tensor::zeros({B * T})};
  for (int64_t r = 0; r < B; ++r) {
    const int64_t pad = r == 1 || r == 4 ? 2 : 0;
    for (int64_t t = 0; t < S; ++t) {
      const bool is_pad = t >= S - pad;
      b.src.data()[r * S + t] = is_pad ? 0.f : static_cast<float>(3 + gen.randint(c.src_vocab - 3));
      b.src_keep.data()[r * S + t] = is_pad ? 0.f : 1.f;
    }
    for (int64_t t = 0; t < T; ++t) {
      const bool in_pad = t > T - pad, out_pad = t >= T - pad;
      b.tgt_in.data()[r * T + t] =
          t == 0 ? static_cast<float>(test::kBos)
                 : (in_pad ? 0.f : static_cast<float>(3 + gen.randint(c.tgt_vocab - 3)));
      b.tgt_keep.data()[r * T + t] = in_pad ? 0.f : 1.f;
      b.tgt_out.data()[r * T + t] =
          out_pad ? 0.f : static_cast<float>(3 + gen.randint(c.tgt_vocab - 3));
    }
  }
  return b;
}

// The loss of rows [r0, r1), a mean over their tokens, times their share of the batch's tokens.
Tensor loss_of_rows(nn::Seq2SeqTransformer& m, const Batch& b, int64_t r0, int64_t r1,
                    int64_t vocab) {
  int64_t mine = 0, all = 0;
  for (int64_t i = 0; i < B * T; ++i) {
    const bool counts = b.tgt_out.data()[i] != 0.f;
    all += counts;
    mine += counts && i >= r0 * T && i < r1 * T;
  }
  Tensor logits = m.forward(slice(b.src, 0, r0, r1), slice(b.src_keep, 0, r0, r1),
                            slice(b.tgt_in, 0, r0, r1), slice(b.tgt_keep, 0, r0, r1));
  Tensor loss = cross_entropy(reshape(logits, {(r1 - r0) * T, vocab}),
                              slice(b.tgt_out, 0, r0 * T, r1 * T), 0, 0.1f);
  return loss * static_cast<float>(static_cast<double>(mine) / static_cast<double>(all));
}

struct Run {
  float loss;
  std::vector<std::vector<float>> grads;  // the model's, parameter by parameter
};

// One step's forward and backward in `shards` shards on `threads` threads, from the same
// starting weights (seed 3) and dropout state every time.
Run sharded(const nn::Seq2SeqConfig& c, int shards, int threads) {
  test::ThreadCountGuard guard;
  omp_set_num_threads(threads);
  Generator gen(3);
  nn::Seq2SeqTransformer model(c, gen);
  nn::DataParallel<nn::Seq2SeqTransformer> dp(model, shards, [&] {
    Generator other(99);
    return std::make_shared<nn::Seq2SeqTransformer>(c, other);
  });
  const Batch b = make_batch(c);
  Run run;
  run.loss = nn::seq2seq_backward_in_shards(dp, b, 0, 0.1f);
  // The replicas' gradients were added to the model's and dropped.
  for (int s = 1; s < shards; ++s)
    for (const Tensor& p : dp.shard_model(s).parameters()) CHECK_FALSE(p.grad().defined());
  for (const Tensor& p : model.parameters())
    run.grads.push_back(p.grad().defined() ? p.grad().to_vector() : std::vector<float>{});
  return run;
}

}  // namespace

TEST_CASE("shard_rows cuts n rows into nearly equal shards, the first ones longer", "[shards]") {
  const nn::ShardRows a = nn::shard_rows(10, 3, 0), b = nn::shard_rows(10, 3, 1),
                      c = nn::shard_rows(10, 3, 2);
  CHECK(a.begin == 0);
  CHECK(a.end == 4);
  CHECK(b.begin == 4);
  CHECK(b.end == 7);
  CHECK(c.begin == 7);
  CHECK(c.end == 10);
  CHECK(nn::shard_rows(6, 1, 0).end == 6);
  CHECK_THROWS_WITH(nn::shard_rows(6, 2, 2), Catch::Contains("shard 2 of 2"));
}

TEST_CASE("a replica shares the model's weights and keeps gradients of its own", "[shards]") {
  const nn::Seq2SeqConfig c = test::tiny_config(20, 15);
  Generator g1(1), g2(2);
  nn::Seq2SeqTransformer model(c, g1), replica(c, g2);
  replica.share_parameters_of(model);
  auto mine = model.parameters(), theirs = replica.parameters();
  REQUIRE(mine.size() == theirs.size());
  for (size_t i = 0; i < mine.size(); ++i) CHECK(theirs[i].data() == mine[i].data());
  // A change to the model's values is the replica's; a gradient on the replica is not the model's.
  mine[0].data()[0] = 42.f;
  CHECK(theirs[0].data()[0] == 42.f);
  Tensor loss = sum(theirs[0] * theirs[0]);
  loss.backward();
  CHECK(theirs[0].grad().defined());
  CHECK_FALSE(mine[0].grad().defined());

  nn::Seq2SeqConfig wider = c;
  wider.d_model = 32;
  Generator g3(3);
  nn::Seq2SeqTransformer other(wider, g3);
  CHECK_THROWS_WITH(replica.share_parameters_of(other), Catch::Contains("is [20, 16] here"));
  Tensor t = Tensor::zeros({2, 3}, true);
  CHECK_THROWS_WITH(t.set_(Tensor::zeros({3, 2})), Catch::Contains("[3, 2]"));
}

TEST_CASE("the gradient in two or three shards is the whole batch's", "[shards]") {
  const nn::Seq2SeqConfig c = test::tiny_config(20, 15);  // dropout 0: the same function
  Generator gen(3);
  nn::Seq2SeqTransformer model(c, gen);
  const Batch b = make_batch(c);
  Tensor logits = model.forward(b.src, b.src_keep, b.tgt_in, b.tgt_keep);  // the whole batch
  Tensor whole = cross_entropy(reshape(logits, {B * T, c.tgt_vocab}), b.tgt_out, 0, 0.1f);
  whole.backward();
  std::vector<std::vector<float>> expected;
  for (const Tensor& p : model.parameters()) expected.push_back(p.grad().to_vector());
  for (int shards : {2, 3}) {
    const Run run = sharded(c, shards, 2);
    CHECK(run.loss == Approx(whole.item()).epsilon(1e-5));
    REQUIRE(run.grads.size() == expected.size());
    double worst = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      REQUIRE(run.grads[i].size() == expected[i].size());
      for (size_t j = 0; j < expected[i].size(); ++j)
        worst = std::max(worst, std::abs(double(run.grads[i][j]) - expected[i][j]) /
                                    (1e-3 + std::abs(double(expected[i][j]))));
    }
    INFO(shards << " shards, worst relative difference " << worst);
    CHECK(worst < 1e-4);
  }
}

TEST_CASE("shards give the same bits on one thread as on two, dropout included", "[shards]") {
  nn::Seq2SeqConfig c = test::tiny_config(20, 15);
  c.dropout = 0.3f;
  const Run one = sharded(c, 2, 1), two = sharded(c, 2, 2), again = sharded(c, 2, 2);
  CHECK(one.loss == two.loss);
  CHECK(one.grads == two.grads);
  CHECK(two.grads == again.grads);
  // Three shards on two threads: one thread runs two of them.
  CHECK(sharded(c, 3, 1).grads == sharded(c, 3, 2).grads);
}

TEST_CASE("each replica draws dropout masks of its own, made from the model's state", "[shards]") {
  nn::Seq2SeqConfig c = test::tiny_config(20, 15);
  c.dropout = 0.3f;
  Generator g1(1), g2(2);
  nn::Seq2SeqTransformer model(c, g1), replica(c, g2);
  auto dropout_states = [](const nn::Module& m) {
    std::vector<std::string> out;
    for (const auto& [name, mod] : m.named_modules())
      if (auto* d = dynamic_cast<const nn::Dropout*>(mod.get()))
        out.push_back(Generator::state_to_text(d->generator().get_state()));
    return out;
  };
  nn::seed_replica_dropout(model, replica, 1);
  const auto first = dropout_states(replica);
  REQUIRE_FALSE(first.empty());
  CHECK(first != dropout_states(model));
  nn::seed_replica_dropout(model, replica, 1);
  CHECK(dropout_states(replica) == first);  // the same model state and shard: the same masks
  nn::seed_replica_dropout(model, replica, 2);
  CHECK(dropout_states(replica) != first);  // another shard: others
}

TEST_CASE("a NaN loss in any shard leaves every gradient untouched", "[shards]") {
  const nn::Seq2SeqConfig c = test::tiny_config(20, 15);
  test::ThreadCountGuard guard;
  omp_set_num_threads(2);
  Generator gen(3);
  nn::Seq2SeqTransformer model(c, gen);
  nn::DataParallel<nn::Seq2SeqTransformer> dp(model, 2, [&] {
    Generator other(4);
    return std::make_shared<nn::Seq2SeqTransformer>(c, other);
  });
  const Batch b = make_batch(c);
  const float loss = dp.backward([&](int s, nn::Seq2SeqTransformer& m) {
    const nn::ShardRows r = nn::shard_rows(B, 2, s);
    Tensor l = loss_of_rows(m, b, r.begin, r.end, c.tgt_vocab);
    return s == 1 ? l * std::nanf("") : l;
  });
  CHECK(std::isnan(loss));
  for (int s = 0; s < 2; ++s)
    for (const Tensor& p : dp.shard_model(s).parameters()) CHECK_FALSE(p.grad().defined());

  // An exception in a shard reaches the caller, after the region.
  CHECK_THROWS_WITH(dp.backward([&](int s, nn::Seq2SeqTransformer& m) -> Tensor {
    if (s == 1) throw std::runtime_error("shard 1 failed");
    return loss_of_rows(m, b, 0, 3, c.tgt_vocab);
  }),
                    Catch::Contains("shard 1 failed"));
}

TEST_CASE("a shard of padding only adds a constant 0 and no gradient", "[shards]") {
  const nn::Seq2SeqConfig c = test::tiny_config(20, 15);
  Generator gen(3);
  nn::Seq2SeqTransformer model(c, gen);
  Batch b = make_batch(c);
  for (int64_t i = 0; i < T; ++i) b.tgt_out.data()[5 * T + i] = 0.f;  // row 5: no targets
  const int64_t all = nn::count_targets(b, 0);
  Tensor none = nn::seq2seq_shard_loss(model, b, {5, 6}, all, 0, 0.1f);
  CHECK(none.item() == 0.f);
  CHECK_FALSE(none.requires_grad());
  Tensor some = nn::seq2seq_shard_loss(model, b, {0, 5}, all, 0, 0.1f);
  CHECK(some.requires_grad());
  CHECK(std::isfinite(some.item()));
}

TEST_CASE("one shard is the plain step, bit for bit, on one thread and two", "[shards]") {
  nn::Seq2SeqConfig c = test::tiny_config(20, 15);
  c.dropout = 0.3f;
  for (int threads : {1, 2}) {
    test::ThreadCountGuard guard;
    omp_set_num_threads(threads);
    Generator g1(3), g2(3);
    nn::Seq2SeqTransformer plain(c, g1), sharded(c, g2);
    const Batch b = make_batch(c);
    Tensor logits = plain.forward(b.src, b.src_keep, b.tgt_in, b.tgt_keep);
    Tensor loss = cross_entropy(reshape(logits, {B * T, c.tgt_vocab}), b.tgt_out, 0, 0.1f);
    loss.backward();
    nn::DataParallel<nn::Seq2SeqTransformer> dp(sharded, 1, [&] {
      Generator other(4);
      return std::make_shared<nn::Seq2SeqTransformer>(c, other);
    });
    CHECK(nn::seq2seq_backward_in_shards(dp, b, 0, 0.1f) == loss.item());
    const auto a = plain.parameters(), s = sharded.parameters();
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].grad().to_vector() == s[i].grad().to_vector());
  }
}

namespace {
// One parameter, for the gradient paths a seq2seq batch does not reach.
struct Scale : nn::Module {
  Tensor w = register_parameter("w", Tensor::from_vector({2.f, -1.f}, {2}));
};
}  // namespace

TEST_CASE("a gradient only a replica computes becomes the model's", "[shards]") {
  test::ThreadCountGuard guard;
  omp_set_num_threads(2);
  Scale model;
  nn::DataParallel<Scale> dp(model, 3, [] { return std::make_shared<Scale>(); });
  const Tensor x = Tensor::from_vector({3.f, 5.f}, {2});
  // Shard 0 reads no parameter (a constant loss); shards 1 and 2 do: the model's gradient is
  // new, written with shard 1's and then added shard 2's: 3x + x.
  const float loss = dp.backward([&](int s, Scale& m) {
    return s == 0 ? Tensor::scalar(1.f) : sum(m.w * x) * static_cast<float>(s == 1 ? 3 : 1);
  });
  CHECK(loss == 1.f + 3.f * (6.f - 5.f) + (6.f - 5.f));
  REQUIRE(model.w.grad().defined());
  CHECK(model.w.grad().to_vector() == std::vector<float>{12.f, 20.f});
  CHECK_FALSE(dp.shard_model(1).w.grad().defined());
  CHECK_FALSE(dp.shard_model(2).w.grad().defined());

  // A step that throws leaves nothing behind in the replicas for the next one.
  CHECK_THROWS(dp.backward([&](int s, Scale& m) -> Tensor {
    if (s == 2) throw std::runtime_error("no");
    return sum(m.w * x);
  }));
  model.zero_grad();
  dp.backward([&](int, Scale& m) { return sum(m.w * x); });
  CHECK(model.w.grad().to_vector() == std::vector<float>{9.f, 15.f});
}

TEST_CASE("shards keep the kernels to one thread each, whatever OMP_MAX_ACTIVE_LEVELS says",
          "[shards]") {
  // Products large enough for the kernels to split them (and the weight gradients' sums by k)
  // if the regions inside the shards had two threads of their own.
  nn::Seq2SeqConfig c = test::tiny_config(60, 50);
  c.d_model = 128;
  c.heads = 4;
  c.d_ff = 512;
  c.dropout = 0.1f;
  auto run = [&](int threads, int levels) {
    test::ThreadCountGuard guard;
    omp_set_num_threads(threads);
    const int saved = omp_get_max_active_levels();
    omp_set_max_active_levels(levels);
    Generator gen(3);
    nn::Seq2SeqTransformer model(c, gen);
    nn::DataParallel<nn::Seq2SeqTransformer> dp(model, 2, [&] {
      Generator other(4);
      return std::make_shared<nn::Seq2SeqTransformer>(c, other);
    });
    Generator data(9);
    const int64_t rows = 64, len = 16;  // 512 rows a shard: two of the GEMM's k slices
    Batch b{Tensor::zeros({rows, len}), Tensor::ones({rows, len}), Tensor::zeros({rows, len}),
            Tensor::ones({rows, len}), Tensor::zeros({rows * len})};
    for (int64_t i = 0; i < rows * len; ++i) {
      b.src.data()[i] = static_cast<float>(3 + data.randint(57));
      b.tgt_in.data()[i] = static_cast<float>(3 + data.randint(47));
      b.tgt_out.data()[i] = static_cast<float>(3 + data.randint(47));
    }
    nn::seq2seq_backward_in_shards(dp, b, 0, 0.1f);
    CHECK(omp_get_max_active_levels() == levels);  // restored
    omp_set_max_active_levels(saved);
    std::vector<float> all;
    for (const Tensor& p : model.parameters())
      for (float v : p.grad().to_vector()) all.push_back(v);
    return all;
  };
  const std::vector<float> one = run(1, 1);
  CHECK(run(2, 1) == one);
  CHECK(run(2, 2) == one);
  CHECK(run(2, 2) == one);
}
