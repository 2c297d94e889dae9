# Finds the llama.cpp that scripts/llama-cpp installs into the user's cache (or TELLTALE_LLAMA_PREFIX): the one place
# both the sampler integration and the verifier's GGUF tokenizer look. Sets llama_FOUND (target `llama`) and
# TELLTALE_LLAMA_MODELS_DIR (the release's ggml-vocab-*.gguf with their reference tokenizations; "" when absent).
include_guard(GLOBAL)
# Where scripts/llama-cpp installs the pinned llama.cpp (keep the version in step with that script).
if(DEFINED ENV{XDG_CACHE_HOME})
  set(telltale_llama_cache "$ENV{XDG_CACHE_HOME}")
else()
  set(telltale_llama_cache "$ENV{HOME}/.cache")
endif()
set(TELLTALE_LLAMA_PREFIX "${telltale_llama_cache}/telltale/llama.cpp-node-3.22.1/prefix"
    CACHE PATH "The llama.cpp install to build against (scripts/llama-cpp lib)")
find_package(llama CONFIG QUIET HINTS "${TELLTALE_LLAMA_PREFIX}")
set(TELLTALE_LLAMA_MODELS_DIR "")
get_filename_component(telltale_llama_src "${TELLTALE_LLAMA_PREFIX}/../src/models" ABSOLUTE)
if(llama_FOUND AND EXISTS "${telltale_llama_src}/ggml-vocab-llama-bpe.gguf")
  set(TELLTALE_LLAMA_MODELS_DIR "${telltale_llama_src}")
endif()
