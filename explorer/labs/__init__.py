"""Labs: one layer's arithmetic, exercises, the receptive field of every layer, export as PyTorch."""
