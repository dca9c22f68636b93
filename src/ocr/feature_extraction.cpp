#include "cargovision/ocr/feature_extraction.h"

#include "cargovision/models/conv_batch_norm.h"
#include "cargovision/models/resnet.h"

namespace cargovision::ocr {
namespace nn = torch::nn;

namespace {

models::FastConv2d conv(int64_t in, int64_t out, torch::ExpandingArray<2> kernel, torch::ExpandingArray<2> stride,
                torch::ExpandingArray<2> padding, bool bias) {
  return models::FastConv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias));
}

nn::MaxPool2d max_pool(torch::ExpandingArray<2> kernel, torch::ExpandingArray<2> stride,
                       torch::ExpandingArray<2> padding = 0) {
  return nn::MaxPool2d(nn::MaxPool2dOptions(kernel).stride(stride).padding(padding));
}

}  // namespace

ConvSequence make_vgg(int64_t input_channel, int64_t output_channel) {
  const int64_t c1 = output_channel / 8, c2 = output_channel / 4, c3 = output_channel / 2, c4 = output_channel;
  ConvSequence net;
  net->push_back(conv(input_channel, c1, 3, 1, 1, true));   // 0
  net->push_back(nn::ReLU(true));
  net->push_back(max_pool(2, 2));
  net->push_back(conv(c1, c2, 3, 1, 1, true));              // 3
  net->push_back(nn::ReLU(true));
  net->push_back(max_pool(2, 2));
  net->push_back(conv(c2, c3, 3, 1, 1, true));              // 6
  net->push_back(nn::ReLU(true));
  net->push_back(conv(c3, c3, 3, 1, 1, true));              // 8
  net->push_back(nn::ReLU(true));
  net->push_back(max_pool({2, 1}, {2, 1}));
  net->push_back(conv(c3, c4, 3, 1, 1, false));             // 11
  net->push_back(models::BatchNorm2d(c4));
  net->push_back(nn::ReLU(true));
  net->push_back(conv(c4, c4, 3, 1, 1, false));             // 14
  net->push_back(models::BatchNorm2d(c4));
  net->push_back(nn::ReLU(true));
  net->push_back(max_pool({2, 1}, {2, 1}));
  net->push_back(conv(c4, c4, 2, 1, 0, true));              // 18
  net->push_back(nn::ReLU(true));
  return net;
}

GrclUnitImpl::GrclUnitImpl(int64_t channels) {
  BN_gfu = register_module("BN_gfu", models::BatchNorm2d(channels));
  BN_grx = register_module("BN_grx", models::BatchNorm2d(channels));
  BN_fu = register_module("BN_fu", models::BatchNorm2d(channels));
  BN_rx = register_module("BN_rx", models::BatchNorm2d(channels));
  BN_Gx = register_module("BN_Gx", models::BatchNorm2d(channels));
}

torch::Tensor GrclUnitImpl::forward(const torch::Tensor& wgf_u, const torch::Tensor& wgr_x, const torch::Tensor& wf_u,
                                    const torch::Tensor& wr_x) {
  const auto gate = torch::sigmoid(BN_gfu->forward(wgf_u) + BN_grx->forward(wgr_x));
  return (BN_fu->forward(wf_u) + BN_Gx->forward(BN_rx->forward(wr_x) * gate)).relu_();
}

GrclImpl::GrclImpl(int64_t input_channel, int64_t output_channel, int64_t iterations) {
  wgf_u = register_module("wgf_u", conv(input_channel, output_channel, 1, 1, 0, false));
  wgr_x = register_module("wgr_x", conv(output_channel, output_channel, 1, 1, 0, false));
  wf_u = register_module("wf_u", conv(input_channel, output_channel, 3, 1, 1, false));
  wr_x = register_module("wr_x", conv(output_channel, output_channel, 3, 1, 1, false));
  BN_x_init = register_module("BN_x_init", models::BatchNorm2d(output_channel));
  GRCL = register_module("GRCL", nn::ModuleList());
  for (int64_t i = 0; i < iterations; ++i) GRCL->push_back(GrclUnit(output_channel));
}

torch::Tensor GrclImpl::forward(torch::Tensor input) {
  const auto gate_input = wgf_u->forward(input);
  const auto feed_input = wf_u->forward(input);
  auto x = BN_x_init->forward(feed_input).relu_();
  for (const auto& unit : *GRCL) {
    x = unit->as<GrclUnitImpl>()->forward(gate_input, wgr_x->forward(x), feed_input, wr_x->forward(x));
  }
  return x;
}

ConvSequence make_rcnn(int64_t input_channel, int64_t output_channel) {
  const int64_t c1 = output_channel / 8, c2 = output_channel / 4, c3 = output_channel / 2, c4 = output_channel;
  ConvSequence net;
  net->push_back(conv(input_channel, c1, 3, 1, 1, true));  // 0
  net->push_back(nn::ReLU(true));
  net->push_back(max_pool(2, 2));
  net->push_back(Grcl(c1, c1));                            // 3
  net->push_back(max_pool(2, 2));
  net->push_back(Grcl(c1, c2));                            // 5
  net->push_back(max_pool(2, {2, 1}, {0, 1}));
  net->push_back(Grcl(c2, c3));                            // 7
  net->push_back(max_pool(2, {2, 1}, {0, 1}));
  net->push_back(conv(c3, c4, 2, 1, 0, false));            // 9
  net->push_back(models::BatchNorm2d(c4));
  net->push_back(nn::ReLU(true));
  return net;
}

OcrResNetImpl::OcrResNetImpl(int64_t input_channel, int64_t output_channel) {
  const int64_t blocks[4] = {output_channel / 4, output_channel / 2, output_channel, output_channel};
  int64_t inplanes = output_channel / 8;
  conv0_1 = register_module("conv0_1", conv(input_channel, output_channel / 16, 3, 1, 1, false));
  bn0_1 = register_module("bn0_1", models::BatchNorm2d(output_channel / 16));
  conv0_2 = register_module("conv0_2", conv(output_channel / 16, inplanes, 3, 1, 1, false));
  bn0_2 = register_module("bn0_2", models::BatchNorm2d(inplanes));
  layer1 = register_module("layer1", make_layer(inplanes, blocks[0], 1));
  conv1 = register_module("conv1", conv(blocks[0], blocks[0], 3, 1, 1, false));
  bn1 = register_module("bn1", models::BatchNorm2d(blocks[0]));
  layer2 = register_module("layer2", make_layer(inplanes, blocks[1], 2));
  conv2 = register_module("conv2", conv(blocks[1], blocks[1], 3, 1, 1, false));
  bn2 = register_module("bn2", models::BatchNorm2d(blocks[1]));
  layer3 = register_module("layer3", make_layer(inplanes, blocks[2], 5));
  conv3 = register_module("conv3", conv(blocks[2], blocks[2], 3, 1, 1, false));
  bn3 = register_module("bn3", models::BatchNorm2d(blocks[2]));
  layer4 = register_module("layer4", make_layer(inplanes, blocks[3], 3));
  conv4_1 = register_module("conv4_1", conv(blocks[3], blocks[3], 2, {2, 1}, {0, 1}, false));
  bn4_1 = register_module("bn4_1", models::BatchNorm2d(blocks[3]));
  conv4_2 = register_module("conv4_2", conv(blocks[3], blocks[3], 2, 1, 0, false));
  bn4_2 = register_module("bn4_2", models::BatchNorm2d(blocks[3]));
}

torch::nn::Sequential OcrResNetImpl::make_layer(int64_t& inplanes, int64_t planes, int blocks) {
  nn::Sequential layer;
  layer->push_back(models::BasicBlock(inplanes, planes, 1));
  inplanes = planes;
  for (int i = 1; i < blocks; ++i) layer->push_back(models::BasicBlock(inplanes, planes, 1));
  return layer;
}

models::BlockedNetwork OcrResNetImpl::blocked_layers() const {
  return models::BlockedNetwork()
      .conv_batch_norm_relu(conv0_1, bn0_1)
      .conv_batch_norm_relu(conv0_2, bn0_2)
      .max_pool(2, 2, 0)
      .residual_layer(layer1)
      .conv_batch_norm_relu(conv1, bn1)
      .max_pool(2, 2, 0)
      .residual_layer(layer2)
      .conv_batch_norm_relu(conv2, bn2)
      .max_pool(2, {2, 1}, {0, 1})
      .residual_layer(layer3)
      .conv_batch_norm_relu(conv3, bn3)
      .residual_layer(layer4)
      .conv_batch_norm_relu(conv4_1, bn4_1)
      .conv_batch_norm_relu(conv4_2, bn4_2)
      .only_with_onednn_winograd();
}

torch::Tensor OcrResNetImpl::forward(torch::Tensor x) {
  if (models::BlockedNetwork::may_run(x)) {  // at inference: the same layers, run as one network
    const auto blocked = blocked_layers().forward(x);
    if (blocked.defined()) return blocked;
  }
  namespace F = torch::nn::functional;
  x = models::conv_batch_norm(conv0_1, bn0_1, x).relu_();
  x = models::conv_batch_norm(conv0_2, bn0_2, x).relu_();
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2));
  x = models::conv_batch_norm(conv1, bn1, layer1->forward(x)).relu_();
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2));
  x = models::conv_batch_norm(conv2, bn2, layer2->forward(x)).relu_();
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride({2, 1}).padding({0, 1}));
  x = models::conv_batch_norm(conv3, bn3, layer3->forward(x)).relu_();
  x = layer4->forward(x);
  x = models::conv_batch_norm(conv4_1, bn4_1, x).relu_();
  return models::conv_batch_norm(conv4_2, bn4_2, x).relu_();
}

FeatureExtractorImpl::FeatureExtractorImpl(const std::string& name, int64_t input_channel, int64_t output_channel) {
  TORCH_CHECK(output_channel >= 16 && output_channel % 16 == 0, "output_channel must be a multiple of 16, got ",
              output_channel);
  if (name == "VGG") {
    conv_net_ = nn::AnyModule(make_vgg(input_channel, output_channel));
  } else if (name == "RCNN") {
    conv_net_ = nn::AnyModule(make_rcnn(input_channel, output_channel));
  } else if (name == "ResNet") {
    conv_net_ = nn::AnyModule(OcrResNet(input_channel, output_channel));
  } else {
    TORCH_CHECK(false, "unknown FeatureExtraction '", name, "' (valid: VGG, RCNN, ResNet)");
  }
  register_module("ConvNet", conv_net_.ptr());
}

}  // namespace cargovision::ocr
