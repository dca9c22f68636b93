# `cmake --install build [--prefix P]`: the library, its headers, the apps, the shipped models and a CMake
# package, so another project can `find_package(cargovision)` and link `cargovision::cargovision`.
include(CMakePackageConfigHelpers)

set(CARGOVISION_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/cargovision)

install(TARGETS cargovision EXPORT cargovisionTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS preprocess cargovision_test_app synth_cargo create_lmdb train_ocr demo_ocr synth_ocr pack_ocr_model
                export_onnx
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cargovision DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The shipped recognizer, where the apps (and CodeRecognizer::shipped) look for it in an installed tree.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cargovision/models
        FILES_MATCHING PATTERN "*.pth" PATTERN "*.json" PATTERN "README.md"
        PATTERN "pretrain" EXCLUDE)  # pretraining's snapshot (scripts/pretrain_ocr.sh), not a model to use
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cargovision/configs)

install(EXPORT cargovisionTargets NAMESPACE cargovision:: DESTINATION ${CARGOVISION_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cargovisionConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cargovisionConfig.cmake
                              INSTALL_DESTINATION ${CARGOVISION_INSTALL_CMAKEDIR}
                              PATH_VARS CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cargovisionConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cargovisionConfig.cmake ${PROJECT_BINARY_DIR}/cargovisionConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindLMDB.cmake
        DESTINATION ${CARGOVISION_INSTALL_CMAKEDIR})
