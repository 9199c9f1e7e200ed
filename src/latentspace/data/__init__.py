"""Datasets: the registry (`registry`, torch-free), locating and downloading (`download`), the IDX reader
(`idx`), images in memory (`images`) and batches for Lightning (`loader`)."""
