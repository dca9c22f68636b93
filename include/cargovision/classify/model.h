#pragma once
// The cargo classifier: a torchvision backbone, global average pooling, Dropout, an optional hidden
// Dense layer and a single logit (sigmoid only for reporting), as the seed's Keras head.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cargovision/models/backbone.h"

namespace cargovision {

struct ClassifierHeadOptions {
  int64_t in_features = 2048;
  int64_t hidden = 0;      // 0: no hidden layer
  double dropout = 0.25;
};

class ClassifierHeadImpl : public torch::nn::Module {
 public:
  explicit ClassifierHeadImpl(const ClassifierHeadOptions& options);
  torch::Tensor forward(torch::Tensor feature_map);  // [B, C, h, w] -> [B] logits

  // A data-parallel rank's part of a global batch: the next forward's samples are rows `rows` of a
  // batch of `global_size`, and dropout takes those rows of the mask drawn for the whole batch, so the
  // ranks together drop what one process would. Cleared by the forward that uses it.
  void set_global_rows(std::vector<int64_t> rows, int64_t global_size);

  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear hidden{nullptr};
  torch::nn::Linear output{nullptr};

 private:
  torch::Tensor distributed_dropout(const torch::Tensor& x);

  std::vector<int64_t> global_rows_;
  int64_t global_size_ = 0;
};
TORCH_MODULE(ClassifierHead);

struct CargoClassifierOptions {
  std::string backbone = "resnet152";
  int64_t hidden = 0;
  double dropout = 0.25;
};

class CargoClassifierImpl : public torch::nn::Module {
 public:
  explicit CargoClassifierImpl(const CargoClassifierOptions& options);
  torch::Tensor forward(torch::Tensor images);  // [B, 3, S, S] -> [B] logits, head(features(images))
  torch::Tensor features(torch::Tensor images);  // the backbone's last feature map [B, C, h, w]

  // A frozen backbone takes no gradient and stays in eval mode (BatchNorm uses running statistics),
  // as Keras treats a non-trainable base model.
  void set_backbone_frozen(bool frozen);
  bool backbone_frozen() const { return frozen_; }
  void train(bool on = true) override;

  torch::nn::Module& backbone() { return *backbone_.pointer; }
  const std::string& backbone_name() const { return backbone_.name; }
  ClassifierHead head{nullptr};

 private:
  models::Backbone backbone_;
  bool frozen_ = false;
};
TORCH_MODULE(CargoClassifier);

}  // namespace cargovision
