"""valuegrad's neural nets: the lesson's perceptrons and network, losses, optimizers, training."""

from autograd import __version__
from nn import datasets
from nn.compiled import CompiledStep, compile_step
from nn.layers import MLP, Dense, Perceptron, Sequential
from nn.losses import cross_entropy, hinge, log_loss, log_loss_with_logits, mse
from nn.module import Module
from nn.network import TwoLayerNetwork, analytic_gradients
from nn.optim import SGD, Adam, Optimizer
from nn.pytorch import from_torch, to_torch
from nn.train import History, accuracy, fit, predict

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "CompiledStep",
    "Dense",
    "History",
    "Module",
    "Optimizer",
    "Perceptron",
    "Sequential",
    "TwoLayerNetwork",
    "__version__",
    "accuracy",
    "analytic_gradients",
    "compile_step",
    "cross_entropy",
    "datasets",
    "fit",
    "from_torch",
    "hinge",
    "log_loss",
    "log_loss_with_logits",
    "mse",
    "predict",
    "to_torch",
]
