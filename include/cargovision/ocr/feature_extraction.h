#pragma once
// Stage 2 of the recognizer: VGG (CRNN), RCNN (GRCNN) and ResNet (FAN) feature extractors, each held
// under the attribute ConvNet as in the original, so state-dict keys read FeatureExtraction.ConvNet.*.

#include <torch/torch.h>

#include <string>

#include "cargovision/models/batch_norm.h"
#include "cargovision/models/blocked_network.h"
#include "cargovision/models/fast_conv2d.h"

namespace cargovision::ocr {

// A Sequential whose forward is a plain Tensor -> Tensor, so it can be stored in an AnyModule.
class ConvSequenceImpl : public torch::nn::SequentialImpl {
 public:
  using torch::nn::SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return torch::nn::SequentialImpl::forward(x); }
};
TORCH_MODULE(ConvSequence);

// One recurrent step of a gated recurrent convolution layer (its five BatchNorms).
class GrclUnitImpl : public torch::nn::Module {
 public:
  explicit GrclUnitImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& wgf_u, const torch::Tensor& wgr_x, const torch::Tensor& wf_u,
                        const torch::Tensor& wr_x);
  models::BatchNorm2d BN_gfu{nullptr}, BN_grx{nullptr}, BN_fu{nullptr}, BN_rx{nullptr}, BN_Gx{nullptr};
};
TORCH_MODULE(GrclUnit);

class GrclImpl : public torch::nn::Module {
 public:
  GrclImpl(int64_t input_channel, int64_t output_channel, int64_t iterations = 5);
  torch::Tensor forward(torch::Tensor input);
  models::FastConv2d wgf_u{nullptr}, wgr_x{nullptr}, wf_u{nullptr}, wr_x{nullptr};
  models::BatchNorm2d BN_x_init{nullptr};
  torch::nn::ModuleList GRCL{nullptr};
};
TORCH_MODULE(Grcl);

// The FAN-style ResNet of the original; its blocks are torchvision's BasicBlock (models/resnet.h) at
// stride 1, with the same names (conv1 bn1 conv2 bn2 downsample.0/.1).
class OcrResNetImpl : public torch::nn::Module {
 public:
  OcrResNetImpl(int64_t input_channel, int64_t output_channel);
  torch::Tensor forward(torch::Tensor x);
  // Every layer as one BlockedNetwork (models/blocked_network.h): how forward() runs them at inference.
  models::BlockedNetwork blocked_layers() const;

 private:
  torch::nn::Sequential make_layer(int64_t& inplanes, int64_t planes, int blocks);
  models::FastConv2d conv0_1{nullptr}, conv0_2{nullptr}, conv1{nullptr}, conv2{nullptr}, conv3{nullptr},
      conv4_1{nullptr}, conv4_2{nullptr};
  models::BatchNorm2d bn0_1{nullptr}, bn0_2{nullptr}, bn1{nullptr}, bn2{nullptr}, bn3{nullptr}, bn4_1{nullptr},
      bn4_2{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
};
TORCH_MODULE(OcrResNet);

// FeatureExtraction: {ConvNet}. name is "VGG", "RCNN" or "ResNet".
class FeatureExtractorImpl : public torch::nn::Module {
 public:
  FeatureExtractorImpl(const std::string& name, int64_t input_channel, int64_t output_channel);
  torch::Tensor forward(torch::Tensor x) { return conv_net_.forward(x); }

 private:
  torch::nn::AnyModule conv_net_;
};
TORCH_MODULE(FeatureExtractor);

ConvSequence make_vgg(int64_t input_channel, int64_t output_channel);
ConvSequence make_rcnn(int64_t input_channel, int64_t output_channel);

}  // namespace cargovision::ocr
