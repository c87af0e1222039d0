"""Measurements of a trained generator: the paper's Parzen-window protocol and MNIST-native metrics."""
