"""Training: the Lightning Trainer's settings (`trainer`), its callbacks (`callbacks`) and the figures drawn
while and after a model trains (`figures`). `config` holds TrainConfig, torch-free for the CLI."""
