//! Embedded llama.cpp backend (GGUF) behind the llama feature.
