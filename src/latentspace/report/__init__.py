"""The study's HTML report: one self-contained file, every figure embedded."""
