"""Analyses of a trained model and its data: arrays in, arrays out. No run directories, no files, no plots."""
