"""The training loop and what feeds it: the data loader, loss, precision, checkpoints, histories."""
