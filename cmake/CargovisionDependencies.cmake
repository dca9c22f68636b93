# Every dependency comes from Debian 12 packages; scripts/setup.sh installs them.

set(CARGOVISION_TORCH_MIN_VERSION 1.13)
find_package(Torch QUIET)
if(NOT Torch_FOUND)
  message(FATAL_ERROR
    "cargovision: LibTorch was not found. Install it with 'bash scripts/setup.sh' "
    "(Debian package libtorch-dev) or point CMAKE_PREFIX_PATH at a LibTorch >= ${CARGOVISION_TORCH_MIN_VERSION}.")
endif()
# Debian's TorchConfigVersion lives beside Caffe2; fall back to it when Torch_VERSION is empty.
if(NOT Torch_VERSION AND Caffe2_VERSION)
  set(Torch_VERSION ${Caffe2_VERSION})
endif()
if(Torch_VERSION AND Torch_VERSION VERSION_LESS CARGOVISION_TORCH_MIN_VERSION)
  message(FATAL_ERROR
    "cargovision: LibTorch ${Torch_VERSION} is too old; ${CARGOVISION_TORCH_MIN_VERSION} or newer is required "
    "(torch::pickle_save/pickle_load zip checkpoints, nn::functional::grid_sample options).")
endif()
message(STATUS "cargovision: LibTorch ${Torch_VERSION}")

# Data-parallel training uses LibTorch's c10d Gloo process group, whose header includes Gloo's (Debian's
# libgloo-dev; LibTorch links the same libgloo).
find_path(CARGOVISION_GLOO_INCLUDE_DIR gloo/algorithm.h)
if(NOT CARGOVISION_GLOO_INCLUDE_DIR)
  message(FATAL_ERROR "cargovision: Gloo's headers were not found. Install them with 'bash scripts/setup.sh' (Debian package libgloo-dev).")
endif()

find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs freetype)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(LMDB REQUIRED)
find_package(Threads REQUIRED)
# export_onnx writes ONNX files through ONNX's own protobuf classes and checks them with its checker (Debian's
# libonnx-dev; LibTorch links the same libonnx).
find_package(Protobuf REQUIRED)
find_package(ONNX CONFIG QUIET)
if(NOT ONNX_FOUND)
  message(FATAL_ERROR "cargovision: ONNX was not found. Install it with 'bash scripts/setup.sh' (Debian package libonnx-dev).")
endif()
# The library links ONNX by its files: the onnx target's compile definitions (ONNX_ML, ONNX_NAMESPACE) must reach
# only src/export/onnx_graph.cpp, or they would differ from the precompiled header the other targets share.
set(CARGOVISION_ONNX_LIBRARIES)
foreach(onnx_target onnx onnx_proto)
  get_target_property(onnx_file ${onnx_target} IMPORTED_LOCATION_RELEASE)
  if(NOT onnx_file)
    get_target_property(onnx_file ${onnx_target} IMPORTED_LOCATION)
  endif()
  list(APPEND CARGOVISION_ONNX_LIBRARIES ${onnx_file})
endforeach()
list(APPEND CARGOVISION_ONNX_LIBRARIES ${Protobuf_LIBRARIES})

# oneDNN is the library LibTorch itself runs its CPU convolutions on (Debian's libtorch links libdnnl2); its
# headers (libdnnl-dev) let models::FastConv2d call the Winograd kernels LibTorch does not expose. Optional:
# without them FastConv2d is plain torch::nn::Conv2d. Linking it adds no library: LibTorch already loads it.
find_package(OneDNN 2 MODULE QUIET)
if(OneDNN_FOUND)
  message(STATUS "cargovision: oneDNN ${OneDNN_VERSION} (Winograd convolutions, packed LSTMs)")
else()
  message(STATUS "cargovision: oneDNN headers not found (libdnnl-dev); convolutions use LibTorch's kernels only")
endif()
