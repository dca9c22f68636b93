#pragma once
// numpy's legacy RandomState for the draws Keras makes: MT19937 seeded from a 32-bit integer and
// 53-bit doubles built from two outputs, so a seed gives the same augmentation parameters as Keras
// under np.random.seed(seed).

#include <cstdint>
#include <random>

namespace cargovision {

class NumpyRandom {
 public:
  explicit NumpyRandom(std::uint32_t seed = 0) : engine_(seed) {}
  // More than 32 bits of seed, for streams of many independently seeded samples.
  explicit NumpyRandom(std::seed_seq& seeds) : engine_(seeds) {}
  void seed(std::uint32_t seed) { engine_.seed(seed); }

  double random_sample() {  // [0, 1), numpy's random_sample()
    const std::uint32_t a = static_cast<std::uint32_t>(engine_()) >> 5;
    const std::uint32_t b = static_cast<std::uint32_t>(engine_()) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }
  double uniform(double low, double high) { return low + (high - low) * random_sample(); }
  std::mt19937& engine() { return engine_; }

 private:
  std::mt19937 engine_;
};

}  // namespace cargovision
