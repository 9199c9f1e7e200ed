"""Analyses over a trained model and data: pure functions (arrays in, arrays out); plotting apart."""
