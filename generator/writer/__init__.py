"""The writer: deterministic YAML, file headers, and the atomic swap of out/."""
